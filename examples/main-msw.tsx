// main.tsx, over HTTP: the real fetch client against a mock server in a service worker.
// Once: `npx msw init public --save` (copies mockServiceWorker.js into public/).
import { setupWorker } from 'msw/browser';
import { createRoot } from 'react-dom/client';
import { createFetchJobClient } from 'jobwatch';
import { createJobHandlers } from 'jobwatch/msw';
import { createMemoryJobBackend, imageGeneration } from 'jobwatch/testing';
import { App } from './App';

const backend = createMemoryJobBackend();
const worker = setupWorker(...createJobHandlers({ backend, baseUrl: '/api/jobs' }));

const api = {
  generateImage: async ({ prompt }: { prompt: string }) => ({
    jobId: backend.create(imageGeneration({ meta: { prompt } })).id,
  }),
  refreshImages: () => console.log('Image ready: refresh the gallery here'),
};

// Start the worker first, so the very first request is answered by it.
void worker.start({ onUnhandledRequest: 'bypass' }).then(() => {
  const client = createFetchJobClient({ baseUrl: '/api/jobs' });
  createRoot(document.getElementById('root')!).render(<App client={client} api={api} />);
});
