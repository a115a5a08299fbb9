// Writes the D1 migrations (migrations.ts) into server/worker/migrations/, for wrangler. Run by
// `npm run build:worker`; Node only, never part of the worker bundle.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { d1Migrations, MIGRATIONS_DIR } from './migrations.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dir = join(root, MIGRATIONS_DIR);
mkdirSync(dir, { recursive: true });
const files = d1Migrations();
// A file no version makes any more (never the case for a shipped version) would be applied by wrangler.
for (const name of readdirSync(dir)) if (name.endsWith('.sql') && !files.some((f) => f.name === name)) rmSync(join(dir, name));
for (const f of files) writeFileSync(join(dir, f.name), f.text);
