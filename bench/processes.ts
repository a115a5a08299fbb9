// The processes of a run: which core each is pinned to, starting a server and waiting for the line
// that says where it listens, stopping it by its pid, and reading its CPU time and memory from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const cores = cpus().length;
export const pinned = cores >= 2 && spawnSync('taskset', ['--version']).status === 0;
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;
export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

export const pin = (core: number, command: string[]) => (pinned ? ['taskset', '-c', String(core), ...command] : command);

const LIFETIME = new URL('./lifetime.js', import.meta.url).href;

/** The node flags Crumb runs with, as `npm start` gives them (package.json; a test holds the two
 * the same): young-generation semi-spaces of 4 MiB instead of 16, which kept the RSS under a click
 * load 25 to 40 MiB lower at the same rate (a click's garbage dies young; bench/RESULTS.md). */
export const CRUMB_NODE_FLAGS = ['--max-semi-space-size=4'];

/** `node` running `script` on the server core, bounded in time by lifetime.ts (see start). */
export function nodeServer(script: string, args: string[], flags: string[] = []): string[] {
  return pin(SERVER_CORE, [process.execPath, ...flags, '--import', LIFETIME, script, ...args]);
}

export interface Proc {
  proc: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Whatever way the harness ends, the servers it started end with it (lifetime.ts is the backstop).
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** Starts a server (a command from nodeServer) with its lifetime in seconds, and resolves once it
 * prints "listening on http://HOST:PORT". */
export function start(command: string[], label: string, lifetime: number, startSeconds = 30): Promise<Proc> {
  const proc = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CRUMB_BENCH_LIFETIME: String(Math.ceil(lifetime)) },
  });
  running.add(proc);
  let output = '';
  let listening = false;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      running.delete(proc);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${label} did not start within ${startSeconds} s:\n${output}`));
    }, startSeconds * 1000);
    // Once the server listens, its output (a log line per API request) is drained and dropped:
    // kept, it grew without bound and was searched on every chunk, and a reader that falls behind
    // makes the server's writes to the pipe wait (it measured conversion.json, not Crumb).
    proc.stderr!.on('data', (d) => {
      if (!listening) output += d;
    });
    proc.stdout!.on('data', (d) => {
      if (listening) return;
      output += d;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (!match) return;
      listening = true;
      clearTimeout(timer);
      resolve({
        proc,
        pid: proc.pid!,
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

/** CPU seconds (user + system) the processes have used, from /proc; null if one cannot be read. */
export function cpuSeconds(pids: number[] | undefined): number | null {
  if (!pids?.length) return null;
  try {
    return pids.reduce((total, pid) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return total + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    }, 0);
  } catch {
    return null;
  }
}

/** Resident memory in MiB. */
export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}
