// A reader thread for the SQLite store's heavy reads (summary reports): a worker thread with a
// read-only connection of its own, so that a report scanning millions of rows runs beside the event
// loop, never on it, and clicks keep being answered and committed meanwhile (WAL: readers and the
// writer do not block each other). Each request runs its statements in one read transaction (one
// snapshot). A summary report is also merged, sorted and paged there (reports/page.ts), so that
// only its page crosses to the event loop's heap. Node-specific, like sqlite.ts.
import { createRequire } from 'node:module';
import { deserialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { THREAD_CODE } from '../reports/page.js';
import { yieldLoop } from '../slices.js';
import type { Statement } from './network-sql.js';
import type { ReportOrder, ReportPage } from './types.js';

// The worker's code, evaluated as CommonJS: it loads the same driver as the store. Each statement's
// rows go back as arrays (the column names once per statement: a report by sub id has 100,000 rows,
// and v8's format writes an object's keys with every row, twice the bytes and the decoding), in
// slices serialized here (v8's format, the one postMessage uses), so that the event loop decodes
// them a slice at a time instead of 10,000 rows in one go. The thread asks Linux for a lower
// priority (nice 10, on its own thread id): where it shares a core with the event loop, the loop's
// clicks run first and the report waits.
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { deserialize, serialize } = require('node:v8');
// page.ts's functions, at the top level beside this code's own names: a name both used would stop
// the thread from starting (every reader test would fail; page.test.ts checks the text needs
// nothing else).
${THREAD_CODE}
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, workerData.nice);
} catch {}
const Database = require(workerData.driver);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const read = db.transaction((statements) => statements.map((s) => {
  const statement = db.prepare(s.sql).raw(true);
  return { columns: statement.columns().map((c) => c.name), rows: statement.all(...s.params) };
}));
const objects = (columns, rows) => rows.map((values) => {
  const row = {};
  for (let c = 0; c < columns.length; c++) row[columns[c]] = values[c];
  return row;
});
const decode = ({ columns, slices }) => objects(columns, slices.flatMap((slice) => deserialize(slice)));
// A report's clicks, kept here by the id of the read that held them until its report asks.
const held = new Map();
parentPort.on('message', ({ id, statements, hold, drop, report }) => {
  try {
    if (hold) {
      held.set(id, read([hold])[0]);
      return parentPort.postMessage({ id, held: id });
    }
    if (drop !== undefined) {
      held.delete(drop);
      return parentPort.postMessage({ id });
    }
    if (report) {
      const clicks = held.get(report.held);
      held.delete(report.held);
      if (!clicks) throw new Error("the report's clicks are no longer held on the reader thread (it was restarted): ask again");
      const page = finish(pageSteps(objects(clicks.columns, clicks.rows), decode(report.conversions), report.order));
      return parentPort.postMessage({ id, page });
    }
    const results = read(statements).map(({ columns, rows }) => {
      const slices = [];
      for (let at = 0; at < rows.length || at === 0; at += workerData.slice) slices.push(serialize(rows.slice(at, at + workerData.slice)));
      return { columns, slices };
    });
    // A slice that owns its memory is moved, not copied.
    const moved = results.flatMap((r) => r.slices).filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength).map((b) => b.buffer);
    parentPort.postMessage({ id, results }, moved);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

/** A statement's answer as the thread sends it: its column names, and its rows as arrays in
 * serialized slices. */
export interface Sliced {
  columns: string[];
  slices: Uint8Array[];
}

/** Rows per slice: decoding one takes well under a millisecond of the event loop. */
const SLICE = 500;
const NICE = 10;

export interface Reader {
  /** The rows of each statement, read in one snapshot on the reader thread. */
  read(statements: Statement[]): Promise<unknown[][]>;
  /** A summary report's page (reports/page.ts) from its two statements (report-sql.ts): the
   * clicks read here and the conversions on `beside` at once (they are separate counts and need
   * no snapshot in common), then merged and paged here, where the clicks' rows stayed: only the
   * conversions' slices pass through the event loop (undecoded), and only the page comes back. */
  report(clicks: Statement, conversions: Statement, order: ReportOrder, beside?: Reader): Promise<ReportPage>;
  /** The answers as the thread sends them, not decoded (for `report`). */
  readSliced(statements: Statement[]): Promise<Sliced[]>;
  /** Requests sent to the thread and not answered yet: which of two readers to ask. */
  readonly pending: number;
  close(): Promise<void>;
}

/** Readers, the one with the fewest reads waiting first, the earlier on a tie (so a second thread
 * starts only when the first is busy): a list's page does not queue behind a report's long
 * statement while the other thread is free. */
export function byPending(readers: readonly Reader[]): Reader[] {
  return [...readers].sort((a, b) => a.pending - b.pending);
}

/** The thread starts at the first read and ends after this long without one: a process that
 * serves no reports does not keep a second heap and page cache for them. */
const IDLE_MS = 60_000;

export function sqliteReader(path: string, idleMs = IDLE_MS): Reader {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  type Answer = { results?: Sliced[]; page?: ReportPage; held?: number };
  type Waiting = Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>;
  let next = 0;
  let worker: { thread: Worker; waiting: Waiting } | null = null;
  let idle: ReturnType<typeof setTimeout> | undefined;

  // Each thread has its own reads: one that was ended for idleness reports its exit after the next
  // thread may have started, and must not fail that thread's reads.
  const start = () => {
    const thread = new Worker(CODE, { eval: true, workerData: { path, driver, slice: SLICE, nice: NICE } });
    const waiting: Waiting = new Map();
    const w = { thread, waiting };
    thread.on('message', (m: Answer & { id: number; error?: string }) => {
      const r = waiting.get(m.id);
      waiting.delete(m.id);
      if (!r) return;
      if (m.error !== undefined) r.reject(new Error(m.error));
      else r.resolve(m);
    });
    // A thread that fails takes its reads with it; the next read starts another.
    const fail = (error: Error) => {
      if (worker === w) worker = null;
      for (const r of waiting.values()) r.reject(error);
      waiting.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the SQLite reader thread stopped (exit code ${code})`)));
    return w;
  };

  type Message =
    | { statements: Statement[] }
    | { hold: Statement }
    | { drop: number }
    | { report: { held: number; conversions: Sliced; order: ReportOrder } };
  const ask = async (message: Message, transfer: ArrayBuffer[] = []): Promise<Answer> => {
    clearTimeout(idle);
    const w = (worker ??= start());
    const id = next++;
    return new Promise<Answer>((resolve, reject) => {
      w.waiting.set(id, { resolve, reject });
      w.thread.ref();
      try {
        w.thread.postMessage({ id, ...message }, transfer);
      } catch (error) {
        // Not sent (a value that cannot be cloned): nothing will answer it.
        w.waiting.delete(id);
        reject(error as Error);
      }
    }).finally(() => {
      if (w.waiting.size || worker !== w) return;
      // An idle reader does not keep the process alive, and ends after a while.
      w.thread.unref();
      idle = setTimeout(() => {
        if (worker === w && !w.waiting.size) {
          worker = null;
          void w.thread.terminate();
        }
      }, idleMs);
      idle.unref();
    });
  };

  const reader: Reader = {
    get pending() {
      return worker?.waiting.size ?? 0;
    },
    async readSliced(statements) {
      return (await ask({ statements })).results!;
    },
    async read(statements) {
      const answers = await reader.readSliced(statements);
      // Decoded a slice at a time, the loop free between slices to answer what is waiting.
      const results: unknown[][] = [];
      for (const { columns, slices } of answers) {
        const rows: unknown[] = [];
        for (const [i, slice] of slices.entries()) {
          if (i > 0) await yieldLoop();
          for (const values of deserialize(slice) as unknown[][]) {
            const row: Record<string, unknown> = {};
            for (let c = 0; c < columns.length; c++) row[columns[c]!] = values[c];
            rows.push(row);
          }
        }
        results.push(rows);
      }
      return results;
    },
    async report(clicks, conversions, order, beside = reader) {
      const [held, converted] = await Promise.allSettled([ask({ hold: clicks }), beside.readSliced([conversions])]);
      if (held.status === 'rejected' || converted.status === 'rejected') {
        // The clicks are not left held on the thread for a report that will not come.
        if (held.status === 'fulfilled') void ask({ drop: held.value.held! }).catch(() => {});
        throw held.status === 'rejected' ? held.reason : (converted as PromiseRejectedResult).reason;
      }
      const [v] = converted.value;
      // The conversions' slices move on to this thread, never decoded on the event loop.
      const transfer = [...new Set(v!.slices.map((b) => b.buffer as ArrayBuffer))];
      return (await ask({ report: { held: held.value.held!, conversions: v!, order } }, transfer)).page!;
    },
    async close() {
      clearTimeout(idle);
      const w = worker;
      worker = null;
      if (w) await w.thread.terminate();
    },
  };
  return reader;
}
