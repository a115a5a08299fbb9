// The load generator: Debian's wrk, one thread, driving one path (bench/wrk.lua fills its requests)
// at fixed concurrency for a fixed time, pinned to its own core when the machine allows. It reads
// the answers only when asked (Crumb's rounds: every success's id goes to a file for the store
// check); the baselines' rounds send the same requests and leave the answers unread, so that the
// generator does the least it can where it is most likely to be the limit.
//
// The generator's CPU time comes from the shell that runs it (its children's time, in
// /proc/self/stat once it has waited for them), the servers' and database's from /proc over the
// same window: a share of one core while the load ran.
//
// With several URLs (several Crumb instances on one PostgreSQL database) the connections are split
// evenly between them, as a round-robin load balancer would, one wrk per URL at the same time. Rates
// add up; percentiles cannot be merged from percentiles, so p50, p99 and max are the slowest's.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { PathSpec } from './paths.js';
import { CLOCK_TICKS, cpuSeconds, LOAD_CORE, pin } from './processes.js';

/** bench/wrk.lua, beside this file in the sources, two levels up from the build (dist/bench/). */
const SCRIPT = ['./wrk.lua', '../../bench/wrk.lua'].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((p) => existsSync(p))!;

/** What wrk sends, and how it knows a success (a path, or a reader's request). */
export type LoadRequest = Pick<PathSpec, 'method' | 'target' | 'body' | 'headers' | 'success'>;

export interface LoadSpec {
  /** One URL, or one per instance: the connections are split between them. */
  urls: string[];
  path: LoadRequest;
  /** The traffic file (see wrk.lua), or null for a request without variables. */
  data: string | null;
  connections: number;
  seconds: number;
  /** The first request number: unique across the run, so generated keys never repeat. */
  seq: number;
  /** Where the ids of the successes go (one file per URL and thread: `${ids}-${url}.${thread}`);
   * null leaves the answers unread. */
  ids: string | null;
  /** Wait this long between a connection's requests (a paced reader). */
  delayMs?: number;
  /** Processes whose CPU time is read before and after: the server's, the database backends'. */
  serverPids: number[];
  dbPids?: number[];
  /** Where to keep the spec and summary files. */
  dir: string;
}

export interface LoadResult {
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  requests: number;
  /** Successes (with their id when the answers were read); failed: every other answer. */
  answered: number;
  failed: number;
  /** The first failed answer (status and the start of its body), when the answers were read. */
  failure: string | null;
  /** Socket errors and timeouts (10 s). */
  errors: number;
  /** The id files written, one per URL and thread. */
  idFiles: string[];
  /** Wall-clock seconds of the window the CPU shares cover. */
  seconds: number;
  /** Shares of one core: the generator (all its wrk processes), the servers, the database (null
   * when not asked for or not readable). */
  loadCpu: number;
  serverCpu: number | null;
  dbCpu: number | null;
}

interface Summary {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  answered: number;
  failed: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
  failure: string | null;
}

const THREADS = 1;
let runs = 0;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function wrkVersion(): string | null {
  const run = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (run.error) return null;
  return /wrk \S+/.exec(run.stdout + run.stderr)?.[0] ?? 'wrk';
}

/** wrk, installed from Debian's packages when it is missing (the benchmark runs as root there). */
export function ensureWrk(): string {
  const version = wrkVersion();
  if (version) return version;
  console.log("The load generator, Debian's wrk, is not installed: installing it (apt-get update && apt-get install -y wrk).");
  const install = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y wrk'], { stdio: 'inherit' });
  const installed = install.status === 0 ? wrkVersion() : null;
  if (!installed) {
    throw new Error('Could not install wrk. Install it as root (apt-get update && apt-get install -y wrk, or your distribution\'s wrk package) and run the benchmark again.');
  }
  return installed;
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const run = ++runs;
  const share = (i: number) => Math.floor(spec.connections / spec.urls.length) + (i < spec.connections % spec.urls.length ? 1 : 0);
  const parts = spec.urls.map((url, i) => {
    const file = `${spec.dir}/wrk-${run}-${i}`;
    const lines = [
      `method ${spec.path.method}`,
      `target ${spec.path.target}`,
      ...(spec.path.body ? [`body ${spec.path.body}`] : []),
      ...Object.entries(spec.path.headers ?? {}).map(([name, value]) => `header ${name}: ${value}`),
      ...(spec.data ? [`data ${spec.data}`] : []),
      // Each URL's generator counts from its own block of numbers.
      `seq ${spec.seq + i * 100_000_000}`,
      ...(spec.ids
        ? [
            `status ${spec.path.success.status}`,
            `in ${spec.path.success.in}`,
            ...(spec.path.success.need ? [`need ${spec.path.success.need}`] : []),
            ...(spec.path.success.id ? [`id ${spec.path.success.id}`] : []),
            `ids ${spec.ids}-${i}`,
          ]
        : []),
      ...(spec.delayMs ? [`delay ${spec.delayMs}`] : []),
      `out ${file}.json`,
    ];
    writeFileSync(`${file}.spec`, `${lines.join('\n')}\n`);
    const command = ['wrk', `-t${THREADS}`, `-c${Math.max(THREADS, share(i))}`, `-d${spec.seconds}s`, '--timeout', '10s', '-s', SCRIPT, url];
    return { file, command: `CRUMB_WRK_SPEC=${quote(`${file}.spec`)} ${command.map(quote).join(' ')} >${quote(`${file}.log`)} 2>&1 &` };
  });
  // The shell waits for every wrk, then prints its own stat line: its children's CPU time in it.
  const script = `${parts.map((p) => p.command).join('\n')}\nwait\ncat /proc/$$/stat\n`;
  const [cmd, ...args] = pin(LOAD_CORE, ['sh', '-c', script]);

  const serverBefore = cpuSeconds(spec.serverPids);
  const dbBefore = cpuSeconds(spec.dbPids);
  const started = performance.now();
  const stat = await new Promise<string>((resolve, reject) => {
    const proc = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk failed (${code}): ${err}${out}`))));
  });
  const seconds = (performance.now() - started) / 1000;
  const serverAfter = cpuSeconds(spec.serverPids);
  const dbAfter = cpuSeconds(spec.dbPids);

  // Fields 16 and 17 of /proc/PID/stat (13 and 14 after the name): the waited-for children's time.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const loadCpu = (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  const summaries = parts.map((p) => {
    try {
      return JSON.parse(readFileSync(`${p.file}.json`, 'utf8')) as Summary;
    } catch (error) {
      const log = readFileSync(`${p.file}.log`, 'utf8');
      throw new Error(`wrk wrote no summary (${(error as Error).message}); its output:\n${log}`);
    }
  });
  for (const p of parts) for (const ext of ['spec', 'json', 'log']) rmSync(`${p.file}.${ext}`, { force: true });

  const sum = (f: (s: Summary) => number) => summaries.reduce((total, s) => total + f(s), 0);
  const worst = (f: (s: Summary) => number) => Math.max(...summaries.map(f)) / 1000;
  const cpuShare = (before: number | null, after: number | null) => (before === null || after === null ? null : (after - before) / seconds);
  return {
    rps: sum((s) => s.requests / (s.duration_us / 1e6)),
    p50: worst((s) => s.p50_us),
    p99: worst((s) => s.p99_us),
    max: worst((s) => s.max_us),
    requests: sum((s) => s.requests),
    answered: sum((s) => s.answered),
    failed: sum((s) => s.failed),
    failure: summaries.find((s) => s.failure)?.failure ?? null,
    errors: sum((s) => s.connect_errors + s.read_errors + s.write_errors + s.timeouts),
    idFiles: spec.ids ? spec.urls.flatMap((_, i) => Array.from({ length: THREADS }, (_, t) => `${spec.ids}-${i}.${t + 1}`)) : [],
    seconds,
    loadCpu: loadCpu / seconds,
    serverCpu: cpuShare(serverBefore, serverAfter),
    dbCpu: cpuShare(dbBefore, dbAfter),
  };
}
