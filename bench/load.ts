// The load generator, run in its own process (pinned to its own core when the machine allows):
// drives one path with autocannon at fixed concurrency for a fixed time, notes the id of every
// successful answer, and prints its figures as JSON.
//
// With several target URLs (several Crumb instances on one PostgreSQL database), the connections are
// split evenly between them, as a round-robin load balancer would, by one autocannon per URL running
// at the same time in this process. Rates add up; latency percentiles cannot be merged without the
// raw histograms, so p50, p99 and max are those of the slowest instance.
import autocannon, { type Result } from 'autocannon';
import { appendFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PATHS, type PathName } from './paths.js';

export interface LoadSpec {
  /** One URL, or one per instance: the connections are split between them. */
  urls: string[];
  path: PathName;
  connections: number;
  duration: number;
  /** First request number: unique across the run, so generated keys never repeat. */
  seq: number;
  reqidsFile: string | null;
  idsFile: string | null;
  /** Processes whose CPU time is read when the load starts and when it ends: Crumb's instances, and
   * the database backends serving them (PostgreSQL on this machine). */
  serverPids?: number[];
  dbPids?: number[];
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  ok: number;
  failed: number;
  errors: number;
  timeouts: number;
  /** Wall-clock seconds from the first request to the last answer, and the CPU seconds the server
   * and database processes used meanwhile (null when not asked for or not readable). */
  seconds: number;
  serverCpu: number | null;
  dbCpu: number | null;
  /** CPU seconds this load generator used: near `seconds`, it is the generator that limits. */
  loadCpu: number;
}

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const path = PATHS[spec.path];
const reqids = spec.reqidsFile ? readFileSync(spec.reqidsFile, 'utf8').split('\n').filter(Boolean) : [];
let n = spec.seq;
let ok = 0;
let failed = 0;
const ids: string[] = [];

function run(url: string, connections: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: spec.duration,
        requests: [
          {
            setupRequest: (request) => ({ ...request, ...path.request(n++, reqids) }),
            onResponse: (status, body, _context, headers) => {
              const id = path.answered(status, body, headers);
              if (id === null) failed++;
              else {
                ok++;
                if (id) ids.push(id);
              }
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** CPU seconds (user + system) the processes have used, from /proc; null if one cannot be read. */
function cpuSeconds(pids: number[] | undefined): number | null {
  if (!pids?.length) return null;
  try {
    return pids.reduce((total, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return total + (Number(fields[11]) + Number(fields[12])) / 100;
    }, 0);
  } catch {
    return null;
  }
}
const used = (before: number | null, after: number | null) => (before === null || after === null ? null : after - before);

const share = (i: number) => Math.floor(spec.connections / spec.urls.length) + (i < spec.connections % spec.urls.length ? 1 : 0);
const started = performance.now();
const ownBefore = process.cpuUsage();
const serverBefore = cpuSeconds(spec.serverPids);
const dbBefore = cpuSeconds(spec.dbPids);
const results = await Promise.all(spec.urls.map((url, i) => run(url, share(i))));
const serverCpu = used(serverBefore, cpuSeconds(spec.serverPids));
const dbCpu = used(dbBefore, cpuSeconds(spec.dbPids));
const seconds = (performance.now() - started) / 1000;
const own = process.cpuUsage(ownBefore);
const loadCpu = (own.user + own.system) / 1e6;
if (spec.idsFile && ids.length) appendFileSync(spec.idsFile, `${ids.join('\n')}\n`);
const worst = (f: (r: Result) => number) => Math.max(...results.map(f));
const sum = (f: (r: Result) => number) => results.reduce((total, r) => total + f(r), 0);
const out: LoadResult = {
  rps: sum((r) => r.requests.average),
  p50: worst((r) => r.latency.p50),
  p99: worst((r) => r.latency.p99),
  max: worst((r) => r.latency.max),
  ok,
  failed,
  errors: sum((r) => r.errors),
  timeouts: sum((r) => r.timeouts),
  seconds,
  serverCpu,
  dbCpu,
  loadCpu,
};
console.log(JSON.stringify(out));
