/**
 * `jobwatch/testing`: the reference in-memory backend with a controllable
 * clock, and preset job scripts, for tests, stories and demos. No React.
 */
export { createMemoryJobBackend } from './createMemoryJobBackend';
export type {
  JobSpec,
  JobSpecOutput,
  JobSpecOutputPart,
  JobSpecStep,
  JobSpecTextOutput,
  MemoryBackendCall,
  MemoryBackendMethod,
  MemoryJobBackend,
  MemoryJobBackendOptions,
  MemoryJobSeed,
  MemoryOutputReadOptions,
  MemoryOutputSubscribeOptions,
  MemoryRequestOptions,
} from './createMemoryJobBackend';
export { failingJob, imageGeneration, jobScripts } from './jobScripts';
export type { ImageGenerationResult } from './jobScripts';
