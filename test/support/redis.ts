import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { findRedisServer } from '../setup/findTools.mjs';

/** A real Redis server (Debian's redis-server) on a unix socket in a temp dir. */
export interface TestRedis {
  /** Path of the unix socket: `{ path: socket }` as ioredis / BullMQ connection options. */
  socket: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  /** Kills the server (clients lose their connections; default SIGTERM, or SIGKILL: no goodbye at all) and leaves its directory. */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, until `resume()`. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
  /** Starts a server again on the same socket (empty: nothing is persisted). */
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a throw-away redis-server (no persistence) and waits until its socket is open.
 * Fails with an install hint when redis-server is missing: these tests never mock Redis.
 */
export async function startRedis(): Promise<TestRedis> {
  // Found as the pretest check (test/setup/ensureTools.mjs) finds it: REDIS_SERVER_PATH, else PATH, /usr/bin, /usr/sbin, …
  const redisServer = findRedisServer() ?? 'redis-server';
  try {
    execFileSync(redisServer, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'redis-server is not installed: the BullMQ store tests need a real Redis. ' +
        'Install it with `apt-get install -y --no-install-recommends redis-server` (npm test\'s pretest does, as root), ' +
        'or give its path: REDIS_SERVER_PATH=/path/to/redis-server.',
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'jobwatch-redis-'));
  const socket = path.join(dir, 'r.sock');
  const pidFile = path.join(dir, 'r.pid');

  async function launch(): Promise<void> {
    execFileSync(redisServer, [
      '--port', '0',
      '--unixsocket', socket,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--pidfile', pidFile,
      '--daemonize', 'yes',
    ]);
    const deadline = Date.now() + 5000;
    while (!existsSync(socket) || !existsSync(pidFile)) {
      if (Date.now() > deadline) throw new Error(`redis-server did not open ${socket} within 5 s`);
      await sleep(20);
    }
  }

  const pidOf = (): number => Number(readFileSync(pidFile, 'utf8').trim());

  async function kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!existsSync(pidFile)) return;
    const pid = pidOf();
    try {
      process.kill(pid, 'SIGCONT'); // a paused server could not act on SIGTERM
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(20);
    }
    rmSync(pidFile, { force: true });
    rmSync(socket, { force: true });
  }

  await launch();
  return {
    socket,
    kill,
    pause: () => void (existsSync(pidFile) && process.kill(pidOf(), 'SIGSTOP')),
    resume: () => void (existsSync(pidFile) && process.kill(pidOf(), 'SIGCONT')),
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What `useTestRedis` gives a test file: its server, clean-ups after each test, and unique names. */
export interface TestRedisSuite {
  /** The running server (with `each: true`, this test's own); throws before the server started. */
  readonly redis: TestRedis;
  /**
   * Runs `fn` after the current test, before the server stops: clean-ups run last registered
   * first (a store closes before the queue it reads), and one that fails does not stop the others.
   */
  cleanup(fn: () => unknown): void;
  /** `${prefix}-${pid}-${n}`: a queue name no other test (or test process on this server) uses. */
  uniqueName(prefix: string): string;
}

/**
 * Gives the calling test file (or describe block) a real Redis: registers the hooks that start
 * a server before its tests (`each: true`: a new server for every test) and stop it after them,
 * and after each test runs the test's clean-ups. Before the clean-ups a server a test paused
 * (`redis.pause()`) is resumed, so they can reach it; on a running server that does nothing.
 * Hooks the file registers after this call run before its after-hooks (vitest runs after-hooks
 * last registered first): a file's own `afterAll` still reaches the server.
 */
export function useTestRedis(options: { each?: boolean } = {}): TestRedisSuite {
  let server: TestRedis | undefined;
  let names = 0;
  const cleanups: (() => unknown)[] = [];

  const start = async () => {
    server = await startRedis();
  };
  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  const runCleanups = async () => {
    server?.resume();
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()!();
      } catch {
        // a clean-up's failure (a connection already gone) is not the test's
      }
    }
  };

  if (options.each) {
    beforeEach(start, 15_000);
    afterEach(async () => {
      await runCleanups();
      await stop();
    }, 30_000);
  } else {
    beforeAll(start, 15_000);
    afterEach(runCleanups, 30_000);
    afterAll(stop, 30_000);
  }

  return {
    get redis() {
      if (!server) throw new Error('useTestRedis: no Redis server is running (it starts in the file\'s beforeAll / beforeEach)');
      return server;
    },
    cleanup: (fn) => void cleanups.push(fn),
    uniqueName: (prefix) => `${prefix}-${process.pid}-${++names}`,
  };
}
