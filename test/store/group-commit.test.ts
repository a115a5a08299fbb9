// The SQLite store's group commit: jobs of one batch share a transaction, each in its own savepoint.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreOverloaded } from '../../server/store/errors.js';
import { writeQueue } from '../../server/store/sqlite.js';

let db: Database.Database;
afterEach(() => db?.close());

function open(maxQueued?: number) {
  db = new Database(':memory:');
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  return writeQueue(db, 100, maxQueued);
}
const insert = (name: string) => () => db.prepare('INSERT INTO rows (name) VALUES (?)').run(name).lastInsertRowid;
const names = () => (db.prepare('SELECT name FROM rows ORDER BY id').all() as { name: string }[]).map((r) => r.name);

describe('group commit', () => {
  it('undoes only the job that failed; the rest of its batch commits', async () => {
    const write = open();
    const results = await Promise.allSettled([
      write(insert('first')),
      write(() => {
        insert('half-written')();
        throw new Error('refused');
      }),
      write(insert('third')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(names()).toEqual(['first', 'third']);
  });

  for (const single of [false, true]) {
    it(`fails every job of a batch that SQLite rolled back by itself (disk full, I/O error), and keeps none (${single ? 'one-statement jobs' : 'jobs in savepoints'})`, async () => {
      const write = open();
      const results = await Promise.allSettled([
        write(insert('first'), { single }),
        // What SQLITE_FULL does: the whole transaction is gone, then the statement throws.
        write(() => {
          db.exec('ROLLBACK');
          throw new Error('database or disk is full');
        }, { single }),
        write(insert('third'), { single }),
      ]);
      // The jobs before it were rolled back with it, and the ones after must not run in autocommit:
      // none of them may answer success, and none may be kept.
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(names()).toEqual([]);
      expect(db.inTransaction).toBe(false);
      // The queue goes on working afterwards.
      await write(insert('later'), { single });
      expect(names()).toEqual(['later']);
    });
  }

  it('refuses jobs past its bound at once, runs none of them, and still takes unbounded ones (the dispatcher\'s)', async () => {
    const write = open(3);
    const results = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((name) => write(insert(name))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(StoreOverloaded);
    expect((results[3] as PromiseRejectedResult).reason.message).toBe(
      'The server is busy: the SQLite write queue already holds 3 writes waiting for the database; retry in a second',
    );
    expect(names()).toEqual(['a', 'b', 'c']);
    const more = await Promise.allSettled([write(insert('f')), write(insert('g')), write(insert('h')), write(insert('outcome'), { unbounded: true })]);
    expect(more.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});
