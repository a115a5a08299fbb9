// API keys (PROTOCOL.md 10), admin keys only:
//   POST   /api/2/api_keys.json   role, advertiser_id or affiliate_id, label: a new key, shown once
//   GET    /api/2/api_keys.json   every key: id, role, scope, label, created, last used (never the key)
//   DELETE /api/2/api_keys.json   key_id: revoked
// A key is random (40 characters, about 238 bits), kept as its SHA-256 only, and written through
// changeNetwork: live on this instance when the call answers, on every other within a poll.
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { describeScope, keySource, randomSecret, sha256Hex } from '../auth.js';
import type { ApiKey } from '../network.js';
import { ChangeRefused, changeNetwork } from '../network/change.js';
import { enumParam, formatDate, idParam, paging, pagingParams, parseParams, textParam, withoutEmpty } from '../params.js';
import { requireAdmin, success, type Api } from './index.js';

export const KEY_LENGTH = 40;

export const createParams = z.object({
  role: enumParam(['admin', 'advertiser', 'affiliate']),
  advertiser_id: idParam.optional(),
  affiliate_id: idParam.optional(),
  label: textParam(200).optional(),
});

export const listParams = z.object({
  key_id: idParam.optional(),
  role: enumParam(['admin', 'advertiser', 'affiliate']).optional(),
  status: enumParam(['active', 'revoked']).optional(),
  ...pagingParams(1000),
});

export const idParams = z.object({ key_id: idParam });

export function keyApi(api: Api, deps: AppDeps) {
  api.post('/api_keys.json', async (c) => {
    const admin = requireAdmin(c);
    const p = parseParams(createParams, withoutEmpty(c.get('params')));
    const secret = randomSecret(KEY_LENGTH);
    const key_hash = await sha256Hex(secret);
    let made: ApiKey | undefined;
    await changeNetwork(
      deps.store,
      deps.live,
      (network) => {
        scopeProblems(p, network.advertisers, network.affiliates);
        const key_id = Math.max(0, ...[...network.state.keys.values()].map((k) => k.key_id)) + 1;
        made = {
          key_id,
          key_hash,
          role: p.role,
          advertiser_id: p.role === 'advertiser' ? p.advertiser_id! : null,
          affiliate_id: p.role === 'affiliate' ? p.affiliate_id! : null,
          label: p.label ?? null,
          source: 'api',
          created_at: deps.clock(),
          revoked_at: null,
        };
        return [{ entity: 'api_keys', id: key_id, before: null, after: made }];
      },
      { source: keySource(admin) },
    );
    return success(c, {
      message: 'Keep this key now: it is shown this once and cannot be read back (the network keeps only its hash)',
      api_key: { ...keyJson(made!, undefined), key: secret },
    });
  });

  api.get('/api_keys.json', async (c) => {
    requireAdmin(c);
    const network = deps.network;
    const p = parseParams(listParams, withoutEmpty(c.get('params')));
    const uses = await deps.store.apiKeyUses();
    const keys = [...network.state.keys.values()]
      .filter((k) => (p.key_id === undefined || k.key_id === p.key_id) && (p.role === undefined || k.role === p.role))
      .filter((k) => p.status === undefined || (p.status === 'revoked') === (k.revoked_at !== null))
      .sort((a, b) => a.key_id - b.key_id);
    if (p.key_id !== undefined && !keys.length) throw new HTTPException(404, { message: `key_id ${p.key_id}: there is no such key` });
    const { offset, limit } = paging(p);
    return success(c, {
      total_rows: keys.length,
      api_keys: keys.slice(offset, offset + limit).map((k) => keyJson(k, latest(uses.get(k.key_id), deps.keyUses.seen(k.key_id)))),
    });
  });

  api.delete('/api_keys.json', async (c) => {
    const admin = requireAdmin(c);
    const { key_id } = parseParams(idParams, withoutEmpty(c.get('params')));
    let revoked: ApiKey | undefined;
    await changeNetwork(
      deps.store,
      deps.live,
      (network) => {
        const key = [...network.state.keys.values()].find((k) => k.key_id === key_id);
        if (!key) throw new ChangeRefused([{ parameter: 'key_id', message: `there is no key ${key_id}` }], 404);
        revoked = key;
        if (key.revoked_at !== null) return [];
        // A network without an admin key can be managed by nobody, and a server will not start on it.
        const admins = [...network.keys.values()].filter((k) => k.role === 'admin');
        if (key.role === 'admin' && admins.length === 1) {
          throw new ChangeRefused([{ parameter: 'key_id', message: `key ${key_id} is the network's last admin key: create another admin key first` }], 409);
        }
        revoked = { ...key, revoked_at: deps.clock() };
        return [{ entity: 'api_keys', id: key_id, before: key, after: revoked }];
      },
      { source: keySource(admin) },
    );
    return success(c, { message: `Key ${key_id} is revoked`, api_key: keyJson(revoked!, undefined) });
  });
}

/** The advertiser or affiliate a scoped key is for must exist, and only the one its role names. */
function scopeProblems(p: z.output<typeof createParams>, advertisers: Map<number, unknown>, affiliates: Map<number, unknown>) {
  const problems: { parameter: string; message: string }[] = [];
  const wants = { admin: null, advertiser: 'advertiser_id', affiliate: 'affiliate_id' }[p.role];
  for (const name of ['advertiser_id', 'affiliate_id'] as const) {
    if (name === wants) {
      if (p[name] === undefined) problems.push({ parameter: name, message: `is required for a key of role ${p.role}` });
      else if (!(name === 'advertiser_id' ? advertisers : affiliates).has(p[name]!)) {
        problems.push({ parameter: name, message: `names no ${name.replace('_id', '')} of this network (${p[name]})` });
      }
    } else if (p[name] !== undefined) {
      problems.push({ parameter: name, message: `does not apply to a key of role ${p.role}: leave it out` });
    }
  }
  if (problems.length) throw new ChangeRefused(problems);
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** A key as the API shows it: never the key, never its hash. */
function keyJson(key: ApiKey, last_used: number | undefined) {
  return {
    key_id: key.key_id,
    role: key.role,
    advertiser_id: key.advertiser_id,
    affiliate_id: key.affiliate_id,
    scope: describeScope(key),
    label: key.label,
    source: key.source,
    status: key.revoked_at === null ? 'active' : 'revoked',
    created_at: formatDate(key.created_at),
    last_used_at: last_used === undefined ? null : formatDate(last_used),
    revoked_at: key.revoked_at === null ? null : formatDate(key.revoked_at),
  };
}
