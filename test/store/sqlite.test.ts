// The conformance suite on embedded SQLite: a file per database in a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../server/store/index.js';
import { storeConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'crumb-store-'));

storeConformance('sqlite', {
  open: (name, options) => openStore(join(dir, `${name}.db`), options),
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
});
