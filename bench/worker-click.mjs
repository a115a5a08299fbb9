// The click redirect through the Workers build (dist/worker.js under workerd, Miniflare's HTTP port,
// D1 on local disk) beside the Node server (dist/server/node.js, SQLite) in one run, and /d.js (no
// store) on both, to tell the runtime's share from the store's: wrk pinned to core 1, each server
// (and its children: workerd) pinned to core 0, 50 connections, rounds alternating, the generator's
// CPU printed. Miniflare simulates the edge on one machine, so only the ratios mean anything.
//   npm run build:worker && node bench/worker-click.mjs [seconds per round, default 5] [rounds, default 2]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const [seconds = '5', rounds = '2'] = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'crumb-bench-worker-'));
const network = {
  network: { name: 'Bench', internal_affiliate_id: 1, global_redirect_url: null, reqid_secret: 'bench-secret-that-is-at-least-32-characters' },
  api_keys: ['bench-api-key-0123'],
  tracking_domains: [{ tracking_domain_id: 1, domain: '127.0.0.1', is_default: true }],
  affiliates: [{ affiliate_id: 1, affiliate_name: 'Internal' }, { affiliate_id: 67890, affiliate_name: 'A' }],
  advertisers: [{ advertiser_id: 5, advertiser_name: 'Q' }],
  offers: [{ offer_id: 12345, offer_name: 'O', advertiser_id: 5, offer_url: 'https://lp.example.com/?reqid=#reqid#&sub=#s1#', payout: 1, revenue: 2 }],
  creatives: [{ creative_id: 1057, offer_id: 12345 }],
  campaigns: [{ campaign_id: 3870, affiliate_id: 67890, offer_id: 12345, ckm_key: 'bench-campaign-key' }],
};
writeFileSync(join(work, 'network.json'), JSON.stringify(network));
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', TMPDIR: work };

function start(args, ready) {
  const proc = spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 60_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1] });
      }
    });
  });
}

// The worker: Miniflare in a child process (so that it and workerd are pinned), migrated D1.
const workerScript = join(work, 'worker.mjs');
writeFileSync(
  workerScript,
  `import { Miniflare } from ${JSON.stringify(join(ROOT, 'node_modules/miniflare/dist/src/index.js'))};
import { d1Migrations } from ${JSON.stringify(join(ROOT, 'dist/server/worker/migrations.js'))};
const mf = new Miniflare({ modules: true, scriptPath: ${JSON.stringify(join(ROOT, 'dist/worker.js'))}, compatibilityDate: '2026-04-20',
  cf: false, host: '127.0.0.1', port: 0, d1Databases: { DB: 'bench' }, d1Persist: ${JSON.stringify(join(work, 'd1'))},
  bindings: { CRUMB_NETWORK: ${JSON.stringify(JSON.stringify(network))} } });
const url = await mf.ready;
const db = await mf.getD1Database('DB');
for (const f of d1Migrations()) await db.exec(f.text.replace(/^--.*$/gm, '').replace(/\\s*\\n\\s*/g, ' '));
console.log('listening on ' + url.origin);
process.on('SIGTERM', () => mf.dispose().then(() => process.exit(0)));
`,
);
const servers = {
  node: await start(['dist/server/node.js', '--config', join(work, 'network.json'), '--db', join(work, 'node.db'), '--host', '127.0.0.1', '--port', '0'], /listening on (http:\/\/\S+:\d+)/),
  worker: await start([workerScript], /listening on (http:\/\/\S+:\d+)/),
};

const PATHS = { click: '/?a=67890&c=1057&s1=bench', 'd.js': '/d.js' };

function wrk(url) {
  const run = spawnSync('/usr/bin/time', ['-f', 'generator CPU %P', 'taskset', '-c', '1', 'wrk', '-t1', '-c50', `-d${seconds}s`, '--latency', url], {
    encoding: 'utf8',
  });
  return `${run.stdout}${run.stderr}`;
}
const rates = {};
try {
  for (const s of Object.values(servers)) s.url = s.url.replace('localhost', '127.0.0.1');
  for (const s of Object.values(servers)) wrk(`${s.url}${PATHS.click}`); // warm up
  for (let r = 0; r < Number(rounds); r++) {
    for (const [path, query] of Object.entries(PATHS)) {
      for (const [name, s] of Object.entries(servers)) {
        const text = wrk(`${s.url}${query}`);
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
        const other = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? '0';
        const p99 = /^\s+99%\s+(\S+)/m.exec(text)?.[1];
        const cpu = /generator CPU (\S+)/.exec(text)?.[1];
        (rates[`${path} ${name}`] ??= []).push(rps);
        console.log(`round ${r + 1} ${path.padEnd(5)} ${name.padEnd(6)} ${rps.toFixed(0).padStart(6)} req/s  p99 ${p99}  non-2xx/3xx ${other}  generator CPU ${cpu}`);
      }
    }
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const path of Object.keys(PATHS)) {
    console.log(`worker / node, ${path}: ${(mean(rates[`${path} worker`]) / mean(rates[`${path} node`])).toFixed(2)}`);
  }
} finally {
  for (const s of Object.values(servers)) s.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  rmSync(work, { recursive: true, force: true });
}
