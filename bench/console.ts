// The console's dashboard on a big store: the time from choosing "Last 30 days" to the chart drawn
// (four summary reports and two delivery counts answered, the page rebuilt, uPlot drawn), in
// Debian's Chromium, on a SQLite file written by the seed tool.
//   npm run build && npm run seed -- --clicks 1000000 --days 30 --db /tmp/seed.db
//   tsc -p bench && node dist/bench/console.js /tmp/seed.db [runs]
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const [db, runsText = '5'] = process.argv.slice(2);
if (!db) {
  console.error('Usage: node dist/bench/console.js SEEDED_DB [runs]  (see the comment at the top of bench/console.ts)');
  process.exit(2);
}
const KEY = process.env.CRUMB_SEED_KEY ?? 'seed-admin-key';

const server = spawn(process.execPath, ['dist/server/node.js', '--host', '127.0.0.1', '--port', '0', '--db', db], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout!.on('data', (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  server.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
});

const browser = await chromium.launch({ executablePath: process.env.CRUMB_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${base}/console/`);
  await page.fill('#api-key', KEY);
  await page.click('button[type=submit]');
  await page.waitForSelector('.chart canvas', { timeout: 120_000 });
  const times: number[] = [];
  for (let i = 0; i < Number(runsText); i++) {
    for (const preset of ['today', '30d']) {
      await page.$eval('.chart', (el) => el.setAttribute('data-old', ''));
      const start = performance.now();
      await page.click(`[data-preset="${preset}"]`);
      await page.waitForSelector('.chart:not([data-old]) canvas', { timeout: 120_000 });
      if (preset === '30d') times.push(performance.now() - start);
    }
  }
  const points = await page.getAttribute('.chart', 'data-points');
  const clicks = await page.textContent('[data-metric=clicks] strong');
  times.sort((a, b) => a - b);
  console.log(`dashboard, last 30 days (${clicks} clicks, ${points} days in the chart): median ${times[times.length >> 1]!.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms over ${times.length} runs`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
