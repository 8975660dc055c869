import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Reads `read()` every 50 ms until `ok` accepts its value, and returns that value;
 * fails after `timeoutMs`, naming `what` and the last value seen.
 */
export async function until<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}
