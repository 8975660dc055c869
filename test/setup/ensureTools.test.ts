// @vitest-environment node
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium, findRedisServer } from './findTools.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ensureTools.mjs');
/** The script must stop at once when it cannot proceed: no prompt, no wait. */
const AT_ONCE_MS = 10_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'jobwatch-ensure-tools-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An executable shell script at `dir/name`. */
function executable(name: string, body = 'exit 0'): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * A fake apt-get: logs `DEBIAN_FRONTEND=… <args>` to dir/apt.log and, on `install`, "installs"
 * every package named (chromium, redis-server) as an executable in dir/installed.
 */
function fakeAptGet(exitCode = 0, installs = true): string {
  return executable(
    'apt-get',
    [
      `echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> "${dir}/apt.log"`,
      installs
        ? `case "$*" in *install*) /bin/mkdir -p "${dir}/installed"; for p in "$@"; do case "$p" in chromium|redis-server) printf '#!/bin/sh\\nexit 0\\n' > "${dir}/installed/$p"; /bin/chmod 755 "${dir}/installed/$p";; esac; done;; esac`
        : '',
      `exit ${exitCode}`,
    ].join('\n'),
  );
}

/** Runs the script with exactly `env` (nothing inherited: no CHROMIUM_PATH from the machine). */
function run(env: Record<string, string>) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

/** A PATH holding only `dir` and no fixed directories: neither tool can be found. */
const bare = (extra: Record<string, string> = {}) => ({ PATH: dir, JOBWATCH_TOOL_DIRS: '', ...extra });

describe('test/setup/ensureTools.mjs (pretest)', () => {
  it('without the tools and without apt-get: exit 1 at once, naming the command to run', () => {
    const result = run(bare({ JOBWATCH_ASSUME_NO_APT: '1' }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Chromium (the Storybook and browser tests) and redis-server (the BullMQ store tests) are missing');
    expect(result.stderr).toContain('CHROMIUM_PATH=/path/to/chromium REDIS_SERVER_PATH=/path/to/redis-server npm test');
    expect(result.ms).toBeLessThan(AT_ONCE_MS);
  });

  it('without the tools, with apt-get but not root: exit 1 with `sudo apt-get install chromium redis-server`, installing nothing', () => {
    fakeAptGet();
    const result = run(bare({ JOBWATCH_ASSUME_NOT_ROOT: '1' }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('    sudo apt-get install chromium redis-server\n');
    expect(existsSync(path.join(dir, 'apt.log'))).toBe(false);
    expect(result.ms).toBeLessThan(AT_ONCE_MS);
  });

  it('names only the missing tool: `sudo apt-get install redis-server` when Chromium is there', () => {
    fakeAptGet();
    const chromium = executable('chromium');
    const result = run(bare({ JOBWATCH_ASSUME_NOT_ROOT: '1', CHROMIUM_PATH: chromium }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('    sudo apt-get install redis-server\n');
    expect(result.stderr).not.toContain('install chromium');
  });

  it('with the tools on PATH: exit 0, printing the paths it found', () => {
    const chromium = executable('chromium');
    const redis = executable('redis-server');
    const result = run(bare({ JOBWATCH_ASSUME_NO_APT: '1' }));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Chromium ${chromium} · redis-server ${redis}`);
  });

  it('finds Chromium under its other names and redis-server in a fixed directory such as /usr/sbin', () => {
    const chromium = executable('chromium-browser');
    const sbin = mkdtempSync(path.join(dir, 'sbin-'));
    writeFileSync(path.join(sbin, 'redis-server'), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(sbin, 'redis-server'), 0o755);
    const result = run({ PATH: dir, JOBWATCH_TOOL_DIRS: sbin, JOBWATCH_ASSUME_NO_APT: '1' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Chromium ${chromium} · redis-server ${path.join(sbin, 'redis-server')}`);
  });

  it('as root with apt-get: installs the missing packages non-interactively, then passes', () => {
    fakeAptGet();
    const result = run({ PATH: dir, JOBWATCH_TOOL_DIRS: path.join(dir, 'installed'), JOBWATCH_ASSUME_ROOT: '1' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(path.join(dir, 'apt.log'), 'utf8').trim().split('\n')).toEqual([
      'DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=300 update',
      'DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium redis-server',
    ]);
    expect(result.stdout).toContain('installing chromium redis-server with apt-get');
    expect(result.stdout).toContain(`Chromium ${path.join(dir, 'installed', 'chromium')} · redis-server ${path.join(dir, 'installed', 'redis-server')}`);
  });

  it('as root, a failing apt-get: exit 1 with the install command', () => {
    fakeAptGet(100);
    const result = run(bare({ JOBWATCH_ASSUME_ROOT: '1' }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('apt-get update failed (exit 100)');
    expect(result.stderr).toContain('apt-get install -y --no-install-recommends chromium redis-server');
  });

  it('as root, apt-get "succeeding" without installing the tools: exit 1, never a quiet pass', () => {
    fakeAptGet(0, false);
    const result = run(bare({ JOBWATCH_ASSUME_ROOT: '1' }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is still not found');
  });

  it('a CHROMIUM_PATH that is not an executable: exit 1 naming it, without installing another Chromium', () => {
    fakeAptGet();
    executable('redis-server');
    const result = run(bare({ JOBWATCH_ASSUME_ROOT: '1', CHROMIUM_PATH: path.join(dir, 'no-such-chromium') }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`CHROMIUM_PATH=${path.join(dir, 'no-such-chromium')} is not an executable file`);
    expect(existsSync(path.join(dir, 'apt.log'))).toBe(false);
  });

  it('on this machine: passes and finds the same tools vitest.config.ts and test/support/redis.ts use', () => {
    const result = run({ PATH: process.env.PATH ?? '', ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}) });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Chromium ${findChromium()} · redis-server ${findRedisServer()}`);
  });
});
