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

/** Claims the next version if the network is still at the base one: one row, so two changes at
 * once queue on it and the second finds the version moved. */
export const CLAIM_VERSION = 'UPDATE network_version SET version = version + 1 WHERE id = 1 AND version = ? RETURNING version';
export const NETWORK_VERSION = 'SELECT version FROM network_version WHERE id = 1';
export const NETWORK_CHANGES = 'SELECT * FROM network_changes WHERE version > ? AND version <= ? ORDER BY change_id';
export const NETWORK_SETTINGS = 'SELECT data FROM network_settings WHERE id = 1';
export const API_KEYS = `SELECT ${API_KEY_COLUMNS.join(', ')} FROM api_keys ORDER BY key_id`;
/** A key's last use, only ever moved forward (instances record uses in any order). */
export const TOUCH_API_KEY = 'UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)';
export const API_KEY_USES = 'SELECT key_id, last_used_at FROM api_keys WHERE last_used_at IS NOT NULL';
export const FILE_APPLIED = "SELECT key, value FROM meta WHERE key IN ('network_file_hash', 'network_file_source')";
export const entityRows = (entity: NetworkEntity) => `SELECT data FROM ${entity} ORDER BY ${NETWORK_TABLES[entity].key}`;

/** The statements that write a change after its version is claimed: the entities and the
 * change-log rows, then the file hash of an import. */
export function writeStatements(version: number, writes: NetworkWrite[], meta: NetworkChangeMeta): Statement[] {
  const out: Statement[] = [];
  for (const w of writes) {
    out.push(entityStatement(w));
    out.push({
      sql: 'INSERT INTO network_changes (version, changed_at, source, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)',
      params: [version, meta.at, meta.source, w.entity, String(w.id), logged(w.before), logged(w.after)],
    });
  }
  if (meta.file_hash !== undefined) {
    for (const [key, value] of [['network_file_hash', meta.file_hash], ['network_file_source', meta.source]]) {
      out.push({ sql: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', params: [key, value] });
    }
  }
  return out;
}

function entityStatement(w: NetworkWrite): Statement {
  if (w.entity === 'network') {
    if (w.after === null) throw new Error('the network settings cannot be removed');
    return {
      sql: 'INSERT INTO network_settings (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      params: [JSON.stringify(w.after)],
    };
  }
  if (w.entity === 'api_keys') {
    if (w.after === null) return { sql: 'DELETE FROM api_keys WHERE key_id = ?', params: [w.id] };
    const row = w.after as Record<string, unknown>;
    return {
      sql: `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')}) VALUES (${API_KEY_COLUMNS.map(() => '?').join(', ')})
            ON CONFLICT (key_id) DO UPDATE SET ${API_KEY_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`,
      params: API_KEY_COLUMNS.map((c) => row[c] ?? null),
    };
  }
  const { key, columns, status } = NETWORK_TABLES[w.entity];
  if (w.after === null) return { sql: `DELETE FROM ${w.entity} WHERE ${key} = ?`, params: [w.id] };
  const row = w.after as Record<string, unknown>;
  const names = [key, ...columns, 'data'];
  return {
    sql: `INSERT INTO ${w.entity} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})
          ON CONFLICT (${key}) DO UPDATE SET ${[...columns, 'data'].map((c) => `${c} = excluded.${c}`).join(', ')}`,
    params: [w.id, ...columns.map((c) => (c === 'status' ? row[status] : row[c])), JSON.stringify(row)],
  };
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
