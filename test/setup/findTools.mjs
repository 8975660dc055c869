// Where the test tools are: Chromium (the Storybook and browser projects launch it through
// Playwright; browsers are never downloaded) and redis-server (the BullMQ tests start their own).
// One lookup, used by test/setup/ensureTools.mjs (pretest), vitest.config.ts and
// test/support/redis.ts, so the tool the check found is the tool the tests run.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Directories searched after PATH when `JOBWATCH_TOOL_DIRS` does not replace them. */
export const DEFAULT_TOOL_DIRS = Object.freeze(['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/lib/chromium', '/snap/bin']);
/** Names Chromium goes by, in order of preference (Debian, Ubuntu, Google's builds). */
export const CHROMIUM_NAMES = Object.freeze(['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']);

/** Whether `file` is a regular file this process may execute. */
export function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directories searched for a tool: every PATH entry, then `JOBWATCH_TOOL_DIRS`
 * (colon-separated; set, even empty, it replaces the defaults — for tests) or {@link DEFAULT_TOOL_DIRS}.
 */
export function searchDirs(env = process.env) {
  const fixed = env.JOBWATCH_TOOL_DIRS === undefined ? DEFAULT_TOOL_DIRS : env.JOBWATCH_TOOL_DIRS.split(path.delimiter);
  return [...(env.PATH ?? '').split(path.delimiter), ...fixed].filter((dir) => dir !== '');
}

/** The first executable called one of `names` in {@link searchDirs}, or `null`. Names are tried in order. */
export function findExecutable(names, env = process.env) {
  const dirs = searchDirs(env);
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

/** Chromium: `CHROMIUM_PATH` when set (whether or not it exists: the caller checks), else the first one found, else `null`. */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  return findExecutable(CHROMIUM_NAMES, env);
}

/** redis-server: `REDIS_SERVER_PATH` when set (the caller checks it), else the first one found (PATH, /usr/bin, /usr/sbin, …), else `null`. */
export function findRedisServer(env = process.env) {
  if (env.REDIS_SERVER_PATH) return env.REDIS_SERVER_PATH;
  return findExecutable(['redis-server'], env);
}
