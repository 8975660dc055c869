// Placeholder until the real check lands: finds Chromium and redis-server or fails at once.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) { console.error(`Chromium not found at ${chromium}: run apt-get install chromium`); process.exit(1); }
try { execSync('command -v redis-server', { stdio: 'ignore', shell: '/bin/sh' }); } catch { console.error('redis-server not found: run apt-get install redis-server'); process.exit(1); }
