// app/providers.tsx — a client component; app/layout.tsx wraps its {children} in <Providers>.
'use client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { createFetchJobClient, JobClientProvider } from 'jobwatch';

export function Providers({ children }: { children: ReactNode }) {
  // One QueryClient per browser tab and per server request: never one at module scope.
  const [queryClient] = useState(() => new QueryClient());
  const [jobClient] = useState(() => createFetchJobClient({ baseUrl: '/api/jobs' }));
  return (
    <QueryClientProvider client={queryClient}>
      <JobClientProvider client={jobClient}>{children}</JobClientProvider>
    </QueryClientProvider>
  );
}
