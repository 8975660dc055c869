import { createMemoryJobBackend } from '../../src/testing';
import { describeJobStoreConformance } from '../support/jobStoreConformance';

// The in-memory backend is the reference JobStore; its sync controls wrapped as the suite's async ones.
describeJobStoreConformance('createMemoryJobBackend', async () => {
  const backend = createMemoryJobBackend();
  return {
    store: backend,
    controls: {
      create: async (spec) => backend.create(spec).id,
      start: async (id) => void backend.start(id),
      progress: async (id, fraction, message) => void backend.progress(id, fraction, message),
      complete: async (id, result) => void backend.complete(id, result),
      fail: async (id, message) => void backend.fail(id, message),
    },
    teardown: async () => undefined,
  };
});
