#!/usr/bin/env node
// pretest: makes sure the tools `npm test` runs are there, before anything else starts.
//
//   Chromium      the Storybook and msw3 projects (and the catalogue check) launch it headless
//                 through Playwright; browsers are never downloaded.
//   redis-server  the BullMQ store tests start and stop their own, on a unix socket.
//
// Found (findTools.mjs): CHROMIUM_PATH / REDIS_SERVER_PATH when set, else PATH, then /usr/bin,
// /usr/sbin, /usr/local/bin, /usr/lib/chromium, /snap/bin. vitest.config.ts and
// test/support/redis.ts use the same lookup, so the tools found here are the tools the tests run.
//
// Missing, as root on Debian/Ubuntu (apt-get on PATH): installed with
//   apt-get update && apt-get install -y --no-install-recommends chromium redis-server
// (DEBIAN_FRONTEND=noninteractive, waiting up to 300 s for the dpkg lock). Otherwise it stops at
// once with exit 1 and the command to run. It never lets a suite skip for want of a tool.
//
// For its own tests (test/setup/ensureTools.test.ts): JOBWATCH_ASSUME_NO_APT=1 acts as if apt-get
// were missing, JOBWATCH_ASSUME_NOT_ROOT=1 / JOBWATCH_ASSUME_ROOT=1 as if (not) root, and
// JOBWATCH_TOOL_DIRS replaces the fixed directories.
import { spawnSync } from 'node:child_process';
import { findChromium, findExecutable, findRedisServer, isExecutable } from './findTools.mjs';

const env = process.env;
const PREFIX = 'jobwatch pretest:';

/** The Debian package, what it is for, and where the tests look for it. */
const TOOLS = [
  { name: 'Chromium', pkg: 'chromium', variable: 'CHROMIUM_PATH', find: findChromium, forWhat: 'the Storybook and browser tests' },
  { name: 'redis-server', pkg: 'redis-server', variable: 'REDIS_SERVER_PATH', find: findRedisServer, forWhat: 'the BullMQ store tests' },
];

function fail(lines) {
  console.error([`${PREFIX} cannot run the tests yet.`, ...lines].join('\n'));
  process.exit(1);
}

/** Each tool with the path found (`null` when missing) and whether that path came from its variable. */
function resolveTools() {
  return TOOLS.map((tool) => {
    const found = tool.find(env);
    return { ...tool, found, explicit: Boolean(env[tool.variable]), ok: found !== null && isExecutable(found) };
  });
}

let tools = resolveTools();

// A path the user gave explicitly is never replaced by another one behind their back.
const wrong = tools.filter((tool) => tool.explicit && !tool.ok);
if (wrong.length > 0) {
  fail(
    wrong.flatMap((tool) => [
      `  ${tool.variable}=${env[tool.variable]} is not an executable file.`,
      `  Point it at ${tool.name}, e.g.: ${tool.variable}=/usr/bin/${tool.pkg} npm test  (or unset it to use the one on PATH)`,
    ]),
  );
}

let missing = tools.filter((tool) => !tool.ok);
if (missing.length > 0) {
  const packages = missing.map((tool) => tool.pkg);
  const aptGet = env.JOBWATCH_ASSUME_NO_APT === '1' ? null : findExecutable(['apt-get'], env);
  const root =
    env.JOBWATCH_ASSUME_NOT_ROOT === '1'
      ? false
      : env.JOBWATCH_ASSUME_ROOT === '1' || (typeof process.getuid === 'function' && process.getuid() === 0);
  const what = `${missing.map((tool) => `${tool.name} (${tool.forWhat})`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'}`;

  if (aptGet && root) {
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    const lock = ['-o', 'DPkg::Lock::Timeout=300'];
    const steps = [
      [...lock, 'update'],
      [...lock, 'install', '-y', '--no-install-recommends', ...packages],
    ];
    console.log(`${PREFIX} ${what} missing: installing ${packages.join(' ')} with apt-get (Debian packages; browsers are never downloaded)`);
    for (const args of steps) {
      console.log(`${PREFIX} $ DEBIAN_FRONTEND=noninteractive apt-get ${args.join(' ')}`);
      const result = spawnSync(aptGet, args, { env: aptEnv, stdio: 'inherit' });
      if (result.status !== 0) {
        fail([
          `  apt-get ${args.includes('update') ? 'update' : 'install'} failed (${result.error ? result.error.message : `exit ${result.status}`}).`,
          `  Install ${packages.join(' and ')} yourself, then run npm test again:`,
          `    apt-get install -y --no-install-recommends ${packages.join(' ')}`,
        ]);
      }
    }
    tools = resolveTools();
    missing = tools.filter((tool) => !tool.ok);
    if (missing.length > 0) {
      fail([
        `  apt-get installed ${packages.join(' ')}, but ${missing.map((tool) => tool.name).join(' and ')} is still not found.`,
        `  Run the tests with its path: ${missing.map((tool) => `${tool.variable}=/path/to/${tool.pkg}`).join(' ')} npm test`,
      ]);
    }
  } else if (aptGet) {
    fail([
      `  ${what} missing, and installing needs root. Run:`,
      `    sudo apt-get install ${packages.join(' ')}`,
      `  or point the tests at your own: ${missing.map((tool) => `${tool.variable}=/path/to/${tool.pkg}`).join(' ')} npm test`,
    ]);
  } else {
    fail([
      `  ${what} missing, and there is no apt-get to install ${missing.length > 1 ? 'them' : 'it'} with.`,
      `  Install ${missing.map((tool) => tool.name).join(' and ')} with your system's package manager, then run:`,
      `    ${missing.map((tool) => `${tool.variable}=/path/to/${tool.pkg}`).join(' ')} npm test`,
    ]);
  }
}

console.log(`${PREFIX} ${tools.map((tool) => `${tool.name} ${tool.found}`).join(' · ')}`);
