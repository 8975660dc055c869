// worker.ts — its own process (`node worker.js`); run as many as you need, on any machine.
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { UnrecoverableError, Worker } from 'bullmq';
import { listenForCancels } from 'jobwatch/bullmq';
import { connection, generations, type GenerationData, type GenerationResult } from './bullmq-queue';

const STEPS = ['Reading the prompt', 'Sketching', 'Rendering', 'Upscaling'];

/** Your work, one step at a time (a model call, a render). Pass the signal on: a cancel aborts it. */
async function generateStep(prompt: string, step: string, signal?: AbortSignal): Promise<void> {
  await sleep(2000, undefined, { signal }); // stand-in
}

/** Starts a worker of the queue; `runStep` replaces the work (in tests, say). */
export async function startWorker(runStep = generateStep) {
  // The processor takes three parameters: BullMQ only hands a signal to those that do.
  const worker = new Worker<GenerationData, GenerationResult>(
    generations.name,
    async (job, _token, signal) => {
      for (const [i, step] of STEPS.entries()) {
        await job.updateProgress({ progress: Math.round((i / STEPS.length) * 100), message: step });
        await job.log(step); // a `log` part of the job's output (useJobOutput, <JobOutput>)
        try {
          await runStep(job.data.prompt, step, signal);
        } catch (error) {
          if (signal?.aborted) throw new UnrecoverableError('Cancelled'); // stop, no retry
          throw error;
        }
      }
      return { url: `/images/${job.id}.png` };
    },
    { connection },
  );
  worker.on('error', (error) => console.error('[worker]', error));
  const cancels = await listenForCancels(worker);
  return {
    worker,
    /** Takes no new job, lets the running ones finish, then disconnects. */
    async close() {
      await cancels.close();
      await worker.close();
    },
  };
}

// `node worker.js`: work until a deploy (SIGTERM) or Ctrl-C (SIGINT).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startWorker();
  const shutdown = async () => {
    await running.close();
    await generations.close();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
