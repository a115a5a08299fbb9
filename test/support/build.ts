// vitest globalSetup: build once (rollup for d.js and the Workers bundle, tsc for the server), so
// that tests run what `npm start`, the landing pages and a Workers deploy get. CRUMB_SKIP_BUILD=1
// reuses dist/ while iterating.
import { execFileSync } from 'node:child_process';

export default function setup() {
  if (process.env.CRUMB_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', 'build:worker', '--silent'], { stdio: 'inherit' });
}
