// Making a change to the network, for the management API and the file import alike: the change
// is computed against the current snapshot, checked (each entity by its schema, then the whole
// network by checkNetwork), and written as the next version only if no other change came first;
// otherwise it is computed again on the newer network. It is live on this instance before the
// call returns.
import { ENTITIES, type EntityKind, type Network, type Problem } from '../network.js';
import type { NetworkChangeMeta, NetworkWrite, Store } from '../store/types.js';
import type { LiveNetwork } from './live.js';
import { newProblems } from './state.js';

/** A change that cannot be made: the problems, each naming the field. */
export class ChangeRefused extends Error {
  constructor(
    readonly problems: { parameter: string; message: string }[],
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(problems.map((p) => `${p.parameter}: ${p.message}`).join('; '));
  }
}

const ATTEMPTS = 8;

/** Computes the writes of a change on `network` (throws ChangeRefused when it cannot be made),
 * checks them, writes them, and answers the network with the change applied. */
export async function changeNetwork(
  store: Store,
  live: LiveNetwork,
  compute: (network: Network) => NetworkWrite[] | Promise<NetworkWrite[]>,
  meta: Omit<NetworkChangeMeta, 'at'> & { at?: number },
  /** The entity the change is about (a function: a new entity's id is known once computed), so
   * that its own problems are named by their field. */
  subject?: () => { entity: EntityKind | 'network'; id: number },
): Promise<Network> {
  await live.ready;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const network = attempt === 0 ? live.current : await live.refresh();
    const writes = await compute(network);
    if (!writes.length) return network;
    const problems = newProblems(network.state, writes);
    if (problems.length) throw new ChangeRefused(problems.map((p) => asParameter(p, subject?.())));
    const version = await store.writeNetwork(network.version, writes, { ...meta, at: meta.at ?? Date.now() });
    if (version !== null) {
      const after = await live.refresh();
      if (after.version < version) throw new Error(`the network did not reach version ${version} after writing it`);
      return after;
    }
  }
  throw new ChangeRefused([{ parameter: 'network', message: 'it is being changed by others right now: send the change again' }], 409);
}


/** A problem as an API error: named by the field when it is the changed entity's own, else by
 * the entity that holds it ("creative 1057 offer_id: offer 12345 is not in offers"). */
function asParameter(p: Problem, subject?: { entity: EntityKind | 'network'; id: number }): { parameter: string; message: string } {
  if (!subject || p.entity === 'network' || (p.entity === subject.entity && (p.id === subject.id || p.id === null))) {
    return { parameter: p.field, message: p.message };
  }
  const key = subject.entity === 'network' ? 'network' : ENTITIES[subject.entity].key;
  const holder = `${ENTITIES[p.entity].singular} ${p.id ?? ''}`.trim();
  return { parameter: key, message: `${holder} ${p.field}: ${p.message}` };
}
