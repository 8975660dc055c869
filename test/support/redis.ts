import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
