// vitest globalSetup: build once (rollup for d.js, tsc for the server), so that tests run what
// `npm start` and the landing pages get. CRUMB_SKIP_BUILD=1 reuses dist/ while iterating.
import { execFileSync } from 'node:child_process';

export default function setup() {
  if (process.env.CRUMB_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
