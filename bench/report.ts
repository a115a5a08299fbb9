// The report of a run, in Markdown: the tables bench/RESULTS.md keeps between its markers (the
// hand-written analysis around them stays as it is).
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import type { LoadResult } from './load.js';
import type { NetworkSize } from './network.js';
import type { PathSpec } from './paths.js';
import { cores, LOAD_CORE, pinned, SERVER_CORE } from './processes.js';

/** Above this share of its core in a round, the load generator, not the server, may set the rate. */
export const GENERATOR_LIMIT = 0.9;
/** Below this share of its core, a bare server the generator does not hold back was not alone on it. */
const CONTENDED = 0.85;

/** One path on one network (and instance count): Crumb's rounds, and the baselines' in the same rounds. */
export interface Row {
  path: PathSpec;
  network: NetworkSize;
  instances: number;
  crumb: LoadResult[];
  bare: LoadResult[];
  hono: LoadResult[];
  /** MiB per instance, after the run. */
  rss: number[];
  /** Successes, warm-up included; the ids written for them; the rows in the store after a graceful
   * stop; answered ids not found there; other answers and socket errors. */
  answered: number;
  idsWritten: number | null;
  stored: number;
  missing: number;
  failed: number;
  errors: number;
  failure: string | null;
}

export interface RunInfo {
  started: Date;
  wrk: string;
  store: 'sqlite' | 'postgres';
  connections: number;
  rounds: number;
  duration: number;
  smoke: boolean;
  /** PostgreSQL's version and settings, on --store postgres. */
  pg?: { version: string; synchronousCommit: string; poolSize: number };
}

export const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (x: number | null) => (x === null ? 'n/a' : `${fmt(x * 100)}%`);
const ms = (x: number) => fmt(x, x < 10 ? 1 : 0);

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mid = (xs: LoadResult[], f: (x: LoadResult) => number) => median(xs.map(f));
const ratios = (a: LoadResult[], b: LoadResult[]) => a.map((x, i) => x.rps / b[i]!.rps);
const busiest = (xs: LoadResult[]) => Math.max(...xs.map((x) => x.loadCpu));
const flag = (x: number) => (x > GENERATOR_LIMIT ? ` ⚠` : '');

function header(info: RunInfo, rounds = true): string[] {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const when = info.started.toISOString().slice(0, 16).replace('T', ' ');
  const lines = [
    ...(info.smoke ? ['**Smoke run** (shorter than the defaults): it shows that the harness works, not how fast Crumb is. Measure with the defaults on a quiet machine.', ''] : []),
    `Measured ${when} UTC on ${cores} cores (${cpu}), ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${platform()} ${release()}.`,
    pinned
      ? `Servers pinned to core ${SERVER_CORE}, the load generator (${info.wrk}, one thread) to core ${LOAD_CORE}${info.store === 'postgres' ? '; PostgreSQL not pinned (it runs on both cores)' : ''}.`
      : `Not pinned (needs 2 cores and taskset): the load generator (${info.wrk}) shares the cores with the servers.`,
    `${info.connections} connections${info.store === 'postgres' ? ' in all, split evenly between the instances' : ''}${rounds ? `; ${info.rounds} round${info.rounds === 1 ? '' : 's'} of ${info.duration} s per path, each round every server in turn (in a balanced order: bench/order.ts), after a warm-up` : ''}.`,
  ];
  if (info.pg) {
    lines.push(
      `PostgreSQL ${info.pg.version} on this machine, \`synchronous_commit=${info.pg.synchronousCommit}\`, ${info.pg.poolSize} pool connections per instance; each click committed (its batch) before its 302, each conversion before its answer.`,
    );
  } else {
    lines.push('SQLite store, `synchronous=NORMAL`, every write committed before its answer.');
  }
  return lines;
}

/** The tables of a run: one row per path and network (and instance count), the large network
 * against the small one when both ran, and every round. */
export function report(rows: Row[], info: RunInfo, extra: string[] = []): string {
  const pg = info.store === 'postgres';
  const lines = [
    ...header(info),
    '',
    `| path | network |${pg ? ' instances |' : ''} Crumb req/s | p50 ms | p99 ms | max ms | bare req/s | Hono req/s | ÷ bare, per round | **÷ bare** | **÷ Hono** | Crumb CPU |${pg ? ' PostgreSQL CPU |' : ''} generator CPU, busiest round: bare / Hono / Crumb | answered | stored | lost |`,
    `|---|---|${pg ? '---:|' : ''}---:|---:|---:|---:|---:|---:|---|---:|---:|---:|${pg ? '---:|' : ''}---|---:|---:|---:|`,
  ];
  for (const r of rows) {
    const gen = [r.bare, r.hono, r.crumb].map((xs) => `${pct(busiest(xs))}${flag(busiest(xs))}`).join(' / ');
    const problems = [
      r.idsWritten !== null && r.idsWritten !== r.answered ? `${fmt(r.idsWritten)} ids written for ${fmt(r.answered)} answers` : '',
      r.failed ? `${fmt(r.failed)} failed answers` : '',
      r.errors ? `${fmt(r.errors)} socket errors or timeouts` : '',
    ].filter(Boolean);
    lines.push(
      `| ${r.path.title} | ${r.network} |${pg ? ` ${r.instances} |` : ''} ${fmt(mid(r.crumb, (x) => x.rps))} | ${ms(mid(r.crumb, (x) => x.p50))} | ${ms(mid(r.crumb, (x) => x.p99))} | ${ms(Math.max(...r.crumb.map((x) => x.max)))} | ${fmt(mid(r.bare, (x) => x.rps))} | ${fmt(mid(r.hono, (x) => x.rps))} | ${ratios(r.crumb, r.bare).map((x) => x.toFixed(2)).join(', ')} | **${median(ratios(r.crumb, r.bare)).toFixed(2)}** | **${median(ratios(r.crumb, r.hono)).toFixed(2)}** | ${pct(mid(r.crumb, (x) => x.serverCpu ?? 0))} |${pg ? ` ${pct(r.crumb.some((x) => x.dbCpu === null) ? null : mid(r.crumb, (x) => x.dbCpu!))} |` : ''} ${gen} | ${fmt(r.answered)} | ${fmt(r.stored)} | ${r.missing}${problems.length ? ` (${problems.join('; ')})` : ''} |`,
    );
  }
  lines.push(
    '',
    'Figures per row are medians over the rounds (max: the worst of all); the ratios are Crumb\'s rate over the bare `node:http`',
    "server's and over Hono's with no storage (the stack's ceiling), each answering the same status, in the same round, then the",
    'median of those. CPU is a share of one core while the load ran. "answered" counts the successes wrk read, warm-up included;',
    '"stored" the rows after a graceful stop (requests in flight when a round ended are stored but not answered, so stored may',
    'exceed answered); "lost" the answered ids not found in the store (the pixel answers a GIF, so for it only the counts compare).',
    ...(pg
      ? [
          'With two instances the rates add up, and p50, p99 and max are those of the slower instance. Crumb CPU is all its instances',
          "together; PostgreSQL's counts the backends serving Crumb's connections (not the WAL writer or checkpointer). Every instance",
          'and the baselines share one core, so two instances cannot be faster than one here; this shows the cost of PostgreSQL and of',
          'splitting a core, not scaling out.',
        ]
      : []),
    '',
    ...generatorNote(rows),
  );
  const pairs = rows.filter((r) => r.network === 'large').map((large) => [rows.find((s) => s.network === 'small' && s.path === large.path && s.instances === large.instances)!, large] as const);
  if (pairs.length) {
    lines.push(
      '',
      '### The large network against the small one, same run',
      '',
      '10,000 offers, 10,000 affiliates and 50,000 campaigns, the traffic spread over all of them, against one offer, one affiliate',
      'and one campaign; both servers up at once, driven in turn in every round.',
      '',
      `| path |${pg ? ' instances |' : ''} small req/s | large req/s | large ÷ small, per round | **large ÷ small** | small p99 ms | large p99 ms |`,
      `|---|${pg ? '---:|' : ''}---:|---:|---|---:|---:|---:|`,
    );
    for (const [small, large] of pairs) {
      const r = ratios(large.crumb, small.crumb);
      lines.push(
        `| ${large.path.title} |${pg ? ` ${large.instances} |` : ''} ${fmt(mid(small.crumb, (x) => x.rps))} | ${fmt(mid(large.crumb, (x) => x.rps))} | ${r.map((x) => x.toFixed(2)).join(', ')} | **${median(r).toFixed(2)}** | ${ms(mid(small.crumb, (x) => x.p99))} | ${ms(mid(large.crumb, (x) => x.p99))} |`,
      );
    }
  }
  lines.push('', ...roundsTable(rows, pg));
  const memory = rows.map((r) => `${r.path.name} ${r.network}${pg ? ` ×${r.instances}` : ''} ${r.rss.map((x) => fmt(x)).join(' + ')} MiB`);
  lines.push('', `Server memory (RSS) after its run: ${memory.join(', ')}.`, ...extra);
  return lines.join('\n');
}

/** What the generator's CPU says about the rates: the report must say when a baseline is wrk's ceiling. */
function generatorNote(rows: Row[]): string[] {
  const flagged: string[] = [];
  let baselineFlagged = false;
  let crumbFlagged = false;
  const seen = new Set<string>();
  for (const r of rows) {
    for (const [name, xs] of [['bare', r.bare], ['Hono', r.hono], [`Crumb (${r.network})`, r.crumb]] as const) {
      xs.forEach((x, i) => {
        const key = `${r.path.name} ${r.instances} ${name} ${i}`;
        if (x.loadCpu <= GENERATOR_LIMIT || seen.has(key)) return;
        seen.add(key);
        flagged.push(`${r.path.name}${r.instances > 1 ? ` ×${r.instances}` : ''} ${name} round ${i + 1} (${pct(x.loadCpu)})`);
        if (name.startsWith('Crumb')) crumbFlagged = true;
        else baselineFlagged = true;
      });
    }
  }
  const notes = flagged.length
    ? []
    : [`In no round was the load generator above ${GENERATOR_LIMIT * 100} % of its core: every rate above is the server's, not wrk's.`];
  // A bare server that is not held by the generator runs its core flat out, unless something else
  // on the machine has that core.
  const idle = Math.min(...rows.flatMap((r) => r.bare.filter((x) => x.loadCpu <= GENERATOR_LIMIT && x.serverCpu !== null).map((x) => x.serverCpu!)));
  if (idle < CONTENDED) {
    notes.push(
      `The bare server used as little as ${pct(idle)} of its core in a round where wrk was not its limit: something else on the machine had that core (or the server was left waiting), so these rates are not the servers' ceilings. Measure on a quiet machine (the bare server then runs near 100 %).`,
    );
  }
  if (!flagged.length) return notes;
  return [
    ...notes,
    `**⚠ The load generator was above ${GENERATOR_LIMIT * 100} % of its core** in ${flagged.join(', ')}.`,
    ...(baselineFlagged
      ? ["In those baseline rounds the rate is the generator's ceiling, not the baseline server's: the ratios against them overstate Crumb's share."]
      : []),
    ...(crumbFlagged ? ["In those Crumb rounds the rate may be the generator's ceiling: Crumb's rate is at least that."] : []),
  ];
}

function roundsTable(rows: Row[], pg: boolean): string[] {
  const lines = [
    '<details><summary>Every round</summary>',
    '',
    `| path |${pg ? ' instances |' : ''} round | server | req/s | p50 ms | p99 ms | max ms | server CPU |${pg ? ' PostgreSQL CPU |' : ''} generator CPU |`,
    `|---|${pg ? '---:|' : ''}---:|---|---:|---:|---:|---:|---:|${pg ? '---:|' : ''}---:|`,
  ];
  // The rows of one path and instance count share their baselines' rounds: each shown once.
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.path.name} ${r.instances}`, [...(groups.get(`${r.path.name} ${r.instances}`) ?? []), r]);
  for (const group of groups.values()) {
    const first = group[0]!;
    first.crumb.forEach((_, i) => {
      const servers: [string, LoadResult][] = [['bare', first.bare[i]!], ['Hono', first.hono[i]!], ...group.map((r): [string, LoadResult] => [`Crumb, ${r.network} network`, r.crumb[i]!])];
      for (const [name, x] of servers) {
        lines.push(
          `| ${first.path.name} |${pg ? ` ${first.instances} |` : ''} ${i + 1} | ${name} | ${fmt(x.rps)} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.max)} | ${pct(x.serverCpu)} |${pg ? ` ${name.startsWith('Crumb') ? pct(x.dbCpu) : ''} |` : ''} ${pct(x.loadCpu)}${flag(x.loadCpu)} |`,
        );
      }
    });
  }
  lines.push('', '</details>');
  return lines;
}

/** One round's line on the console. */
export function roundLine(label: string, round: number, results: [string, LoadResult][]): string {
  const bare = results.find(([n]) => n === 'bare')?.[1];
  const hono = results.find(([n]) => n === 'Hono')?.[1];
  const parts = results.map(
    ([name, x]) => `${name} ${fmt(x.rps)}/s p99 ${ms(x.p99)} ms (server ${pct(x.serverCpu)}${x.dbCpu !== null ? `, PostgreSQL ${pct(x.dbCpu)}` : ''}, wrk ${pct(x.loadCpu)}${flag(x.loadCpu)})`,
  );
  const crumbs = results.filter(([n]) => n.startsWith('Crumb'));
  const shares = bare && hono ? crumbs.map(([n, x]) => `${n} ÷ bare ${(x.rps / bare.rps).toFixed(2)}, ÷ Hono ${(x.rps / hono.rps).toFixed(2)}`) : [];
  return `${label} round ${round}: ${parts.join(' | ')}${shares.length ? `\n  ${shares.join('; ')}` : ''}`;
}

export interface MemoryRun {
  info: RunInfo;
  path: PathSpec;
  network: NetworkSize;
  first: number;
  long: number;
  /** Readers beside the long load, each on a connection of its own. */
  readers: { target: string; delayMs: number; result: LoadResult }[];
  /** The store the run started from (a copy of it), or null for a fresh one. */
  from: string | null;
  idle: number;
  afterFirst: number;
  /** Seconds since the long load began, and RSS in MiB. */
  samples: [number, number][];
  loads: LoadResult[];
  answered: number;
  idsWritten: number | null;
  stored: number;
  missing: number;
}

export function memoryReport(m: MemoryRun): string {
  const [first, ...rest] = m.loads;
  const slope = leastSquares(m.samples);
  const rssValues = m.samples.map(([, v]) => v);
  const lines = [
    ...header(m.info, false),
    '',
    `Memory mode: the ${m.path.title} on the ${m.network} network, one Crumb process${m.from ? `, on a copy of the store ${m.from} (the bench network imported beside its own)` : ''}. A load of ${m.first} s, then one of ${m.long} s`,
    m.readers.length
      ? `with ${m.readers.length === 1 ? 'a reader on a connection of its own' : `${m.readers.length} readers, each on a connection of its own,`} asking every ${m.readers[0]!.delayMs} ms: ${m.readers.map((r) => `\`${r.target}\``).join(', ')}; RSS read from /proc every few seconds.`
      : 'with no reader, RSS read from /proc every few seconds.',
    '',
    '| | value |',
    '|---|---:|',
    `| RSS idle, before any load | ${fmt(m.idle)} MiB |`,
    `| **RSS after the ${m.first} s load** | **${fmt(m.afterFirst)} MiB** |`,
    `| RSS during the ${m.long} s load: lowest / highest / last | ${fmt(Math.min(...rssValues))} / ${fmt(Math.max(...rssValues))} / ${fmt(rssValues[rssValues.length - 1]!)} MiB |`,
    `| **growth during the ${m.long} s load** (least-squares slope) | **${fmt(slope * 60, 1)} MiB/min** |`,
    `| growth during its second half (past the heap's warm-up) | ${fmt(leastSquares(m.samples.slice(Math.floor(m.samples.length / 2))) * 60, 1)} MiB/min |`,
    `| rate, first load / long load | ${fmt(first!.rps)} / ${fmt(rest[0]?.rps ?? 0)} req/s |`,
    `| p99, first load / long load | ${ms(first!.p99)} / ${ms(rest[0]?.p99 ?? 0)} ms |`,
    `| generator CPU, first load / long load | ${pct(first!.loadCpu)}${flag(first!.loadCpu)} / ${pct(rest[0]?.loadCpu ?? 0)}${flag(rest[0]?.loadCpu ?? 0)} |`,
    ...m.readers.map((r) => `| reader \`${r.target.split('?')[0]}\`: answers, failed, p99 | ${fmt(r.result.answered)}, ${fmt(r.result.failed + r.result.errors)}, ${ms(r.result.p99)} ms |`),
    `| answered / stored / lost | ${fmt(m.answered)} / ${fmt(m.stored)} / ${m.missing}${m.idsWritten !== null && m.idsWritten !== m.answered ? ` (${fmt(m.idsWritten)} ids written)` : ''} |`,
    '',
    `RSS (MiB) by second of the ${m.long} s load: ${m.samples.map(([t, v]) => `${fmt(t)}: ${fmt(v)}`).join(', ')}.`,
  ];
  return lines.join('\n');
}

/** The slope of y over x (MiB per second). */
function leastSquares(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

export function dScriptSizes(): string {
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

/** Writes `text` between `start` and `end` in the results file, keeping everything around them.
 * Without the markers, they are added at the end (after `heading`), or a new file is begun. */
export function writeSection(out: string, start: string, end: string, text: string, heading: string) {
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : `# Benchmark results\n\n${heading}${start}\n${end}\n`;
  const [head, rest] = previous.includes(start) ? previous.split(start) : [`${previous}\n${heading}`, `\n${end}\n`];
  const tail = rest!.includes(end) ? rest!.slice(rest!.indexOf(end) + end.length) : '\n';
  writeFileSync(out, `${head}${start}\n${text}\n${end}${tail}`);
  console.log(`written to ${out}`);
}
