// main.tsx — runs as it is: the in-memory backend plays the server, no API needed yet.
import { createRoot } from 'react-dom/client';
import { createMemoryJobBackend, imageGeneration } from 'jobwatch/testing';
import { App } from './App';

// A complete JobClient whose jobs follow a script in real time.
const backend = createMemoryJobBackend();

const api = {
  // Each click starts a scripted image generation: queued 1.5 s, then 8 s of progress.
  generateImage: async ({ prompt }: { prompt: string }) => ({
    jobId: backend.create(imageGeneration({ meta: { prompt } })).id,
  }),
  refreshImages: () => console.log('Image ready: refresh the gallery here'),
};

createRoot(document.getElementById('root')!).render(<App client={backend} api={api} />);
