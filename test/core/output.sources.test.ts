import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJobOutputWatcher, JobNotFoundError, JobTransportError } from '../../src/core';
import { manualFrames, outputServer, parts, seqs, settle } from './output.fakes';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('output watcher: sources', () => {
  it('polls readOutput every second without push, and stops when a page says done', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pollClient(), scheduleFrame: frames.schedule });
    server.grow(2);
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(0);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'polling', lastSeq: 2, done: false });
    server.grow(4);
    await vi.advanceTimersByTimeAsync(999);
    expect(server.reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    frames.flush();
    expect(seqs(watcher.getSnapshot('job-1').parts)).toEqual([1, 2, 3, 4]);
    expect(server.reads.map((r) => r.after)).toEqual([0, 2]);
    server.finish();
    await vi.advanceTimersByTimeAsync(1000);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ done: true, connection: 'idle' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.reads).toHaveLength(3);
    watcher.dispose();
  });

  it('reads on at once while pages come back full', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pollClient(), scheduleFrame: frames.schedule });
    server.grow(1200);
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(0);
    frames.flush();
    expect(server.reads.map((r) => r.after)).toEqual([0, 500, 1000]);
    expect(watcher.getSnapshot('job-1').lastSeq).toBe(1200);
    watcher.dispose();
  });

  it('a client with neither output method is not supported, without an error or a request', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.bareClient(), scheduleFrame: frames.schedule });
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(5000);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ supported: false, error: null, connection: 'idle' });
    watcher.dispose();
  });

  it('JobNotFoundError is fatal: watching stops', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pollClient(), scheduleFrame: frames.schedule });
    server.vanish();
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(0);
    frames.flush();
    const s = watcher.getSnapshot('job-1');
    expect(s.error).toBeInstanceOf(JobNotFoundError);
    expect(s.connection).toBe('idle');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.reads).toHaveLength(1);
    watcher.dispose();
  });

  it('a fatal subscription error stops too; a transient read error is retried with backoff', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pollClient(), scheduleFrame: frames.schedule, random: () => 0 });
    server.grow(3);
    server.failNextReads(1);
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(0);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'error', lastSeq: 0 });
    expect(watcher.getSnapshot('job-1').error?.message).toBe('read failed');
    await vi.advanceTimersByTimeAsync(1000);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'polling', lastSeq: 3, error: null });

    const pushServer = outputServer('job-2');
    watcher.setClient(pushServer.pushClient());
    watcher.watch('job-2');
    pushServer.open()[0]!.listener.error!(new JobNotFoundError('job-2'));
    frames.flush();
    expect(watcher.getSnapshot('job-2').error).toBeInstanceOf(JobNotFoundError);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pushServer.subscriptions).toHaveLength(1);
    watcher.dispose();
  });

  it("a client's own AbortError (its timeout, not a stop) is retried like any other failure, never ends polling", async () => {
    const server = outputServer();
    const frames = manualFrames();
    const client = server.pollClient();
    let timeouts = 1;
    const watcher = createJobOutputWatcher({
      client: {
        ...client,
        readOutput(id, o) {
          if (timeouts-- > 0) return Promise.reject(new DOMException('The request timed out.', 'AbortError'));
          return client.readOutput!(id, o);
        },
      },
      scheduleFrame: frames.schedule,
      random: () => 0,
    });
    server.grow(2);
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(0);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'error', lastSeq: 0 });
    await vi.advanceTimersByTimeAsync(1000);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'polling', lastSeq: 2, error: null });
    watcher.dispose();
  });

  it('resubscribes with backoff after an error, from the last delivered seq', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pushClient(), scheduleFrame: frames.schedule, random: () => 0 });
    watcher.watch('job-1');
    server.grow(5);
    server.push([1, 2, 3]);
    server.open()[0]!.listener.error!(new JobTransportError('stream broke'));
    frames.flush();
    expect(watcher.getSnapshot('job-1').connection).toBe('error');
    expect(server.open()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.subscriptions).toHaveLength(2);
    expect(server.subscriptions[1]!.after).toBe(3);
    server.catchUp();
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'live', lastSeq: 5, error: null });
    expect(seqs(watcher.getSnapshot('job-1').parts)).toEqual([1, 2, 3, 4, 5]);
    watcher.dispose();
  });

  it('a dropped connection shows as error until parts come again', () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pushClient(), scheduleFrame: frames.schedule });
    watcher.watch('job-1');
    server.grow(2);
    server.push([1]);
    server.open()[0]!.listener.disconnected!(new Error('dropped'));
    frames.flush();
    expect(watcher.getSnapshot('job-1').connection).toBe('error');
    server.push([1, 2]);
    frames.flush();
    expect(watcher.getSnapshot('job-1')).toMatchObject({ connection: 'live', lastSeq: 2 });
    expect(server.subscriptions).toHaveLength(1);
    watcher.dispose();
  });

  it('watch, release, watch (StrictMode) keeps one subscription; the last release tears it down after the grace', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pushClient(), scheduleFrame: frames.schedule, graceMs: 100 });
    const first = watcher.watch('job-1');
    first.release();
    const second = watcher.watch('job-1');
    const third = watcher.watch('job-1');
    expect(server.subscriptions).toHaveLength(1);
    second.release();
    third.release();
    third.release();
    await vi.advanceTimersByTimeAsync(99);
    expect(server.open()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.open()).toHaveLength(0);
    watcher.dispose();
  });

  it('notifies at most once per frame: 1000 parts pushed one by one cost one notification', () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pushClient(), scheduleFrame: frames.schedule });
    watcher.watch('job-1');
    frames.flush();
    const listener = vi.fn();
    watcher.subscribe('job-1', listener);
    server.grow(1000);
    for (let seq = 1; seq <= 1000; seq++) server.push([seq]);
    expect(listener).not.toHaveBeenCalled();
    frames.flush();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(watcher.getSnapshot('job-1').lastSeq).toBe(1000);
    expect(watcher.getSnapshot('job-1').text).toBe(parts(1, 1000).map((p) => p.text).join(''));
    frames.flush();
    expect(listener).toHaveBeenCalledTimes(1);
    watcher.dispose();
  });

  it('nothing starts before a watch', async () => {
    const server = outputServer();
    const schedule = vi.fn(() => () => {});
    createJobOutputWatcher({ client: server.pushClient(), scheduleFrame: schedule });
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.subscriptions).toHaveLength(0);
    expect(server.reads).toHaveLength(0);
    expect(schedule).not.toHaveBeenCalled();
  });

  it('without a scheduler it batches on a timer where there is no requestAnimationFrame', async () => {
    const server = outputServer();
    const watcher = createJobOutputWatcher({ client: server.pushClient() });
    watcher.watch('job-1');
    const listener = vi.fn();
    watcher.subscribe('job-1', listener);
    server.grow(3);
    server.push([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(20);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(watcher.getSnapshot('job-1').lastSeq).toBe(3);
    watcher.dispose();
  });
});

describe('output watcher: a hidden page', () => {
  it('polling waits while the page is hidden or offline and goes on once it is back', async () => {
    let visible = false;
    const environment = { isVisible: () => visible, isOnline: () => true, subscribe: () => () => {} };
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pollClient(), scheduleFrame: frames.schedule, environment });
    server.grow(2);
    watcher.watch('job-1');
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.reads).toHaveLength(0);
    visible = true;
    await vi.advanceTimersByTimeAsync(1000);
    frames.flush();
    expect(server.reads).toHaveLength(1);
    expect(watcher.getSnapshot('job-1').lastSeq).toBe(2);
    watcher.dispose();
  });
});
