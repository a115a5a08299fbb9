// A reader thread for the SQLite store's heavy reads (summary reports): a worker thread with a
// read-only connection of its own, so that a report scanning millions of rows runs beside the event
// loop, never on it, and clicks keep being answered and committed meanwhile (WAL: readers and the
// writer do not block each other). Each request runs its statements in one read transaction (one
// snapshot). Node-specific, like sqlite.ts.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Statement } from './network-sql.js';

// The worker's code, evaluated as CommonJS: it loads the same driver as the store.
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const read = db.transaction((statements) => statements.map((s) => db.prepare(s.sql).all(...s.params)));
parentPort.on('message', ({ id, statements }) => {
  try {
    parentPort.postMessage({ id, results: read(statements) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

export interface Reader {
  /** The rows of each statement, read in one snapshot on the reader thread. */
  read(statements: Statement[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

export function sqliteReader(path: string): Reader {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CODE, { eval: true, workerData: { path, driver } });
  // An idle reader does not keep the process alive.
  worker.unref();
  const waiting = new Map<number, { resolve: (rows: unknown[][]) => void; reject: (error: Error) => void }>();
  let next = 0;
  let failed: Error | null = null;
  worker.on('message', (m: { id: number; results?: unknown[][]; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!w) return;
    if (m.error !== undefined) w.reject(new Error(m.error));
    else w.resolve(m.results!);
  });
  const fail = (error: Error) => {
    failed = error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the SQLite reader thread stopped (exit code ${code})`)));
  return {
    read(statements) {
      if (failed) return Promise.reject(failed);
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, statements });
      }).finally(() => {
        if (!waiting.size) worker.unref();
      }) as Promise<unknown[][]>;
    },
    async close() {
      await worker.terminate();
    },
  };
}
