// Affiliate postbacks in the v2 API (PROTOCOL.md 6 and 7):
//   POST   /api/2/affiliate_postback.json    create
//   GET    /api/2/affiliate_postback.json    list, by postback_id, affiliate_id, offer_id, postback_status
//   PUT    /api/2/affiliate_postback.json    update by postback_id (only the fields sent change)
//   DELETE /api/2/affiliate_postback.json    remove by postback_id
//   GET    /api/2/postback_deliveries.json   the outbox and every attempt (ours)
//   POST   /api/2/postback_deliveries.json   re-send a failed or cancelled delivery (ours)
//   POST   /api/2/affiliate_postback_test.json   send a postback once with sample macros (ours)
// `fire_on` (conversion, approval, rejection; default conversion) is ours: CAKE's documents mix
// when a postback fires up with its type. An affiliate key manages its own postbacks (affiliate_id
// is its own, whether sent or not) and reads its own deliveries; every read and write is scoped in
// the store's query (auth.ts).
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { checkAsked, forced, outOfScope, randomSecret } from '../auth.js';
import { isHttpUrl } from '../network.js';
import { postbackMacros } from '../conversions/record.js';
import { checkPostbackUrl, targetsOf } from '../postbacks/address.js';
import { TestsBusy } from '../postbacks/dispatcher.js';
import { fillTokens } from '../tokens.js';
import {
  BadParams,
  enumParam,
  formatDate,
  idParam,
  offerOrAllParam,
  paging,
  pagingParams,
  parseParams,
  withoutEmpty,
  type Params,
} from '../params.js';
import { definedOnly } from '../store/columns.js';
import {
  DELIVERY_STATUSES,
  POSTBACK_TYPES,
  type Attempt,
  type ClickRecord,
  type ConversionRow,
  type DeliveryRow,
  type NewPostback,
  type PostbackRow,
  type ResendResult,
} from '../store/types.js';
import { success, type Api, type ApiEnv } from './index.js';
import type { Context } from 'hono';

const MAX_URL = 2000;
/** The most postbacks one list answers (and its default: an affiliate has a handful). */
const MAX_POSTBACKS = 1000;

const urlParam = z
  .string()
  .max(MAX_URL, `must be at most ${MAX_URL} characters`)
  .refine(isHttpUrl, 'must be an absolute http:// or https:// URL, macros such as #reqid# or {click_id} included');

const fields = {
  affiliate_id: idParam,
  offer_id: offerOrAllParam,
  postback_url: urlParam,
  postback_status: enumParam(['active', 'inactive']),
  postback_type_id: enumParam(['1', '2', '3', '4']).transform((v) => Number(v) as NewPostback['postback_type_id']),
  fire_on: enumParam(['conversion', 'approval', 'rejection']),
};

export const createParams = z.object({
  ...fields,
  postback_status: fields.postback_status.default('active'),
  postback_type_id: fields.postback_type_id.default(1),
  fire_on: fields.fire_on.default('conversion'),
});

export const updateParams = z.object({
  postback_id: idParam,
  affiliate_id: fields.affiliate_id.optional(),
  offer_id: fields.offer_id.optional(),
  postback_url: fields.postback_url.optional(),
  postback_status: fields.postback_status.optional(),
  postback_type_id: fields.postback_type_id.optional(),
  fire_on: fields.fire_on.optional(),
});

export const listParams = z.object({
  postback_id: idParam.optional(),
  affiliate_id: idParam.optional(),
  offer_id: offerOrAllParam.optional(),
  postback_status: fields.postback_status.optional(),
  start_after: idParam.optional(),
  row_limit: pagingParams(MAX_POSTBACKS).row_limit,
});

export const idParams = z.object({ postback_id: idParam });

export const deliveryParams = z.object({
  delivery_id: idParam.optional(),
  conversion_id: idParam.optional(),
  postback_id: idParam.optional(),
  status: enumParam(DELIVERY_STATUSES).optional(),
  start_after: idParam.optional(),
  ...pagingParams(500),
});

export const resendParams = z.object({ delivery_id: idParam });

export const testParams = z.object({ postback_id: idParam });

export function postbackApi(api: Api, deps: AppDeps) {
  const read = <S extends z.ZodObject>(schema: S, params: Params) => parseParams(schema, withoutEmpty(params));

  api.post('/affiliate_postback.json', async (c) => {
    const key = c.get('key');
    // An affiliate key's postbacks are its own: affiliate_id may be left out, and another is refused.
    const p = read(createParams, { ...stringsOf(forced(key)), ...withoutEmpty(c.get('params')) });
    checkAsked(key, deps.network, p);
    await checkPostback(deps, p, true);
    return success(c, { postback: postbackJson(await deps.store.createPostback(p)) });
  });

  api.get('/affiliate_postback.json', async (c) => {
    const { start_after, row_limit, ...p } = read(listParams, c.get('params'));
    checkAsked(c.get('key'), deps.network, p);
    const limit = row_limit ?? MAX_POSTBACKS;
    const found = await deps.store.listPostbacks({ ...p, scope: c.get('scope'), after: start_after, limit });
    const rows = found.slice(0, limit);
    return success(c, {
      total_rows: rows.length,
      next_start_after: found.length > limit ? rows[rows.length - 1]!.postback_id : null,
      postbacks: rows.map(postbackJson),
    });
  });

  api.put('/affiliate_postback.json', async (c) => {
    const { postback_id, ...change } = read(updateParams, c.get('params'));
    checkAsked(c.get('key'), deps.network, change);
    const current = await existing(deps, c, postback_id);
    // The target is checked again when it, the type or the status changes: a postback the rules
    // now refuse can still be deactivated or moved, not pointed anywhere new or switched back on.
    const retarget = change.postback_url !== undefined || change.postback_type_id !== undefined || change.postback_status === 'active';
    await checkPostback(deps, { ...current, ...definedOnly(change) }, retarget);
    const row = await deps.store.updatePostback(postback_id, change, c.get('scope'));
    if (!row) throw gone(postback_id);
    return success(c, { postback: postbackJson(row) });
  });

  api.delete('/affiliate_postback.json', async (c) => {
    const { postback_id } = read(idParams, c.get('params'));
    const current = await existing(deps, c, postback_id);
    if (!(await deps.store.deletePostback(postback_id, c.get('scope')))) throw gone(postback_id);
    return success(c, { message: `Postback ${postback_id} deleted`, postback: postbackJson(current) });
  });

  api.get('/postback_deliveries.json', async (c) => {
    const p = read(deliveryParams, c.get('params'));
    const page = await deps.store.listDeliveries({
      delivery_id: p.delivery_id,
      conversion_id: p.conversion_id,
      postback_id: p.postback_id,
      status: p.status,
      scope: c.get('scope'),
      after: p.start_after,
      ...paging(p),
    });
    return success(c, { total_rows: page.total, total_rows_capped: page.capped, next_start_after: page.next, deliveries: page.rows.map(deliveryJson) });
  });

  // A failed (or cancelled) delivery queued again: a new delivery of the same URL, with attempts of
  // its own; the old one keeps its log. Once per delivery, so a double click sends one.
  api.post('/postback_deliveries.json', async (c) => {
    const { delivery_id } = read(resendParams, c.get('params'));
    const result = await deps.store.resendDelivery(delivery_id);
    if (!result.resent) throw notResent(delivery_id, result);
    deps.onDeliveries();
    return success(c, {
      message: `Delivery ${delivery_id} re-sent as delivery ${result.delivery.delivery_id}`,
      delivery: deliveryJson({ ...result.delivery, attempt_log: [] }),
    });
  });

  // "Send test": the postback's URL with sample macros, sent once through the dispatcher's own
  // sender and rules (deps.testPostback), the outcome answered here. Nothing is stored: no
  // conversion, no delivery, no attempt in the log (a test is not a delivery, and the log stays
  // the record of what conversions caused).
  api.post('/affiliate_postback_test.json', async (c) => {
    const { postback_id } = read(testParams, c.get('params'));
    const postback = await existing(deps, c, postback_id);
    if (postback.postback_type_id !== 1) {
      throw new BadParams([
        {
          parameter: 'postback_id',
          message: `names a browser postback (${POSTBACK_TYPES[postback.postback_type_id]}): the visitor's browser fires it on the conversion pixel, not Crumb; only a server postback (postback_type_id 1) can be sent as a test`,
        },
      ]);
    }
    const url = fillTokens(postback.postback_url, sampleMacros(postback, deps.clock()), true);
    const outcome = await deps.testPostback(url).catch((e: unknown) => {
      if (e instanceof TestsBusy) throw new HTTPException(429, { message: e.message });
      throw e;
    });
    return success(c, { postback_test: { postback_id, url, ...outcome } });
  });
}

/** Every macro a delivery fills (postbackMacros), with values no one could take for a real
 * conversion: a reqid starting TEST, money 0.00, addresses from the documentation range
 * (192.0.2.0/24), sub ids `test`; the postback's own affiliate and offer. */
export function sampleMacros(postback: PostbackRow, now: number) {
  const reqid = `TEST${randomSecret(28)}`;
  const click: ClickRecord = {
    reqid,
    click_time: now,
    affiliate_id: postback.affiliate_id,
    offer_id: postback.offer_id,
    campaign_id: 0,
    creative_id: 0,
    s1: 'test',
    s2: 'test',
    s3: 'test',
    s4: 'test',
    s5: 'test',
    ip: '192.0.2.2',
    country: null,
    user_agent: null,
    referrer: null,
    tracking_domain_id: null,
    visitor_id: null,
    disposition: 'attributed',
  };
  const conversion: ConversionRow = {
    conversion_id: 0,
    offer_id: postback.offer_id,
    advertiser_id: 0,
    affiliate_id: postback.affiliate_id,
    campaign_id: 0,
    creative_id: 0,
    reqid,
    lead_id: null,
    event_id: 0,
    conversion_time: now,
    click_time: now,
    payout_cents: 0,
    revenue_cents: 0,
    computed_payout_cents: 0,
    computed_revenue_cents: 0,
    amount_cents: null,
    status: postback.fire_on === 'rejection' ? 'rejected' : 'approved',
    scrub_reason: null,
    dedupe_key: null,
    once_per_click: false,
    transaction_id: 'TEST',
    unique_id: null,
    order_id: null,
    adv1: null,
    adv2: null,
    adv3: null,
    adv4: null,
    adv5: null,
    s1: 'test',
    s2: 'test',
    s3: 'test',
    s4: 'test',
    s5: 'test',
    source: 'api',
    ip: '192.0.2.1',
    is_test: true,
  };
  return postbackMacros(conversion, click);
}

function notResent(delivery_id: number, result: Extract<ResendResult, { resent: false }>) {
  switch (result.reason) {
    case 'missing':
      return new HTTPException(404, { message: `delivery_id ${delivery_id}: no such delivery` });
    case 'pending':
      return new HTTPException(409, { message: `delivery_id ${delivery_id} is pending: it is being delivered already (see next_attempt_date)` });
    case 'delivered':
      return new HTTPException(409, { message: `delivery_id ${delivery_id} was delivered: only a failed or cancelled delivery is re-sent` });
    case 'resent':
      return new HTTPException(409, { message: `delivery_id ${delivery_id} was re-sent already, as delivery ${result.resent_as}: re-send that one if it failed` });
  }
}

function stringsOf(values: Record<string, number>): Params {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

/** What the network file must agree with: the affiliate and offer exist, browser postbacks
 * (iframe, image, JavaScript) fire only on conversion (at approval or rejection there is no page),
 * and a server postback goes only where the address rules allow (postbacks/address.ts; browser
 * postbacks are requested by the visitor's browser, not by us). */
export async function checkPostback(deps: AppDeps, p: NewPostback, target: boolean) {
  const { network } = deps;
  const errors = [];
  if (!network.affiliates.has(p.affiliate_id)) {
    errors.push({ parameter: 'affiliate_id', message: `names no affiliate of this network (${p.affiliate_id})` });
  }
  if (p.offer_id !== 0 && !network.offers.has(p.offer_id)) {
    errors.push({ parameter: 'offer_id', message: `names no offer of this network (${p.offer_id}); 0 means every offer` });
  }
  if (p.postback_type_id !== 1 && p.fire_on !== 'conversion') {
    errors.push({
      parameter: 'fire_on',
      message: `must be conversion for a browser postback (postback_type_id ${p.postback_type_id}): only server postbacks fire on approval or rejection`,
    });
  }
  if (target && p.postback_type_id === 1) {
    const refused = await checkPostbackUrl(p.postback_url, targetsOf(network), deps.resolveHost);
    if (refused) errors.push({ parameter: 'postback_url', message: refused });
  }
  if (errors.length) throw new BadParams(errors);
}

/** The postback, read inside the key's scope: a 403 naming the scope when it is someone else's,
 * a 404 when there is none. */
async function existing(deps: AppDeps, c: Context<ApiEnv>, postback_id: number): Promise<PostbackRow> {
  const [row] = await deps.store.listPostbacks({ postback_id, scope: c.get('scope') });
  if (row) return row;
  if ((await deps.store.listPostbacks({ postback_id })).length) throw outOfScope(c.get('key'), `postback_id ${postback_id} is another affiliate's postback`);
  throw gone(postback_id);
}

function gone(postback_id: number) {
  return new HTTPException(404, { message: `postback_id ${postback_id}: no such postback` });
}

export function postbackJson(row: PostbackRow) {
  return {
    postback_id: row.postback_id,
    affiliate_id: row.affiliate_id,
    offer_id: row.offer_id,
    postback_url: row.postback_url,
    postback_type_id: row.postback_type_id,
    postback_type: POSTBACK_TYPES[row.postback_type_id],
    postback_status: row.postback_status,
    fire_on: row.fire_on,
  };
}

function deliveryJson(row: DeliveryRow & { attempt_log: Attempt[] }) {
  return {
    delivery_id: row.delivery_id,
    postback_id: row.postback_id,
    conversion_id: row.conversion_id,
    fire_on: row.fire_on,
    url: row.url,
    status: row.status,
    attempts: row.attempts,
    created_date: formatDate(row.created_at),
    next_attempt_date: row.status === 'pending' ? formatDate(row.next_attempt_at) : null,
    delivered_date: row.delivered_at === null ? null : formatDate(row.delivered_at),
    last_error: row.last_error,
    resend_of: row.resend_of,
    attempt_log: row.attempt_log.map((a) => ({
      attempted_date: formatDate(a.attempted_at),
      status_code: a.status_code,
      latency_ms: a.latency_ms,
      error: a.error,
    })),
  };
}
