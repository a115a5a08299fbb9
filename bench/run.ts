// The benchmark: the hot paths against two baselines in the same run, on the machine it runs on.
//   npm run bench -- [options]          SQLite; every path
//   npm run bench:pg -- [options]       PostgreSQL, one and two instances; click and conversion
//   npm run bench:memory -- [options]   RSS under a long load (the first of --paths: click)
// Options:
//   --paths click,lead,conversion,pixel  which paths
//   --rounds 3 --duration 10             rounds of DURATION s per server (fewer or shorter: a smoke run)
//   --connections 50 --warmup 3          wrk's connections; seconds of warm-up per server first
//   --network small|large                small: demo-sized (one offer, one affiliate, one campaign);
//                                        large: 10,000 offers, 10,000 affiliates and 50,000 campaigns
//                                        beside the small one, in the same rounds, with their ratio
//   --store sqlite|postgres              (bench:pg passes postgres)
//   --instances 1,2                      Crumb processes on one PostgreSQL database
//   --pg-url URL --pg-max N              default postgres://postgres@127.0.0.1:5432/test; pool size
//   --out bench/RESULTS.md               where the tables go (between its markers; the rest is kept);
//                                        a smoke run, or one of some of the paths, writes only
//                                        where --out is given
//   --memory                             the memory mode (bench:memory passes it): one Crumb process
//   --memory-first 60                    under a load of this many seconds, its RSS read after it;
//   --memory-long 300                    then a load of this many seconds, RSS sampled throughout,
//   --reader PATH --reader-delay 250     with a reader on one connection asking PATH on Crumb (a
//                                        report: /api/2/click.json?api_key=bench-api-key-0001)
//                                        every DELAY ms; --reader again for more readers, each on
//                                        a connection of its own
//   --memory-db FILE                     start from a copy of this SQLite store (one `npm run seed`
//                                        wrote: readers then ask for millions of rows); the bench
//                                        network is imported beside the seed's
//
// First, on each network, how long a change takes to apply (bench/change.ts). Then for each path:
// Crumb (the built Node entry on a fresh store, once per network), a bare node:http
// server and Hono with no storage (bench/baseline.ts, bench/hono.ts, both answering what the path
// answers) are started, pinned to one core; wrk (bench/load.ts, bench/wrk.lua) drives each in turn
// from the other core, round after round, and the generator's, the servers' and the database's CPU
// are read for every round. Then Crumb is stopped and every id it answered is looked up in the
// store. The tables go into bench/RESULTS.md between markers (one pair per store, one for memory),
// keeping the hand-written analysis around them. wrk is installed from Debian when missing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ensureWrk, load, type LoadResult } from './load.js';
import { benchNetwork, type BenchNetwork, type NetworkSize } from './network.js';
import { BENCH_API_KEY, pathNamed, type PathSpec } from './paths.js';
import { connectAdmin, postgresStore, type BenchStore } from './postgres.js';
import { CRUMB_NODE_FLAGS, nodeServer, rssMiB, start, type Proc } from './processes.js';
import { dScriptSizes, fmt, memoryReport, report, roundLine, writeSection, type MemoryRun, type Row, type RunInfo } from './report.js';
import { roundOrder } from './order.js';
import { changeReport, timeChanges, type ChangeRun } from './change.js';
import { sqliteStore } from './sqlite.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    paths: { type: 'string' },
    network: { type: 'string', default: 'small' },
    instances: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' },
    out: { type: 'string' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'pg-max': { type: 'string' },
    memory: { type: 'boolean', default: false },
    'memory-first': { type: 'string', default: '60' },
    'memory-long': { type: 'string', default: '300' },
    reader: { type: 'string', multiple: true },
    'memory-db': { type: 'string' },
    'reader-delay': { type: 'string', default: '250' },
  },
});

function count(name: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} takes a number of at least ${min}, not ${value}`);
  return n;
}

const store = args.store as 'sqlite' | 'postgres';
if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite or postgres, not ${args.store}`);
const allPaths = store === 'sqlite' ? 'click,lead,conversion,pixel' : 'click,conversion';
const paths = (args.paths ?? allPaths).split(',').map((p) => pathNamed(p.trim()));
// The tables in RESULTS.md are a whole run's: one of some paths would replace the others' with nothing.
const somePaths = !args.memory && allPaths.split(',').some((name) => !paths.some((p) => p.name === name));
if (args.network !== 'small' && args.network !== 'large') throw new Error(`--network must be small or large (large runs beside small), not ${args.network}`);
const networks: NetworkSize[] = args.network === 'large' ? ['small', 'large'] : ['small'];
const instanceCounts = (args.instances ?? (store === 'sqlite' ? '1' : '1,2')).split(',').map((n) => count('instances', n.trim()));
// SQLite is one process's embedded database: several instances are a PostgreSQL deployment.
if (store === 'sqlite' && instanceCounts.some((n) => n !== 1)) throw new Error('--instances above 1 needs --store postgres');
const rounds = Math.round(count('rounds', args.rounds));
const duration = Math.round(count('duration', args.duration));
const connections = Math.round(count('connections', args.connections));
const warmup = Math.round(count('warmup', args.warmup, 0));
const pgMax = args['pg-max'] === undefined ? undefined : Math.round(count('pg-max', args['pg-max']));
const memoryFirst = Math.round(count('memory-first', args['memory-first']));
const memoryLong = Math.round(count('memory-long', args['memory-long']));
const readerDelay = count('reader-delay', args['reader-delay'], 0);
const readers = args.reader ?? [];
for (const r of readers) if (!r.startsWith('/')) throw new Error(`--reader takes a path on Crumb such as /api/2/clicks.json?api_key=..., not ${r}`);
if (args['memory-db'] !== undefined && (store !== 'sqlite' || !args.memory)) throw new Error('--memory-db is for the memory mode on SQLite (npm run bench:memory)');

const CLICKS = { small: 2_000, large: 10_000 } satisfies Record<NetworkSize, number>;
/** Network changes timed per network size. */
const CHANGES = 5;
/** Where each kind of run writes in the results file (and the heading it adds when missing). */
const SECTIONS = {
  sqlite: { start: '<!-- results:start (written by npm run bench) -->', end: '<!-- results:end -->', heading: '' },
  postgres: {
    start: '<!-- results-postgres:start (written by npm run bench:pg) -->',
    end: '<!-- results-postgres:end -->',
    heading: '## PostgreSQL store, one and two instances (`npm run bench:pg`)\n\n',
  },
  memory: {
    start: '<!-- results-memory:start (written by npm run bench:memory) -->',
    end: '<!-- results-memory:end -->',
    heading: '## Memory (`npm run bench:memory`)\n\n',
  },
};
const write = (section: keyof typeof SECTIONS, text: string, smoke: boolean) => {
  // A smoke run's figures, or a run of some of the paths, must not replace a whole measurement:
  // they go only where --out says.
  if ((smoke || somePaths) && !args.out) {
    console.log(`${smoke ? 'A smoke run' : 'A run of some of the paths'}: not written to bench/RESULTS.md (pass --out FILE to keep it).`);
    return;
  }
  const { start, end, heading } = SECTIONS[section];
  writeSection(args.out ?? 'bench/RESULTS.md', start, end, text, heading);
};

/** One network's Crumb: its instances on one store, its traffic file, where its answers' ids go. */
interface Deployment {
  network: BenchNetwork;
  store: BenchStore;
  crumbs: Proc[];
  /** The path's traffic file for wrk (bench/wrk.lua's data). */
  data: string;
  ids: string;
  idFiles: string[];
  answered: number;
  failed: number;
  errors: number;
  failure: string | null;
}

let seq = 0;
const nextSeq = () => ++seq * 1_000_000_000;

async function startCrumbs(network: BenchNetwork, config: string, db: BenchStore, instances: number, lifetime: number): Promise<Proc[]> {
  const crumbs: Proc[] = [];
  // One at a time: the first creates the schema, the others find it (concurrent starts are the
  // multi-instance test's business, not the benchmark's). A large network takes longer to load.
  for (let i = 0; i < instances; i++) {
    const command = nodeServer('dist/server/node.js', ['--config', config, '--db', db.url, '--host', '127.0.0.1', '--port', '0'], CRUMB_NODE_FLAGS);
    const label = `crumb (${network.size} network${instances > 1 ? `, instance ${i + 1}` : ''})`;
    crumbs.push(await start(command, label, lifetime, network.size === 'large' ? 180 : 30));
  }
  return crumbs;
}

/** The traffic of a path: every campaign's tracking link for clicks; for the rest, clicks made
 * now (their reqids and offers), spread over the campaigns. */
async function traffic(path: PathSpec, network: BenchNetwork, url: string, file: string) {
  if (path.traffic === 'campaigns') {
    writeFileSync(file, `a c\n${network.pairs.map((p) => `${p.a} ${p.c}`).join('\n')}\n`);
    return;
  }
  const rows: string[] = [];
  const total = CLICKS[network.size];
  for (let i = 0; i < total; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, total - i) }, async (_, k) => {
        const p = network.pairs[(i + k) % network.pairs.length]!;
        const answer = await fetch(`${url}/?a=${p.a}&c=${p.c}&s1=pool`, { redirect: 'manual' });
        const reqid = /reqid=([\w-]+)/.exec(answer.headers.get('location') ?? '')?.[1];
        if (!reqid) throw new Error(`making clicks: ${url} answered ${answer.status} without a reqid: ${await answer.text()}`);
        return `${reqid} ${p.offer}`;
      }),
    );
    rows.push(...batch);
  }
  writeFileSync(file, `reqid offer\n${rows.join('\n')}\n`);
}

/** Runs wrk against a deployment, reading the answers, and keeps the tally. */
async function loadCrumb(d: Deployment, path: PathSpec, seconds: number, dir: string): Promise<LoadResult> {
  const dbPids = await d.store.backendPids();
  const x = await load({
    urls: d.crumbs.map((c) => c.url),
    path,
    data: d.data,
    connections,
    seconds,
    seq: nextSeq(),
    ids: `${d.ids}-${d.idFiles.length}`,
    serverPids: d.crumbs.map((c) => c.pid),
    dbPids: store === 'postgres' ? dbPids : undefined,
    dir,
  });
  d.idFiles.push(...x.idFiles);
  d.answered += x.answered;
  d.failed += x.failed;
  d.errors += x.errors;
  d.failure ??= x.failure;
  return x;
}

function readIds(files: string[]): string[] {
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
}

async function verify(d: Deployment, path: PathSpec) {
  const ids = readIds(d.idFiles);
  const { stored, missing } = await d.store.verify(path.name, ids, d.answered);
  if (d.failure) console.log(`  ${d.network.size}: the first failed answer was: ${d.failure}`);
  // The pixel's answer carries no id: only its count is compared.
  return { idsWritten: path.success.id ? ids.length : null, stored, missing };
}

/** One path, at one instance count: the baselines and one Crumb per network, round after round. */
async function benchPath(path: PathSpec, instances: number, stores: (size: NetworkSize) => Promise<BenchStore>, configs: Map<NetworkSize, string>): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), `crumb-bench-${path.name}-`));
  const lifetime = warmup * 4 + rounds * (networks.length + 2) * (duration + 15) + 900;
  const deployments: Deployment[] = [];
  const servers: Proc[] = [];
  const label = `${path.name}${instances > 1 ? ` ×${instances}` : ''}`;
  try {
    const bare = await start(nodeServer('dist/bench/baseline.js', [path.name]), 'bare baseline', lifetime);
    servers.push(bare);
    const hono = await start(nodeServer('dist/bench/hono.js', [path.name]), 'Hono baseline', lifetime);
    servers.push(hono);
    for (const size of networks) {
      const network = benchNetwork(size);
      const db = await stores(size);
      const d: Deployment = { network, store: db, crumbs: [], data: join(dir, `traffic-${size}.txt`), ids: join(dir, `ids-${size}`), idFiles: [], answered: 0, failed: 0, errors: 0, failure: null };
      deployments.push(d);
      d.crumbs = await startCrumbs(network, configs.get(size)!, db, instances, lifetime);
      await traffic(path, network, d.crumbs[0]!.url, d.data);
    }
    // The baselines get the first network's traffic: the same requests, nothing behind them.
    const data = deployments[0]!.data;
    const baseline = (server: Proc, seconds: number) =>
      load({ urls: [server.url], path, data, connections, seconds, seq: nextSeq(), ids: null, serverPids: [server.pid], dir });

    type Target = [string, (seconds: number) => Promise<LoadResult>];
    const targets: Target[] = [
      ['bare', (s) => baseline(bare, s)],
      ['Hono', (s) => baseline(hono, s)],
      ...deployments.map((d): Target => [networks.length > 1 ? `Crumb ${d.network.size}` : 'Crumb', (s) => loadCrumb(d, path, s, dir)]),
    ];
    if (warmup) {
      console.log(`${label}: warming up`);
      for (const [, run] of targets) await run(warmup);
    }
    const byTarget = new Map<string, LoadResult[]>(targets.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      // No server always runs first, or always right after the same other one (order.ts).
      const order = roundOrder(targets.length, r).map((i) => targets[i]!);
      const results: [string, LoadResult][] = [];
      for (const [name, run] of order) {
        const x = await run(duration);
        byTarget.get(name)!.push(x);
        results.push([name, x]);
      }
      results.sort((a, b) => targets.findIndex(([n]) => n === a[0]) - targets.findIndex(([n]) => n === b[0]));
      console.log(roundLine(label, r + 1, results));
    }

    const rows: Row[] = [];
    for (const [i, d] of deployments.entries()) {
      const rss = d.crumbs.map((c) => rssMiB(c.pid));
      await Promise.all(d.crumbs.map((c) => c.stop()));
      rows.push({
        path,
        network: d.network.size,
        instances,
        crumb: byTarget.get(targets[i + 2]![0])!,
        bare: byTarget.get('bare')!,
        hono: byTarget.get('Hono')!,
        rss,
        answered: d.answered,
        failed: d.failed,
        errors: d.errors,
        failure: d.failure,
        ...(await verify(d, path)),
      });
    }
    return rows;
  } finally {
    await Promise.all([...servers, ...deployments.flatMap((d) => d.crumbs)].map((s) => s.stop()));
    for (const d of deployments) await d.store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The memory mode: one Crumb process under a first load (its RSS after it), then a long one
 * (RSS sampled), with a reader alongside when asked. */
async function memoryRun(path: PathSpec, db: BenchStore, config: string, size: NetworkSize, info: RunInfo): Promise<MemoryRun> {
  const dir = mkdtempSync(join(tmpdir(), `crumb-bench-memory-`));
  const network = benchNetwork(size);
  const lifetime = memoryFirst + memoryLong + 900;
  const d: Deployment = { network, store: db, crumbs: [], data: join(dir, 'traffic.txt'), ids: join(dir, 'ids'), idFiles: [], answered: 0, failed: 0, errors: 0, failure: null };
  try {
    d.crumbs = await startCrumbs(network, config, db, 1, lifetime);
    const pid = d.crumbs[0]!.pid;
    await traffic(path, network, d.crumbs[0]!.url, d.data);
    await sleep(1000);
    const idle = rssMiB(pid);
    console.log(`memory: RSS idle ${fmt(idle)} MiB; a ${memoryFirst} s load of the ${path.name} path`);
    const first = await loadCrumb(d, path, memoryFirst, dir);
    const afterFirst = rssMiB(pid);
    console.log(`memory: RSS after it ${fmt(afterFirst)} MiB (${fmt(first.rps)} req/s); a ${memoryLong} s load${readers.length ? ` with readers on ${readers.join(', ')}` : ''}`);

    const samples: [number, number][] = [];
    const every = Math.max(1, Math.min(10, Math.floor(memoryLong / 10)));
    const began = Date.now();
    const sampler = setInterval(() => {
      const t = Math.round((Date.now() - began) / 1000);
      samples.push([t, rssMiB(pid)]);
      if (t % 30 === 0 || every < 10) console.log(`memory: ${t} s, RSS ${fmt(samples[samples.length - 1]![1])} MiB`);
    }, every * 1000);
    const reading = readers.map((target) =>
      load({
        urls: [d.crumbs[0]!.url],
        path: { method: 'GET', target, success: { status: 200, in: 'body' } },
        data: null,
        connections: 1,
        seconds: memoryLong,
        seq: nextSeq(),
        ids: null,
        delayMs: readerDelay,
        serverPids: [],
        dir,
      }),
    );
    const [long, ...readerResults] = await Promise.all([loadCrumb(d, path, memoryLong, dir), ...reading]);
    clearInterval(sampler);
    const end = Math.round((Date.now() - began) / 1000);
    if (samples[samples.length - 1]?.[0] !== end) samples.push([end, rssMiB(pid)]);
    await d.crumbs[0]!.stop();
    return {
      info,
      path,
      network: size,
      first: memoryFirst,
      long: memoryLong,
      readers: readers.map((target, i) => ({ target, delayMs: readerDelay, result: readerResults[i]! })),
      from: args['memory-db'] ?? null,
      idle,
      afterFirst,
      samples,
      loads: [first, long],
      answered: d.answered,
      ...(await verify(d, path)),
    };
  } finally {
    await Promise.all(d.crumbs.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const started = new Date();
  const wrk = ensureWrk();
  const configDir = mkdtempSync(join(tmpdir(), 'crumb-bench-networks-'));
  const configs = new Map<NetworkSize, string>();
  for (const size of networks) {
    configs.set(size, join(configDir, `${size}.json`));
    writeFileSync(configs.get(size)!, JSON.stringify(benchNetwork(size).file));
  }
  const info: RunInfo = { started, wrk, store, connections, rounds, duration, smoke: rounds < 3 || duration < 10 || (args.memory && (memoryFirst < 60 || memoryLong < 300)) };
  const base = args['pg-url'];
  const admin = store === 'postgres' ? await connectAdmin(base) : null;
  const sqliteDirs: string[] = [];
  // `from` in an object: a store function is also called with a network's size, which must not be
  // taken for a file to copy.
  const sqlite = async (options: { from?: string } = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'crumb-bench-db-'));
    sqliteDirs.push(dir);
    return sqliteStore(dir, options.from);
  };
  try {
    if (admin) {
      info.pg = { ...admin.info, poolSize: pgMax ?? 10 };
      const most = Math.max(...instanceCounts) * networks.length * (pgMax ?? 10);
      if (most >= admin.info.maxConnections) console.warn(`warning: ${most} pool connections may exceed PostgreSQL's max_connections (${admin.info.maxConnections})`);
    }
    const schema = (name: string) => postgresStore(admin!.sql, base, `crumb_bench_${process.pid}_${name}`, pgMax);

    if (args.memory) {
      const size = networks[networks.length - 1]!;
      const db = admin ? await schema(`memory_${size}`) : await sqlite({ from: args['memory-db'] });
      try {
        const text = memoryReport(await memoryRun(paths[0]!, db, configs.get(size)!, size, info));
        console.log(`\n${text}\n`);
        write('memory', text, info.smoke);
      } finally {
        await db.drop();
      }
      return;
    }

    // How long a change takes to apply, on each network, before the load: a fresh store each.
    const changes: ChangeRun[] = [];
    const instancesForChanges = Math.max(...instanceCounts);
    for (const size of networks) {
      const network = benchNetwork(size);
      const db = admin ? await schema(`change_${size}`) : await sqlite();
      const crumbs = await startCrumbs(network, configs.get(size)!, db, instancesForChanges, 600);
      try {
        const pair = network.pairs[0]!;
        const target = { urls: crumbs.map((c) => c.url), apiKey: BENCH_API_KEY, offer: pair.offer, creative: pair.c };
        changes.push({ network: size, instances: crumbs.length, samples: await timeChanges(target, CHANGES, size) });
        console.log(`network changes (${size}): done`);
      } finally {
        await Promise.all(crumbs.map((c) => c.stop()));
        await db.drop();
      }
    }
    for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });

    const rows: Row[] = [];
    for (const path of paths) {
      for (const instances of instanceCounts) {
        const stores = admin ? (size: NetworkSize) => schema(`${path.name}_${instances}_${size}`) : () => sqlite();
        rows.push(...(await benchPath(path, instances, stores, configs)));
        for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
      }
    }
    const changeSection = [
      '',
      '### A network change, applied',
      '',
      `An affiliate and its campaign created through the API (${CHANGES} times per network, on a fresh store), then a tracking link`,
      'for them: the two answers (each change is checked against the whole network and written as a new version first), and',
      'how long after the second answer the link was attributed on each other instance (they poll the version). The instance',
      'that made the change attributes the very next click (the run stops if it does not).',
      '',
      changeReport(changes),
    ];
    const extra = [...changeSection, ...(store === 'sqlite' ? ['', '### d.js (bytes)', '', dScriptSizes()] : [])];
    const text = report(rows, info, extra);
    console.log(`\n${text}\n`);
    write(store, text, info.smoke);
  } finally {
    await admin?.sql.end({ timeout: 5 });
    for (const dir of [configDir, ...sqliteDirs]) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
