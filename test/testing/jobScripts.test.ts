import { createMemoryJobBackend, imageGeneration, jobScripts } from '../../src/testing';
import type { ImageGenerationResult } from '../../src/testing';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('imageGeneration', () => {
  it('queues 1.5 s, then runs 8 s through its named steps with an ETA, and completes with an image', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create(imageGeneration({ meta: { projectId: 'p1', prompt: 'A fox in the snow' } }));

    backend.advance(1500);
    expect(backend.get(id)).toMatchObject({ status: 'processing', progressMessage: 'Preparing prompt', estimatedCompletionAt: at(9500) });
    const messages: Array<string | null | undefined> = [];
    for (let i = 0; i < 3; i++) {
      backend.advance(2000);
      messages.push(backend.get(id)?.progressMessage);
    }
    expect(messages).toEqual(['Generating image', 'Upscaling', 'Saving']);

    backend.advance(2000);
    const job = backend.get(id)!;
    expect(job).toMatchObject({ status: 'completed', finishedAt: at(9500), meta: { projectId: 'p1' } });
    const { images } = job.result as ImageGenerationResult;
    expect(images).toEqual([{ id: `${id}-image-1`, url: expect.stringMatching(/^data:image\/svg\+xml,/), alt: 'Generated image: A fox in the snow' }]);
    expect(decodeURIComponent(images[0]!.url)).toMatch(/<rect [^>]*fill="hsl\(\d+,70%,55%\)"/);
  });

  it('draws the same colour for the same id and differing colours for different ids', () => {
    const url = (jobId: string) => {
      const backend = createMemoryJobBackend();
      backend.create(imageGeneration({ id: jobId }));
      backend.advance(10_000);
      return (backend.get(jobId)?.result as ImageGenerationResult).images[0]!.url;
    };
    expect(url('job_1')).toBe(url('job_1'));
    expect(new Set(['job_1', 'job_2', 'job_3'].map(url)).size).toBe(3);
  });

  it('lets overrides replace any field', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create(imageGeneration({ runningMs: 1000, result: 'plain' }));
    backend.advance(2500);
    expect(backend.get(id)).toMatchObject({ status: 'completed', result: 'plain' });
  });
});

describe('failingJob', () => {
  it('fails every attempt and ends failed after its retries with a readable message', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create(jobScripts.failingJob());
    backend.advance(4000);
    expect(backend.get(id)).toMatchObject({ status: 'pending', retryCount: 1 });
    backend.advance(60_000);
    const job = backend.get(id)!;
    expect(job).toMatchObject({ status: 'failed', retryCount: 2, maxRetries: 2 });
    expect(job.error?.message).toMatch(/timeout/i);

    await backend.retry(id);
    backend.advance(60_000);
    expect(backend.get(id)).toMatchObject({ status: 'failed', retryCount: 3 });
  });
});

describe('generated images', () => {
  it('gives consecutive jobs clearly different colours', async () => {
    const backend = createMemoryJobBackend();
    const hues = ['job_1', 'job_3', 'job_5'].map((id) => {
      const job = backend.create(imageGeneration({ id }));
      backend.complete(job.id);
      const url = (backend.get(job.id)!.result as ImageGenerationResult | undefined)?.images[0]?.url ?? '';
      return Number(/hsl\((\d+)/.exec(decodeURIComponent(url))?.[1]);
    });
    for (let i = 0; i < hues.length; i++) {
      for (let j = i + 1; j < hues.length; j++) {
        const distance = Math.min(Math.abs(hues[i]! - hues[j]!), 360 - Math.abs(hues[i]! - hues[j]!));
        expect(distance).toBeGreaterThan(15);
      }
    }
  });
});
