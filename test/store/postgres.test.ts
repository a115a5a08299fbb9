// The conformance suite on PostgreSQL, each database of the suite a schema of its own.
import { afterAll } from 'vitest';
import { openStore } from '../../server/store/index.js';
import { describePostgres } from '../support/pg.js';
import { storeConformance } from './conformance.js';

describePostgres('postgres store', (schemas) => {
  afterAll(() => schemas.dropAll());
  storeConformance('postgres', {
    open: async (name, options) => openStore(await schemas.create(name), options),
    cleanup: async () => {},
  });
});
