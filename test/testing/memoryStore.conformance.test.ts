import { createMemoryJobBackend } from '../../src/testing';
import { describeJobStoreConformance } from '../support/jobStoreConformance';

/** Parts kept per job in this fixture, small so the suite's trimming test stays quick. */
const MAX_OUTPUT_PARTS = 10;

// The in-memory backend is the reference JobStore; its sync controls wrapped as the suite's async ones.
describeJobStoreConformance('createMemoryJobBackend', async () => {
  const backend = createMemoryJobBackend({ maxOutputParts: MAX_OUTPUT_PARTS });
  return {
    store: backend,
    controls: {
      create: async (spec) => backend.create(spec).id,
      start: async (id) => void backend.start(id),
      progress: async (id, fraction, message) => void backend.progress(id, fraction, message),
      complete: async (id, result) => void backend.complete(id, result),
      fail: async (id, message) => void backend.fail(id, message),
    },
    output: {
      appendOutput: async (id, part) => void backend.appendOutput(id, part),
      maxParts: MAX_OUTPUT_PARTS,
    },
    teardown: async () => undefined,
  };
});
