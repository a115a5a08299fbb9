// The network tables' SQL, shared by every store: the statements are the same text in SQLite's
// and PostgreSQL's dialect (a store that numbers its parameters turns `?` into `$n` with
// `numbered`), so the rules of a network change live here once.
import type { ChangeQuery, ChangeRow, NetworkChangeMeta, NetworkEntity, NetworkWrite } from './types.js';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** Each entity's table: its key, and the columns queries filter on (the rest is in `data`). */
export const NETWORK_TABLES: Record<NetworkEntity, { key: string; columns: string[]; status: string }> = {
  advertisers: { key: 'advertiser_id', columns: ['status'], status: 'status' },
  affiliates: { key: 'affiliate_id', columns: ['status'], status: 'status' },
  offers: { key: 'offer_id', columns: ['advertiser_id', 'status'], status: 'status' },
  creatives: { key: 'creative_id', columns: ['offer_id', 'status'], status: 'status' },
  campaigns: { key: 'campaign_id', columns: ['affiliate_id', 'offer_id', 'status'], status: 'status' },
  tracking_domains: { key: 'tracking_domain_id', columns: ['domain', 'status'], status: 'domain_status' },
};

const API_KEY_COLUMNS = ['key_id', 'key_hash', 'role', 'advertiser_id', 'affiliate_id', 'label', 'source', 'created_at', 'revoked_at'];

/** Claims the next version if the network is still at the base one (params: the claim's token,
 * the base version): one row, so two changes at once queue on it and the second finds the version
 * moved. The token marks the claim as this change's own. */
export const CLAIM_VERSION = 'UPDATE network_version SET version = version + 1, claim = ? WHERE id = 1 AND version = ? RETURNING version';

/** Every write of a change runs only under its own claim: a store that must send the claim and
 * the writes together (D1's batch, which cannot wait for the claim's answer) writes nothing when
 * the claim failed. Elsewhere the condition always holds and costs one indexed read. */
const CLAIMED = '(SELECT claim FROM network_version WHERE id = 1) = ?';
export const NETWORK_VERSION = 'SELECT version FROM network_version WHERE id = 1';
export const NETWORK_CHANGES = 'SELECT * FROM network_changes WHERE version > ? AND version <= ? ORDER BY change_id';
export const NETWORK_SETTINGS = 'SELECT data FROM network_settings WHERE id = 1';
export const API_KEYS = `SELECT ${API_KEY_COLUMNS.join(', ')} FROM api_keys ORDER BY key_id`;
/** A key's last use, only ever moved forward (instances record uses in any order). */
export const TOUCH_API_KEY = 'UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)';
export const API_KEY_USES = 'SELECT key_id, last_used_at FROM api_keys WHERE last_used_at IS NOT NULL';
// Console sessions signed out before their cookie expired (console/session.ts), until it would have.
export const END_SESSION = 'INSERT INTO ended_sessions (session_id, expires_at, ended_at) VALUES (?, ?, ?) ON CONFLICT (session_id) DO NOTHING';
export const SESSION_ENDED = 'SELECT 1 AS ended FROM ended_sessions WHERE session_id = ?';
export const PRUNE_ENDED_SESSIONS =
  'DELETE FROM ended_sessions WHERE session_id IN (SELECT session_id FROM ended_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)';
export const FILE_APPLIED = "SELECT key, value FROM meta WHERE key IN ('network_file_hash', 'network_file_source')";
export const entityRows = (entity: NetworkEntity) => `SELECT data FROM ${entity} ORDER BY ${NETWORK_TABLES[entity].key}`;

/** The statements that write a change after its version is claimed (under `claim`): the entities
 * and the change-log rows, then the file hash of an import. */
export function writeStatements(version: number, claim: string, writes: NetworkWrite[], meta: NetworkChangeMeta): Statement[] {
  const out: Statement[] = [];
  for (const w of writes) {
    out.push(entityStatement(w, claim));
    out.push(upsert('network_changes', ['version', 'changed_at', 'source', 'entity', 'entity_id', 'before', 'after'], null, claim, [
      version,
      meta.at,
      meta.source,
      w.entity,
      String(w.id),
      logged(w.before),
      logged(w.after),
    ]));
  }
  if (meta.file_hash !== undefined) {
    for (const [key, value] of [['network_file_hash', meta.file_hash], ['network_file_source', meta.source]]) {
      out.push(upsert('meta', ['key', 'value'], 'key', claim, [key, value]));
    }
  }
  return out;
}

/** INSERT … SELECT … WHERE claimed [ON CONFLICT (key) DO UPDATE]: one form for every store (SQLite,
 * PostgreSQL and D1 all read it; SQLite needs the WHERE to parse ON CONFLICT after a SELECT). */
function upsert(table: string, columns: string[], key: string | null, claim: string, params: unknown[]): Statement {
  const update = key === null ? '' : ` ON CONFLICT (${key}) DO UPDATE SET ${columns.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`).join(', ')}`;
  return {
    sql: `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map(() => '?').join(', ')} WHERE ${CLAIMED}${update}`,
    params: [...params, claim],
  };
}

function entityStatement(w: NetworkWrite, claim: string): Statement {
  if (w.entity === 'network') {
    if (w.after === null) throw new Error('the network settings cannot be removed');
    return upsert('network_settings', ['id', 'data'], 'id', claim, [1, JSON.stringify(w.after)]);
  }
  if (w.entity === 'api_keys') {
    if (w.after === null) return { sql: `DELETE FROM api_keys WHERE key_id = ? AND ${CLAIMED}`, params: [w.id, claim] };
    const row = w.after as Record<string, unknown>;
    return upsert('api_keys', API_KEY_COLUMNS, 'key_id', claim, API_KEY_COLUMNS.map((c) => row[c] ?? null));
  }
  const { key, columns, status } = NETWORK_TABLES[w.entity];
  if (w.after === null) return { sql: `DELETE FROM ${w.entity} WHERE ${key} = ? AND ${CLAIMED}`, params: [w.id, claim] };
  const row = w.after as Record<string, unknown>;
  return upsert(w.entity, [key, ...columns, 'data'], key, claim, [w.id, ...columns.map((c) => (c === 'status' ? row[status] : row[c])), JSON.stringify(row)]);
}

/** A claim's token: unique enough that no other change holds the same. */
export function claimToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What the change log keeps of an entity: all of it (a key's hash included: other instances
 * learn new keys from the log; the API never shows it). */
function logged(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Whether any click, lead or conversion names the entity. */
export function historyQuery(entity: NetworkEntity, id: number): Statement {
  const column = { advertisers: 'advertiser_id', affiliates: 'affiliate_id', offers: 'offer_id', creatives: 'creative_id', campaigns: 'campaign_id', tracking_domains: 'tracking_domain_id' }[entity];
  const tables =
    entity === 'advertisers' ? ['conversions'] : entity === 'tracking_domains' ? ['clicks'] : ['conversions', 'leads', 'clicks'];
  return {
    sql: `SELECT CASE WHEN ${tables.map((t) => `EXISTS (SELECT 1 FROM ${t} WHERE ${column} = ?)`).join(' OR ')} THEN 1 ELSE 0 END AS used`,
    params: tables.map(() => id),
  };
}

/** The change log, filtered and paged, newest first. */
export function changeQueries(q: ChangeQuery): { count: Statement; rows: Statement } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.entity !== undefined) {
    where.push('entity = ?');
    params.push(q.entity);
  }
  if (q.entity_id !== undefined) {
    where.push('entity_id = ?');
    params.push(q.entity_id);
  }
  if (q.from !== undefined) {
    where.push('changed_at >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    where.push('changed_at < ?');
    params.push(q.to);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  return {
    count: { sql: `SELECT count(*) AS n FROM network_changes ${clause}`, params },
    rows: { sql: `SELECT * FROM network_changes ${clause} ORDER BY change_id DESC LIMIT ? OFFSET ?`, params: [...params, q.limit, q.offset] },
  };
}

/** A change-log row with its JSON read. */
export function changeRow(r: Record<string, unknown>): ChangeRow {
  return {
    change_id: Number(r.change_id),
    version: Number(r.version),
    changed_at: Number(r.changed_at),
    source: r.source as string,
    entity: r.entity as string,
    entity_id: r.entity_id as string,
    before: r.before == null ? null : JSON.parse(r.before as string),
    after: r.after == null ? null : JSON.parse(r.after as string),
  };
}

/** The last network file applied: its hash and source, from the rows of FILE_APPLIED. */
export function fileApplied(rows: { key: string; value: string }[]): { file_hash: string | null; file_source: string | null } {
  const get = (key: string) => rows.find((r) => r.key === key)?.value ?? null;
  return { file_hash: get('network_file_hash'), file_source: get('network_file_source') };
}

/** `?` placeholders as `$1`, `$2`, … (PostgreSQL). The statements here hold no `?` in text. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
