// npm run bench -- [--paths click,lead,conversion,pixel] [--rounds 3] [--duration 10] [--connections 50]
// npm run bench:pg -- [--paths click,conversion] [--instances 1,2] [--pg-url URL] [--pg-max N] [same options]
//
// For each hot path: start Crumb (the built Node entry, on a fresh SQLite file) and the bare
// node:http baseline, pinned to one core; drive them in turn from a load generator pinned to the
// other core, alternating over several rounds; then stop Crumb and check that every id it answered
// is in the store. Prints the report and writes it into bench/RESULTS.md between the markers,
// keeping the hand-written analysis around them.
//
// With --store postgres, each path runs once per instance count (--instances, default 1,2) on a
// fresh schema of the PostgreSQL database (--pg-url, default 127.0.0.1:5432/test as postgres),
// dropped afterwards. Every instance and the baseline share the server core; the load generator
// splits its connections between the instances. The report goes between markers of its own, under
// its own heading in the same file, so that the SQLite results stay as they are.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { LoadResult, LoadSpec } from './load.js';
import { benchNetwork, PATHS, type PathName } from './paths.js';
import { connectAdmin, createTarget, type PgInfo, type PgTarget } from './postgres.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    paths: { type: 'string' },
    instances: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'pg-max': { type: 'string' },
  },
});
const store = args.store as 'sqlite' | 'postgres';
if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite or postgres, not ${args.store}`);
const paths = (args.paths ?? (store === 'sqlite' ? 'click,lead,conversion,pixel' : 'click,conversion')).split(',').map((p) => p.trim()) as PathName[];
for (const p of paths) if (!PATHS[p]) throw new Error(`unknown path ${p}: use ${Object.keys(PATHS).join(', ')}`);
const instanceCounts = (args.instances ?? (store === 'sqlite' ? '1' : '1,2')).split(',').map((n) => Number(n.trim()));
for (const n of instanceCounts) if (!Number.isInteger(n) || n < 1) throw new Error(`--instances takes counts such as 1,2, not ${args.instances}`);
// SQLite is one process's embedded database: several instances are a PostgreSQL deployment.
if (store === 'sqlite' && instanceCounts.some((n) => n !== 1)) throw new Error('--instances above 1 needs --store postgres');
const rounds = Number(args.rounds);
const duration = Number(args.duration);
const connections = Number(args.connections);
const pgMax = args['pg-max'] === undefined ? undefined : Number(args['pg-max']);
if (pgMax !== undefined && (!Number.isInteger(pgMax) || pgMax < 1)) throw new Error(`--pg-max must be a number of connections, not ${args['pg-max']}`);
/** Shorter than the defaults: a check that the harness works, not a measurement. */
const smoke = rounds < 3 || duration < 10;

const cores = cpus().length;
const taskset = spawnSync('taskset', ['--version']).status === 0;
const pinned = cores >= 2 && taskset;
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const pin = (core: number, command: string[]) => (pinned ? ['taskset', '-c', String(core), ...command] : command);

interface Proc {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

function start(command: string[], label: string): Promise<Proc> {
  const proc = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let listening = false;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${label} did not start within 20 s:\n${output}`));
    }, 20_000);
    proc.stderr!.on('data', (d) => (output += d));
    proc.stdout!.on('data', (d) => {
      output += d;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (listening || !match) return;
      listening = true;
      clearTimeout(timer);
      resolve({
        proc,
        url: match[1]!,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
        },
      });
    });
    exited.then((code) => {
      if (listening) return;
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code}) before listening:\n${output}`));
    });
  });
}

let seq = 0;
function load(
  urls: string[],
  path: PathName,
  seconds: number,
  files: { reqids: string | null; ids: string | null },
  pids: { server?: number[]; db?: number[] } = {},
): Promise<LoadResult> {
  const spec: LoadSpec = {
    urls,
    serverPids: pids.server,
    dbPids: pids.db,
    path,
    connections,
    duration: seconds,
    seq: ++seq * 100_000_000,
    reqidsFile: files.reqids,
    idsFile: files.ids,
  };
  const [cmd, ...rest] = pin(LOAD_CORE, [process.execPath, 'dist/bench/load.js', JSON.stringify(spec)]);
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) reject(new Error(`load generator failed (${code}): ${out}`));
      else resolve(JSON.parse(line) as LoadResult);
    });
  });
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function makeClicks(url: string, count: number, file: string) {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () =>
        fetch(`${url}/?a=${67890}&c=${1057}&s1=pool`, { redirect: 'manual' }).then((r) => /reqid=([\w-]+)/.exec(r.headers.get('location') ?? '')![1]!),
      ),
    );
    ids.push(...batch);
  }
  writeFileSync(file, ids.join('\n'));
}

interface Row {
  path: PathName;
  /** Crumb processes on the one database (always 1 on SQLite). */
  instances: number;
  crumb: LoadResult[];
  baseline: LoadResult[];
  ratios: number[];
  /** Crumb's CPU (all its instances), as a share of one core while it was under load. */
  serverCpu: number;
  /** PostgreSQL's backends serving Crumb, the same way; null on SQLite or when unreadable. */
  dbCpu: number | null;
  /** MiB, per instance. */
  rss: number[];
  answered: number;
  stored: number;
  missing: number;
  failed: number;
}

/** Which answered ids are not in the SQLite store; and how many rows the path wrote. */
function verifySqlite(db: string, path: PathName, ids: string[], okCount: number): { stored: number; missing: number } {
  const sqlite = new Database(db, { readonly: true });
  try {
    const query: Record<PathName, [string, string, (id: string) => unknown]> = {
      click: ["SELECT count(*) AS n FROM clicks WHERE s1 = 'bench'", 'SELECT 1 FROM clicks WHERE reqid = ?', (id) => id],
      lead: ['SELECT count(*) AS n FROM leads', 'SELECT 1 FROM leads WHERE lead_id = ?', (id) => parseInt(id, 16)],
      conversion: ["SELECT count(*) AS n FROM conversions WHERE source = 'api'", 'SELECT 1 FROM conversions WHERE conversion_id = ?', Number],
      pixel: ["SELECT count(*) AS n FROM conversions WHERE source = 'pixel'", '', String],
    };
    const [countSql, findSql, key] = query[path];
    const stored = (sqlite.prepare(countSql).get() as { n: number }).n;
    if (!findSql) return { stored, missing: Math.max(0, okCount - stored) };
    const find = sqlite.prepare(findSql);
    let missing = 0;
    for (const id of ids) if (!find.get(key(id))) missing++;
    return { stored, missing };
  } finally {
    sqlite.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The database one run of a path writes to: a fresh SQLite file, or a fresh PostgreSQL schema. */
interface Target {
  db: string;
  verify(ids: string[], okCount: number): Promise<{ stored: number; missing: number }>;
  /** The database's processes serving Crumb now (PostgreSQL backends), for their CPU time. */
  dbPids(): Promise<number[]>;
}

function sqliteTarget(path: PathName, dir: string): Target {
  const db = join(dir, 'crumb.db');
  return {
    db,
    verify: async (ids, okCount) => verifySqlite(db, path, ids, okCount),
    dbPids: async () => [],
  };
}

function pgTarget(path: PathName, target: PgTarget): Target {
  return {
    db: target.url,
    verify: (ids, okCount) => target.verify(path, ids, okCount),
    dbPids: () => target.backendPids(),
  };
}

/** The load generator's CPU as a share of its core: near 100 %, the generator is the limit. */
const busy = (x: LoadResult) => `${Math.round((100 * x.loadCpu) / x.seconds)}%`;

async function benchPath(path: PathName, config: string, instances: number, target: Target, dir: string): Promise<Row> {
  const idsFile = join(dir, 'ids.txt');
  const reqidsFile = join(dir, 'reqids.txt');
  writeFileSync(idsFile, '');
  const crumbs: Proc[] = [];
  let baseline: Proc | undefined;
  const stopCrumbs = () => Promise.all(crumbs.map((c) => c.stop()));
  try {
    // One at a time: the first creates the schema, the others find it (concurrent starts are the
    // multi-instance test's business, not the benchmark's).
    for (let i = 0; i < instances; i++) {
      const command = [process.execPath, 'dist/server/node.js', '--config', config, '--db', target.db, '--host', '127.0.0.1', '--port', '0'];
      crumbs.push(await start(pin(SERVER_CORE, command), instances > 1 ? `crumb ${i + 1}` : 'crumb'));
    }
    baseline = await start(pin(SERVER_CORE, [process.execPath, 'dist/bench/baseline.js']), 'baseline');
    const urls = crumbs.map((c) => c.url);
    const label = instances > 1 ? `${path} (${instances} instances)` : path;
    if (PATHS[path].needsClicks) await makeClicks(urls[0]!, 2000, reqidsFile);
    const files = { reqids: PATHS[path].needsClicks ? reqidsFile : null, ids: idsFile };
    console.log(`${label}: warming up`);
    await load([baseline.url], path, 3, { reqids: files.reqids, ids: null });
    const warm = await load(urls, path, 3, files);
    const row: Row = { path, instances, crumb: [], baseline: [], ratios: [], serverCpu: 0, dbCpu: null, rss: [], answered: warm.ok, stored: 0, missing: 0, failed: warm.failed };
    // CPU is read by the load generator as its load starts and ends: a share of a core while Crumb
    // was under load, whatever the generator's own start-up took.
    let cpu = 0;
    let dbCpu: number | null = 0;
    let loaded = 0;
    for (let r = 0; r < rounds; r++) {
      const b = await load([baseline.url], path, duration, { reqids: files.reqids, ids: null });
      const c = await load(urls, path, duration, files, { server: crumbs.map((k) => k.proc.pid!), db: await target.dbPids() });
      cpu += c.serverCpu ?? 0;
      dbCpu = dbCpu === null || c.dbCpu === null ? null : dbCpu + c.dbCpu;
      loaded += c.seconds;
      row.baseline.push(b);
      row.crumb.push(c);
      row.ratios.push(c.rps / b.rps);
      row.answered += c.ok;
      row.failed += c.failed;
      console.log(
        `${label} round ${r + 1}: crumb ${c.rps.toFixed(0)} req/s (p99 ${c.p99} ms), baseline ${b.rps.toFixed(0)} req/s, ratio ${(c.rps / b.rps).toFixed(2)}; load generator CPU ${busy(c)} / ${busy(b)}`,
      );
    }
    row.serverCpu = cpu / loaded;
    row.dbCpu = store === 'sqlite' || dbCpu === null ? null : dbCpu / loaded;
    row.rss = crumbs.map((c) => rssMiB(c.proc.pid!));
    await stopCrumbs();
    const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
    Object.assign(row, await target.verify(ids, row.answered));
    return row;
  } finally {
    await baseline?.stop();
    await stopCrumbs().catch(() => {});
  }
}

function dScriptSizes(): string {
  if (!existsSync('dist/d.js')) return 'dist/d.js was not built.';
  const code = readFileSync('dist/d.js');
  const gzip = gzipSync(code, { level: 9 }).length;
  const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  return [
    '| script | minified | gzip | brotli |',
    '|---|---:|---:|---:|',
    `| **Crumb d.js** (every feature) | ${code.length} | **${gzip}** | ${brotli} |`,
    '| plausible-tracker (reads no click id) | | 1,486 | |',
    '| Dub analytics script | | 1,694 | |',
    '| Dub analytics script with conversions | | 2,183 | |',
    '| Everflow SDK | | about 3,248 | |',
    "| CAKE's d.js with jQuery | | at least 33,595 | |",
  ].join('\n');
}

function report(rows: Row[], started: Date): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    ...smokeNote(),
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cores} cores (${cpu}), ${fmt(totalmem() / 2 ** 30)} GiB,`,
    `Node ${process.version}, ${platform()} ${release()}. ${pinned ? `Servers pinned to core ${SERVER_CORE}, load generator (autocannon) to core ${LOAD_CORE}.` : 'Not pinned (needs 2 cores and taskset).'}`,
    `${connections} connections, ${rounds} rounds of ${duration} s per path, each round the baseline then Crumb; SQLite store, \`synchronous=NORMAL\`, every write committed before its answer.`,
    '',
    '| path | Crumb req/s | p50 ms | p99 ms | max ms | baseline req/s | ratio per round | median ratio | server CPU | answered | stored | lost |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const last = (xs: LoadResult[], f: (x: LoadResult) => number) => median(xs.map(f));
    lines.push(
      `| ${PATHS[r.path].title} | ${fmt(last(r.crumb, (x) => x.rps))} | ${fmt(last(r.crumb, (x) => x.p50))} | ${fmt(last(r.crumb, (x) => x.p99))} | ${fmt(Math.max(...r.crumb.map((x) => x.max)))} | ${fmt(last(r.baseline, (x) => x.rps))} | ${r.ratios.map((x) => x.toFixed(2)).join(', ')} | **${median(r.ratios).toFixed(2)}** | ${fmt(r.serverCpu * 100)}% | ${fmt(r.answered)} | ${fmt(r.stored)} | ${r.missing}${r.failed ? ` (${fmt(r.failed)} failed answers)` : ''} |`,
    );
  }
  lines.push(
    '',
    'Figures per path are medians over the rounds (max: the worst of all). "answered" counts the successful answers the load',
    'generator received; "stored" counts the rows after a graceful stop (requests in flight when a round ended are stored but not',
    'counted as answered, so stored may exceed answered); "lost" counts answered ids missing from the store.',
    '',
    `Server memory (RSS) after its run: ${rows.map((r) => `${r.path} ${fmt(r.rss[0]!)} MiB`).join(', ')}.`,
    '',
    '### d.js (bytes)',
    '',
    dScriptSizes(),
  );
  return lines.join('\n');
}

function smokeNote(): string[] {
  return smoke
    ? [`**Smoke run** (${rounds} round${rounds === 1 ? '' : 's'} of ${duration} s): it shows that the harness works, not how fast Crumb is. Measure with the defaults on a quiet machine.`, '']
    : [];
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function reportPostgres(rows: Row[], started: Date, pg: PgInfo): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const pct = (x: number | null) => (x === null ? 'n/a' : `${fmt(x * 100)}%`);
  const lines = [
    ...smokeNote(),
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cores} cores (${cpu}), ${fmt(totalmem() / 2 ** 30)} GiB,`,
    `Node ${process.version}, ${platform()} ${release()}; PostgreSQL ${pg.version} on this machine, \`synchronous_commit=${pg.synchronousCommit}\`,`,
    `${pgMax ?? 10} pool connections per instance. ${pinned ? `Every Crumb instance and the baseline pinned to core ${SERVER_CORE}, the load generator (autocannon) to core ${LOAD_CORE}; PostgreSQL not pinned (it runs on both cores).` : 'Not pinned (needs 2 cores and taskset).'}`,
    `${connections} connections in all, split evenly between the instances; ${rounds} round${rounds === 1 ? '' : 's'} of ${duration} s per path and instance count, each round the baseline then Crumb;`,
    'each click committed (its batch) before its 302, each conversion before its answer.',
    '',
    '| path | instances | Crumb req/s | p50 ms | p99 ms | max ms | baseline req/s | ratio per round | median ratio | Crumb CPU | PostgreSQL CPU | answered | stored | lost |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const mid = (xs: LoadResult[], f: (x: LoadResult) => number) => median(xs.map(f));
    lines.push(
      `| ${PATHS[r.path].title} | ${r.instances} | ${fmt(mid(r.crumb, (x) => x.rps))} | ${fmt(mid(r.crumb, (x) => x.p50))} | ${fmt(mid(r.crumb, (x) => x.p99))} | ${fmt(Math.max(...r.crumb.map((x) => x.max)))} | ${fmt(mid(r.baseline, (x) => x.rps))} | ${r.ratios.map((x) => x.toFixed(2)).join(', ')} | **${median(r.ratios).toFixed(2)}** | ${pct(r.serverCpu)} | ${pct(r.dbCpu)} | ${fmt(r.answered)} | ${fmt(r.stored)} | ${r.missing}${r.failed ? ` (${fmt(r.failed)} failed answers)` : ''} |`,
    );
  }
  lines.push(
    '',
    'Figures per row are medians over the rounds (max: the worst of all). With two instances the rates add up, and p50, p99 and max',
    'are those of the slower instance (two histograms cannot be merged from their percentiles). CPU is a share of one core while',
    "Crumb was under load: Crumb's is all its instances together; PostgreSQL's counts the backends serving Crumb's connections (not",
    'the WAL writer or checkpointer). "answered", "stored" and "lost" as above, checked in the database after every instance stopped.',
    '',
    'What these numbers can show, on a machine this size: the cost of PostgreSQL against SQLite on the same paths, and the cost of',
    'splitting the same core between two instances (two event loops, two pools, more concurrent transactions). Both instances',
    'share one core, so two instances cannot be faster than one here. What they cannot show: scaling out. That needs a core for',
    'each instance, and cores for the database and the load generator; here PostgreSQL takes CPU from both cores, the load',
    "generator's included, and the baseline uses no database, so the ratio is Crumb with its database against a bare server.",
    '',
    `Server memory (RSS) after its run: ${rows.map((r) => `${r.path} ×${r.instances} ${r.rss.map((x) => fmt(x)).join(' + ')} MiB`).join(', ')}.`,
  );
  return lines.join('\n');
}

/** Writes `text` between `start` and `end` in the results file, keeping everything around them.
 * Without the markers, they are added at the end (after `heading`), or a new file is begun. */
function writeSection(start: string, end: string, text: string, heading: string) {
  const previous = existsSync(args.out) ? readFileSync(args.out, 'utf8') : `# Benchmark results\n\n${heading}${start}\n${end}\n`;
  const [head, rest] = previous.includes(start) ? previous.split(start) : [`${previous}\n${heading}`, `\n${end}\n`];
  const tail = rest!.includes(end) ? rest!.slice(rest!.indexOf(end) + end.length) : '\n';
  writeFileSync(args.out, `${head}${start}\n${text}\n${end}${tail}`);
  console.log(`written to ${args.out}`);
}

async function main() {
  const started = new Date();
  const config = join(mkdtempSync(join(tmpdir(), 'crumb-bench-')), 'network.json');
  writeFileSync(config, JSON.stringify(benchNetwork()));
  const rows: Row[] = [];
  if (store === 'sqlite') {
    for (const path of paths) {
      const dir = mkdtempSync(join(tmpdir(), `crumb-bench-${path}-`));
      rows.push(await benchPath(path, config, 1, sqliteTarget(path, dir), dir));
    }
    const text = report(rows, started);
    console.log(`\n${text}\n`);
    writeSection('<!-- results:start (written by npm run bench) -->', '<!-- results:end -->', text, '');
    return;
  }

  const base = args['pg-url'];
  const admin = await connectAdmin(base);
  const most = Math.max(...instanceCounts) * (pgMax ?? 10);
  if (most >= admin.info.maxConnections) console.warn(`warning: ${most} pool connections may exceed PostgreSQL's max_connections (${admin.info.maxConnections})`);
  try {
    for (const path of paths) {
      for (const instances of instanceCounts) {
        const dir = mkdtempSync(join(tmpdir(), `crumb-bench-${path}-${instances}-`));
        const pg = await createTarget(admin.sql, base, `crumb_bench_${process.pid}_${path}_${instances}`, pgMax);
        try {
          rows.push(await benchPath(path, config, instances, pgTarget(path, pg), dir));
        } finally {
          await pg.drop();
        }
      }
    }
  } finally {
    await admin.sql.end({ timeout: 5 });
  }
  const text = reportPostgres(rows, started, admin.info);
  console.log(`\n${text}\n`);
  writeSection(
    '<!-- results-postgres:start (written by npm run bench:pg) -->',
    '<!-- results-postgres:end -->',
    text,
    '## PostgreSQL store, one and two instances (`npm run bench:pg`)\n\n',
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
