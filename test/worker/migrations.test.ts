// The D1 migrations wrangler applies are the SQLite store's own, generated, never edited by hand:
// the committed files are exactly what server/worker/migrations.ts makes from sqlite-schema.ts,
// and the example wrangler.jsonc points at them and at the bundle.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unstable_readConfig } from 'wrangler';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../server/store/sqlite-schema.js';
import { d1Migrations, MIGRATIONS_DIR } from '../../server/worker/migrations.js';
import { ROOT } from '../support/process.js';

describe('D1 migrations', () => {
  it('are committed as generated from sqlite-schema.ts, one per version (else run npm run d1:migrations)', () => {
    const dir = join(ROOT, MIGRATIONS_DIR);
    const generated = d1Migrations();
    expect(generated.map((f) => f.name)).toEqual(migrations.map((m) => `${String(m.version).padStart(4, '0')}_crumb_v${m.version}.sql`));
    expect(readdirSync(dir).filter((n) => n.endsWith('.sql')).sort()).toEqual(generated.map((f) => f.name));
    for (const f of generated) expect(readFileSync(join(dir, f.name), 'utf8'), `${f.name} differs from what npm run d1:migrations writes`).toBe(f.text);
  });

  it('hold every statement of their version and record it', () => {
    for (const [i, f] of d1Migrations().entries()) {
      const m = migrations[i]!;
      for (const table of m.sql.match(/CREATE (?:UNIQUE )?(?:TABLE|INDEX) \w+/g) ?? []) expect(f.text).toContain(table);
      expect(f.text).toContain(`INSERT INTO schema_migrations (version, applied_at) VALUES (${m.version}, `);
    }
  });

  it('are the folder the example wrangler.jsonc applies, for the D1 binding and the bundle the worker is', () => {
    const config = unstable_readConfig({ config: join(ROOT, 'server/worker/wrangler.jsonc') });
    expect(config.main).toBe(join(ROOT, 'dist/worker.js'));
    expect(config.no_bundle).toBe(true);
    expect(config.d1_databases).toEqual([expect.objectContaining({ binding: 'DB', migrations_dir: 'migrations' })]);
    expect(config.triggers.crons).toEqual(['* * * * *']);
    expect(config.compatibility_flags).not.toContain('nodejs_compat');
  });
});
