#!/usr/bin/env node
// Package smoke test: packs the built package (`npm run build` first), installs
// the tarball into throwaway consumer projects with React 18 and React 19, and
// in each renders <JobStatus> to a string from the INSTALLED package, once
// through ESM (`import`) and once through CJS (`require`), and loads the
// `jobwatch/core`, `jobwatch/server` and `jobwatch/testing` entries in both
// formats. Run with `npm run test:package`. Exits non-zero on any failure.
//
// Env: JOBWATCH_SMOKE_KEEP=1 keeps the temp dir; JOBWATCH_SMOKE_REACT=18,19
// picks the React majors (default both).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const reactMajors = (process.env.JOBWATCH_SMOKE_REACT ?? '18,19').split(',').map((s) => s.trim()).filter(Boolean);
const keep = process.env.JOBWATCH_SMOKE_KEEP === '1';
const started = Date.now();
const secs = (from) => `${((Date.now() - from) / 1000).toFixed(1)} s`;

/** Runs a command; resolves with its output, rejects (with the output) on a non-zero exit. */
function run(cmd, args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${code}\n${out}`));
    });
  });
}

// The checks each consumer runs. `EXPECTED_REACT` is the React major installed.
const shared = String.raw`
const failures = [];
const check = (name, ok, detail = '') => {
  if (!ok) failures.push(name + (detail ? ': ' + detail : ''));
};

async function smoke({ React, renderToString, QueryClient, main, core, server, serverNode, http, testing, format, stylesPath }) {
  const h = React.createElement;
  check('React ' + process.env.EXPECTED_REACT + ' is the one loaded', React.version.startsWith(process.env.EXPECTED_REACT + '.'), React.version);
  for (const name of ['JobClientProvider', 'JobStatus', 'JobProgress', 'PendingJobsBadge', 'JobList', 'useJobStatus', 'jobKeys', 'JobNotFoundError']) {
    check('jobwatch exports ' + name, main[name] != null);
  }
  check('jobwatch/core exports JobNotFoundError', typeof core.JobNotFoundError === 'function');
  check('jobwatch/core exports isTerminal', typeof core.isTerminal === 'function' && core.isTerminal('completed') === true);
  check('jobwatch/server exports createJobHandler', typeof server.createJobHandler === 'function');
  check('jobwatch/testing exports createMemoryJobBackend', typeof testing.createMemoryJobBackend === 'function');
  check('jobwatch/styles.css resolves', typeof stylesPath === 'string' && stylesPath.endsWith('styles.css'), String(stylesPath));

  // The loading state: no QueryClient given, nothing fetched on the server.
  const backend = testing.createMemoryJobBackend();
  const pending = backend.create();
  const loading = renderToString(h(main.JobClientProvider, { client: backend }, h(main.JobStatus, { jobId: pending.id })));
  check('loading: role="status"', loading.includes('role="status"'), loading);
  check('loading: data-state="loading"', loading.includes('data-state="loading"'), loading);
  check('loading: text', loading.includes('Loading job status…'), loading);
  check('loading: no request on the server', backend.calls.length === 0, JSON.stringify(backend.calls));

  // A completed job, prefetched into the QueryClient as a server would.
  const done = backend.create();
  backend.complete(done.id);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  queryClient.setQueryData(main.jobKeys.status(done.id), await backend.getStatus(done.id));
  const completed = renderToString(
    h(main.JobClientProvider, { client: backend, queryClient },
      h(main.JobStatus, { jobId: done.id, detailed: true }),
      h(main.JobProgress, { jobId: done.id }),
    ),
  );
  check('completed: role="status"', completed.includes('role="status"'), completed);
  check('completed: data-state="completed"', completed.includes('data-state="completed"'), completed);
  check('completed: text', completed.includes('>Completed<'), completed);
  check('completed: progressbar at 100', completed.includes('role="progressbar"') && completed.includes('aria-valuenow="100"'), completed);
  queryClient.clear();

  // Over real HTTP from the tarball: node:http through jobwatch/server/node, ids . and .. included.
  check('jobwatch/core exports jobStatusQueryOptions', typeof core.jobStatusQueryOptions === 'function');
  check('jobwatch/server/node exports toNodeListener', typeof serverNode.toNodeListener === 'function');
  const store = testing.createMemoryJobBackend();
  const handler = server.createJobHandler({ store, basePath: '/api/jobs', authorize: () => ({ owner: 'u1' }) });
  const httpServer = http.createServer(serverNode.toNodeListener(handler));
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  try {
    const client = core.createFetchJobClient({ baseUrl: 'http://127.0.0.1:' + httpServer.address().port + '/api/jobs', push: false });
    for (const id of ['.', '..', 'a/b', 'caf\u00e9']) {
      store.create({ id, owner: 'u1' });
      const job = await client.getStatus(id).catch((e) => e);
      check('over HTTP: getStatus(' + JSON.stringify(id) + ') answers that job', job && job.id === id, String(job && (job.message || job.id)));
      const cancelled = await client.cancel(id).catch((e) => e);
      check('over HTTP: cancel(' + JSON.stringify(id) + ') cancels that job', cancelled && cancelled.status === 'cancelled', String(cancelled && (cancelled.message || cancelled.status)));
    }
    const bad = await fetch('http://127.0.0.1:' + httpServer.address().port + '//x').then((r) => r.status);
    check('over HTTP: a //x target answers 400 and the server lives on', bad === 400, String(bad));
  } finally {
    await new Promise((resolve) => httpServer.close(resolve));
  }

  // Errors from the testing backend are the entry's own classes.
  const error = await backend.getStatus('missing').catch((e) => e);
  check('JobNotFoundError from jobwatch/testing is instanceof jobwatch/core JobNotFoundError', error instanceof core.JobNotFoundError);
  check('… and of jobwatch JobNotFoundError', error instanceof main.JobNotFoundError);

  if (failures.length) {
    console.error('FAIL ' + format + ' (React ' + React.version + '):\n  - ' + failures.join('\n  - '));
    process.exit(1);
  }
  console.log('ok ' + format + ' (React ' + React.version + '): ' + loading.length + ' + ' + completed.length + ' chars of HTML');
}
`;

const esmCheck = `import React from 'react';
import { renderToString } from 'react-dom/server';
import { QueryClient } from '@tanstack/react-query';
import * as main from 'jobwatch';
import * as core from 'jobwatch/core';
import * as server from 'jobwatch/server';
import * as serverNode from 'jobwatch/server/node';
import * as http from 'node:http';
import * as testing from 'jobwatch/testing';
${shared}
const resolved = import.meta.resolve('jobwatch');
if (!resolved.endsWith('/node_modules/jobwatch/dist/index.js')) {
  console.error('FAIL esm: jobwatch resolved to ' + resolved);
  process.exit(1);
}
await smoke({ React, renderToString, QueryClient, main, core, server, serverNode, http, testing, format: 'esm', stylesPath: import.meta.resolve('jobwatch/styles.css') });
`;

const cjsCheck = `'use strict';
const React = require('react');
const { renderToString } = require('react-dom/server');
const { QueryClient } = require('@tanstack/react-query');
const main = require('jobwatch');
const core = require('jobwatch/core');
const server = require('jobwatch/server');
const serverNode = require('jobwatch/server/node');
const http = require('node:http');
const testing = require('jobwatch/testing');
${shared}
const resolved = require.resolve('jobwatch');
if (!resolved.endsWith('/node_modules/jobwatch/dist/index.cjs')) {
  console.error('FAIL cjs: jobwatch resolved to ' + resolved);
  process.exit(1);
}
smoke({ React, renderToString, QueryClient, main, core, server, serverNode, http, testing, format: 'cjs', stylesPath: require.resolve('jobwatch/styles.css') }).catch((e) => {
  console.error('FAIL cjs: ' + (e && e.stack || e));
  process.exit(1);
});
`;

async function consumer(tmp, tarball, major) {
  const dir = path.join(tmp, `react${major}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `jobwatch-smoke-react${major}`, version: '0.0.0', private: true }, null, 2));
  const t0 = Date.now();
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, `react@${major}`, `react-dom@${major}`, '@tanstack/react-query@5'],
    dir,
  );
  const installTime = secs(t0);
  writeFileSync(path.join(dir, 'check.mjs'), esmCheck);
  writeFileSync(path.join(dir, 'check.cjs'), cjsCheck);
  const results = [];
  for (const file of ['check.mjs', 'check.cjs']) {
    const out = await run(process.execPath, [file], dir, { EXPECTED_REACT: major }).then(
      (o) => ({ ok: true, out: o.trim() }),
      (e) => ({ ok: false, out: e.message.trim() }),
    );
    results.push({ file, ...out });
  }
  return { major, installTime, results };
}

let tmp;
let failed = false;
try {
  if (!existsSync(path.join(root, 'dist', 'index.js')) || !existsSync(path.join(root, 'dist', 'index.cjs'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test builds before this step).');
  }
  tmp = mkdtempSync(path.join(os.tmpdir(), 'jobwatch-smoke-'));
  console.log(`jobwatch package smoke test: ${pkg.name}@${pkg.version}, React ${reactMajors.join(' + ')}, in ${tmp}`);

  const t0 = Date.now();
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', tmp, '--loglevel=error'], root));
  const tarball = path.join(tmp, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  console.log(`packed ${packed[0].filename} (${packed[0].files.length} files, ${packed[0].size} bytes) in ${secs(t0)}`);
  for (const required of ['package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/styles.css', 'README.md']) {
    if (!files.includes(required)) throw new Error(`the tarball lacks ${required}`);
  }
  const stray = files.filter((f) => /^(src|test|stories|\.storybook)\//.test(f));
  if (stray.length) throw new Error(`the tarball ships sources or tests: ${stray.slice(0, 5).join(', ')}`);

  // The installs are mostly waiting on the cache and the network: run them side by side.
  const outcomes = await Promise.allSettled(reactMajors.map((major) => consumer(tmp, tarball, major)));
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') {
      failed = true;
      console.error(`FAIL React ${reactMajors[i]}: ${outcome.reason?.message ?? outcome.reason}`);
      continue;
    }
    const { major, installTime, results } = outcome.value;
    console.log(`React ${major}: installed in ${installTime}`);
    for (const r of results) {
      if (!r.ok) failed = true;
      console[r.ok ? 'log' : 'error'](`  ${r.ok ? '✓' : '✗'} ${r.file}: ${r.out.split('\n').join('\n    ')}`);
    }
  }
  console.log(`${failed ? 'FAILED' : 'passed'}: ${reactMajors.length * 2} consumer checks in ${secs(started)}`);
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error?.message ?? error}`);
} finally {
  if (tmp && !keep) rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`kept ${tmp}`);
}
process.exit(failed ? 1 : 0);
