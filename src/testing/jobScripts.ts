import type { Job } from '../contract/types';
import type { JobSpec } from './createMemoryJobBackend';

/** What an {@link imageGeneration} job produces. */
export interface ImageGenerationResult {
  /** The generated images: one, for the preset. */
  images: Array<{
    /** `<job id>-image-1`. */
    id: string;
    /** An inline SVG data URI: a square whose colour follows from the job id. */
    url: string;
    /** `Generated image: <meta.prompt>`, or `Generated image` without a prompt. */
    alt: string;
  }>;
}

/**
 * A realistic AI image generation: 1.5 s queued, then 8 s processing through
 * "Preparing prompt", "Generating image", "Upscaling" and "Saving" (progress
 * 0, ¼, ½, ¾, then 1), with an estimated completion time. It completes with
 * an {@link ImageGenerationResult}; set `meta.prompt` to give the image its alt text.
 *
 * @param overrides any {@link JobSpec} field, e.g. `{ meta: { projectId } }` or `{ failures: 1 }`
 * @example backend.create(imageGeneration({ meta: { projectId: 'p1', prompt: 'A fox in the snow' } }))
 */
export function imageGeneration(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    queuedMs: 1500,
    runningMs: 8000,
    steps: ['Preparing prompt', 'Generating image', 'Upscaling', 'Saving'],
    reportEta: true,
    // Computed at completion, so each job's image follows from its own id.
    result: (job: Job): ImageGenerationResult => {
      const prompt = job.meta?.prompt;
      return {
        images: [
          {
            id: `${job.id}-image-1`,
            url: colouredSquare(job.id),
            alt: typeof prompt === 'string' && prompt !== '' ? `Generated image: ${prompt}` : 'Generated image',
          },
        ],
      };
    },
    ...overrides,
  };
}

/**
 * A generation that never succeeds: 1 s queued, 3 s processing per attempt,
 * 2 retries 1 s apart, then `failed` with a realistic error message. A manual
 * `retry` fails again; pass `{ failures: 3 }` to let it succeed instead.
 *
 * @param overrides any {@link JobSpec} field
 */
export function failingJob(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    queuedMs: 1000,
    runningMs: 3000,
    steps: ['Preparing prompt', 'Generating image'],
    failures: Infinity,
    maxRetries: 2,
    retryDelayMs: 1000,
    errorMessage: 'The image model did not respond in time (upstream timeout). Please try again later.',
    ...overrides,
  };
}

/** The preset job scripts, for `backend.create(jobScripts.imageGeneration())`. */
export const jobScripts = {
  /** {@link imageGeneration}: queued 1.5 s, then 8 s of progress, completed with one image. */
  imageGeneration,
  /** {@link failingJob}: a job that fails on every attempt. */
  failingJob,
} as const;

/** A 64×64 SVG square whose hue is a hash of `seed`, so the same id always gets the same colour. */
function colouredSquare(seed: string): string {
  let hash = 2166136261; // FNV-1a
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  // Final avalanche, so ids differing in one character (job_1, job_3) get distant hues.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  const hue = (hash >>> 0) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" fill="hsl(${hue},70%,55%)"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
