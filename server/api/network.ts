// Managing the network through the v2 API (PROTOCOL.md 9), admin keys only:
//   POST | GET | PUT | DELETE  /api/2/{advertisers,affiliates,offers,creatives,campaigns,tracking_domains}.json
//   GET  /api/2/network.json   the whole network in the network file's shape (an export)
//   PUT  /api/2/network.json   change the network's settings (only the fields sent)
//   POST /api/2/network.json   import a network file (an upsert, as --config at start)
//   GET  /api/2/changes.json   the change log
// Entities are read from the snapshot (no store query), written through changeNetwork (checked,
// versioned, live on every instance within seconds). Bodies are JSON (nested fields and events)
// or form fields, whose text is read as the schema's types.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { checkAsked, entityInScope, keySource, outOfScope, randomSecret, sha256Hex } from '../auth.js';
import { ENTITIES, ENTITY_KINDS, describeField, networkFileOf, publicSettings, settingsSchema, NetworkError, type Campaign, type EntityKind, type Network, type Settings } from '../network.js';
import { ChangeRefused, changeNetwork } from '../network/change.js';
import { fileWrites, parseFileText } from '../network/import.js';
import { BadParams, dateParam, dateRange, enumParam, formatDate, idParam, paging, pagingParams, parseParams, textParam, withoutEmpty, type Params } from '../params.js';
import type { NetworkWrite, Scope } from '../store/types.js';
import { requireAdmin, success, type Api } from './index.js';

/** The parents an entity's list may be filtered by. */
const PARENTS: Record<EntityKind, string[]> = {
  advertisers: [],
  affiliates: [],
  offers: ['advertiser_id'],
  creatives: ['offer_id'],
  campaigns: ['affiliate_id', 'offer_id'],
  tracking_domains: [],
};

export const changeParams = z.object({
  entity: enumParam(['network', 'api_keys', ...ENTITY_KINDS]).optional(),
  entity_id: textParam(20).optional(),
  start_date: dateParam.optional(),
  end_date: dateParam.optional(),
  ...pagingParams(1000),
});

/** An entity list's filters and paging (GET). */
export function entityListParams(kind: EntityKind) {
  const { key: idKey, status: statusKey } = ENTITIES[kind];
  return z.object({
    [idKey]: idParam.optional(),
    [statusKey]: enumParam(['active', 'inactive']).optional(),
    ...Object.fromEntries(PARENTS[kind].map((p) => [p, idParam.optional()])),
    ...pagingParams(10_000),
  });
}

/** The id an entity is changed or deleted by (PUT, DELETE). */
export function entityIdParams(kind: EntityKind) {
  return z.object({ [ENTITIES[kind].key]: idParam });
}

/** Control parameters, never entity fields. */
const CONTROL = new Set(['api_key', 'start_at_row', 'row_limit']);

export function networkApi(api: Api, deps: AppDeps) {
  for (const kind of ENTITY_KINDS) entityRoutes(api, deps, kind);

  api.get('/network.json', (c) => {
    requireAdmin(c);
    const network = deps.network;
    return success(c, { version: network.version, network: networkFileOf(network.state) });
  });

  api.put('/network.json', async (c) => {
    const key = requireAdmin(c);
    const input = await entityInput(c, settingsSchema);
    const network = await changeNetwork(
      deps.store,
      deps.live,
      (current) => {
        const after = check(settingsSchema, { ...current.state.settings, ...input });
        return [{ entity: 'network', id: 1, before: current.state.settings, after }];
      },
      { source: keySource(key) },
      () => ({ entity: 'network', id: 1 }),
    );
    return success(c, { network: networkFileOf(network.state).network });
  });

  api.post('/network.json', async (c) => {
    const key = requireAdmin(c);
    const text = await c.req.text();
    let writes: NetworkWrite[] = [];
    const network = await changeNetwork(
      deps.store,
      deps.live,
      async (current) => {
        try {
          const parsed = parseFileText(text, { alone: false });
          writes = fileWrites(current.state, parsed, await Promise.all(parsed.api_keys.map(sha256Hex)), deps.clock());
          return writes;
        } catch (error) {
          if (error instanceof NetworkError) throw new ChangeRefused(error.problems.map((line) => ({ parameter: 'body', message: line })));
          throw error;
        }
      },
      { source: `${keySource(key)} (import)` },
    );
    return success(c, { version: network.version, changes: writes.length });
  });

  api.get('/changes.json', async (c) => {
    requireAdmin(c);
    const p = parseParams(changeParams, withoutEmpty(c.get('params')));
    const { rows, total } = await deps.store.listChanges({ entity: p.entity, entity_id: p.entity_id, ...dateRange(p), ...paging(p) });
    return success(c, {
      total_rows: total,
      changes: rows.map((r) => ({
        change_id: r.change_id,
        version: r.version,
        changed_at: formatDate(r.changed_at),
        source: r.source,
        entity: r.entity,
        entity_id: r.entity === 'network' ? null : Number(r.entity_id),
        before: shown(r.entity, r.before),
        after: shown(r.entity, r.after),
      })),
    });
  });
}

function entityRoutes(api: Api, deps: AppDeps, kind: EntityKind) {
  const { schema, key: idKey, status: statusKey, singular } = ENTITIES[kind];
  const path = `/${kind}.json`;
  const listParams = entityListParams(kind);
  const idOnly = entityIdParams(kind);
  const present = (network: Network, entity: object) =>
    kind === 'tracking_domains'
      ? // The domain served for any other host: the one marked default, else the first.
        { ...entity, is_default: entity === network.domainFor(undefined) }
      : entity;

  // Admin keys read every entity; an affiliate key its own campaigns, every key the tracking
  // domains (auth.ts says who may call this at all).
  api.get(path, (c) => {
    const network = deps.network;
    const key = c.get('key');
    const scope = c.get('scope');
    const p = parseParams(listParams, withoutEmpty(c.get('params'))) as Record<string, number | string | undefined>;
    checkAsked(key, network, p as { affiliate_id?: number; advertiser_id?: number; offer_id?: number });
    const all = visibleEntities(network, kind, key, scope);
    // One by its id; tracking domains keep section 7's list answer, the id a filter.
    if (p[idKey] !== undefined && kind !== 'tracking_domains') {
      const found = (network.state[kind] as Map<number, object>).get(p[idKey] as number);
      if (!found) throw new HTTPException(404, { message: `${idKey} ${p[idKey]}: there is no such ${singular.replace('_', ' ')}` });
      if (!entityInScope(network, kind, found, scope)) throw outOfScope(key, `${idKey} ${p[idKey]} is outside this key's scope`);
      return success(c, { [singular]: present(network, found) });
    }
    const filters = [idKey, statusKey, ...PARENTS[kind]].filter((f) => p[f] !== undefined);
    const rows = all.filter((e) => filters.every((f) => (e as Record<string, unknown>)[f] === p[f]));
    const { offset, limit } = paging(p as { start_at_row?: number; row_limit?: number });
    return success(c, { total_rows: rows.length, [kind]: rows.slice(offset, offset + limit).map((e) => present(network, e)) });
  });

  api.post(path, async (c) => {
    const key = requireAdmin(c);
    const input = await entityInput(c, schema);
    let id = input[idKey] as number | undefined;
    const network = await changeNetwork(
      deps.store,
      deps.live,
      (current) => {
        const write = createWrite(current, kind, input);
        id = write.id;
        return [write];
      },
      { source: keySource(key) },
      () => ({ entity: kind, id: id ?? 0 }),
    );
    return success(c, { [singular]: present(network, (network.state[kind] as Map<number, object>).get(id!)!) });
  });

  api.put(path, async (c) => {
    const key = requireAdmin(c);
    const input = await entityInput(c, schema);
    const id = parseParams(idOnly, withoutEmpty(stringsOf(input)))[idKey] as number;
    const network = await changeNetwork(
      deps.store,
      deps.live,
      (current) => [updateWrite(current, kind, id, input)],
      { source: keySource(key) },
      () => ({ entity: kind, id }),
    );
    return success(c, { [singular]: present(network, (network.state[kind] as Map<number, object>).get(id)!) });
  });

  api.delete(path, async (c) => {
    const key = requireAdmin(c);
    const id = parseParams(idOnly, withoutEmpty(c.get('params')))[idKey] as number;
    const name = `${singular.replace('_', ' ')} ${id}`;
    if (await deps.store.hasHistory(kind, id)) {
      throw new ChangeRefused(
        [{ parameter: idKey, message: `${name} has clicks, leads or conversions, so it is kept for the reports: set ${statusKey} to inactive (PUT ${kind}.json) instead` }],
        409,
      );
    }
    await changeNetwork(
      deps.store,
      deps.live,
      (current) => {
        const before = (current.state[kind] as Map<number, object>).get(id);
        if (!before) throw new ChangeRefused([{ parameter: idKey, message: `there is no ${name}` }], 404);
        return [{ entity: kind, id, before, after: null }];
      },
      { source: keySource(key) },
      () => ({ entity: kind, id }),
    );
    return success(c, { message: `${name[0]!.toUpperCase()}${name.slice(1)} deleted` });
  });
}

/** The entities of a kind a key may read: every one for an admin key, else those inside its scope. */
export function visibleEntities(network: Network, kind: EntityKind, key: { role: string }, scope: Scope): object[] {
  const every = [...(network.state[kind] as Map<number, object>).values()];
  return key.role === 'admin' ? every : every.filter((e) => entityInScope(network, kind, e, scope));
}

/** The write that creates an entity from the fields given (a new id when none is given), checked
 * by its schema and the campaign rule: what POST {kind}.json writes, for every API. */
export function createWrite(current: Network, kind: EntityKind, input: Record<string, unknown>): NetworkWrite & { id: number; after: object } {
  const { schema, key: idKey, singular } = ENTITIES[kind];
  const map = current.state[kind] as Map<number, object>;
  const given = input[idKey] as number | undefined;
  if (given !== undefined && map.has(given)) {
    throw new ChangeRefused([{ parameter: idKey, message: `${singular.replace('_', ' ')} ${given} exists already: change it with PUT, or leave ${idKey} out to get a new id` }], 409);
  }
  const id = given ?? Math.max(0, ...map.keys()) + 1;
  const fields = { ...input, [idKey]: id };
  // A campaign without a post key gets a random one, as CAKE gives every campaign one.
  if (kind === 'campaigns' && fields.ckm_key === undefined) fields.ckm_key = randomSecret(24);
  const after = check(schema, fields) as object;
  if (kind === 'campaigns') campaignRule(current, null, after as Campaign);
  return { entity: kind, id, before: null, after };
}

/** The write that changes the fields given of an entity (the others kept): what PUT {kind}.json
 * writes, for every API. */
export function updateWrite(current: Network, kind: EntityKind, id: number, input: Record<string, unknown>): NetworkWrite & { after: object } {
  const { schema, key: idKey, singular } = ENTITIES[kind];
  const before = (current.state[kind] as Map<number, object>).get(id);
  if (!before) throw new ChangeRefused([{ parameter: idKey, message: `there is no ${singular.replace('_', ' ')} ${id}: create it with POST` }], 404);
  const after = check(schema, { ...before, ...input, [idKey]: id }) as object;
  if (kind === 'campaigns') campaignRule(current, before as Campaign, after as Campaign);
  return { entity: kind, id, before, after };
}

/** An active campaign is opened only for an active affiliate and offer: traffic sent through it
 * would be refused anyway. (Deactivating an affiliate later leaves its campaigns as they are.) */
function campaignRule(network: Network, before: Campaign | null, after: Campaign) {
  if (after.status !== 'active') return;
  if (before && before.status === 'active' && before.affiliate_id === after.affiliate_id && before.offer_id === after.offer_id) return;
  const problems = [];
  if (network.affiliates.get(after.affiliate_id)?.status === 'inactive') {
    problems.push({ parameter: 'affiliate_id', message: `affiliate ${after.affiliate_id} is inactive: activate it first, or send status=inactive` });
  }
  if (network.offers.get(after.offer_id)?.status === 'inactive') {
    problems.push({ parameter: 'offer_id', message: `offer ${after.offer_id} is inactive: activate it first, or send status=inactive` });
  }
  if (problems.length) throw new ChangeRefused(problems);
}

/** What the change log shows of an entity: a key's hash never. */
function shown(entity: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  // The change log keeps the settings whole; the API never shows their secrets.
  if (entity === 'network') return publicSettings(value as Settings);
  if (entity !== 'api_keys') return value;
  const { key_hash: _hash, ...rest } = value as Record<string, unknown>;
  return rest;
}

/** The entity's fields sent: a JSON body as it is, or form and query fields read as the schema's
 * types (`payout=18.5` a number, `is_default=true` a boolean, `fields=[…]` JSON). */
async function entityInput(c: Context, schema: z.ZodObject): Promise<Record<string, unknown>> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const params = c.get('params') as Params;
  let input: Record<string, unknown> = {};
  if (type.includes('json') && c.req.method !== 'GET') {
    const text = await c.req.text();
    const body = text.trim() ? safeJson(text) : {};
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadParams([{ parameter: 'body', message: 'must be a JSON object of the entity\'s fields' }]);
    input = { ...(body as Record<string, unknown>) };
    // The query string may carry the key and the id, as for every other call.
    for (const [k, v] of Object.entries(params)) if (!(k in input)) input[k] = typed(schema, k, v);
  } else {
    for (const [k, v] of Object.entries(params)) input[k] = typed(schema, k, v);
  }
  for (const k of CONTROL) delete input[k];
  return input;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadParams([{ parameter: 'body', message: 'is not valid JSON' }]);
  }
}

/** A form field's text as the value its schema expects. */
function typed(schema: z.ZodObject, name: string, text: string): unknown {
  let field = (schema.shape as Record<string, z.ZodType>)[name];
  if (!field) return text;
  let nullable = false;
  for (;;) {
    const def = field._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === 'nullable') nullable = true;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) field = def.innerType;
    else if (def.type === 'pipe' && def.in) field = def.in;
    else break;
  }
  const t = text.trim();
  if (nullable && (t === '' || t === 'null')) return null;
  switch ((field._zod.def as { type: string }).type) {
    case 'number':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    case 'boolean':
      return /^(true|1)$/i.test(t) ? true : /^(false|0)$/i.test(t) ? false : text;
    case 'array':
    case 'object':
      try {
        return JSON.parse(t);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

function stringsOf(input: Record<string, unknown>): Params {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) as Params;
}

/** An entity checked by its schema; the errors name the field (`fields[2].type`). */
function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ChangeRefused(
    result.error.issues.map((issue) => {
      const { field, message } = describeField(issue.path, issue);
      return { parameter: field || 'body', message };
    }),
  );
}
