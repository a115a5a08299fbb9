// Starts the built server (dist/server/node.js, as `npm start` runs it) as a child process on a free
// port on 127.0.0.1, and stops it by its process id.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ENTRY = 'dist/server/node.js';

export interface ServerProcess {
  proc: ChildProcess;
  /** http://localhost:PORT, from the server's own banner. */
  url: string;
  port: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (or the given signal) and wait for it to exit; resolves to its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startServer(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [ENTRY, '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not start within ${options.timeoutMs ?? 15000} ms:\n${output}`));
    }, options.timeoutMs ?? 15_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+:(\d+))/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      proc.stdout!.off('data', check);
      resolve({
        proc,
        url: match[1]!,
        port: Number(match[2]),
        output: () => output,
        stop: async (signal = 'SIGTERM') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    };
    proc.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with code ${code} before listening:\n${output}`));
    });
  });
}

/** Runs the entry (or another built command, such as dist/server/backup.js) to completion, for
 * commands that should exit; resolves to its code and output. */
export function runEntry(args: string[], env: Record<string, string> = {}, entry = ENTRY): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [entry, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
