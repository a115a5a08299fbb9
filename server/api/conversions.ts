// Conversions in the v2 API (PROTOCOL.md 5 and 7):
//   GET|POST /api/2/conversion.json   record a server-to-server conversion for a click
//   PUT      /api/2/conversion.json   change a conversion's status (ours), firing approval or
//                                     rejection postbacks
//   GET      /api/2/conversions.json  the conversion report (at most 366 days a call; paged by
//                                     start_after, the last conversion_id of the previous page)
// Admin keys record and read every conversion; an advertiser key its offers' conversions; an
// affiliate key reads its own, without the network's revenue (auth.ts).
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import type { Network } from '../network.js';
import { clickForReqid } from '../attribution.js';
import { checkAsked, outOfScope, sees, shown } from '../auth.js';
import { changeStatus, recordConversion } from '../conversions/record.js';
import { eventOf } from '../network.js';
import {
  BadParams,
  booleanParam,
  countParam,
  cappedRange,
  dateParam,
  dateTimeParam,
  enumParam,
  formatDate,
  idParam,
  money,
  moneyParam,
  paging,
  pagingParams,
  parseParams,
  textParam,
  withoutEmpty,
} from '../params.js';
import { CONVERSION_SORTS, CONVERSION_STATUSES, type ConversionRow } from '../store/types.js';
import { success, successList, type Api } from './index.js';

const DAY = 86_400_000;

/** Statuses a client may set; scrubbed is decided by the scrub rules when a conversion arrives. */
const SETTABLE = ['approved', 'pending', 'rejected', 'reversed'] as const;

export const recordParams = z.object({
  click_id: textParam(100),
  offer_id: idParam,
  event_id: countParam(0, 2147483647).optional(),
  payout: moneyParam.optional(),
  revenue: moneyParam.optional(),
  amount: moneyParam.optional(),
  conversion_date: dateTimeParam.optional(),
  unique_id: textParam(255).optional(),
  order_id: textParam(255).optional(),
  adv1: textParam(255).optional(),
  adv2: textParam(255).optional(),
  adv3: textParam(255).optional(),
  adv4: textParam(255).optional(),
  adv5: textParam(255).optional(),
  ckm_test: booleanParam.optional(),
});

export const statusParams = z.object({
  conversion_id: idParam,
  conversion_status: enumParam(SETTABLE),
});

export const reportParams = z.object({
  start_date: dateParam,
  end_date: dateParam,
  offer_id: idParam.optional(),
  affiliate_id: idParam.optional(),
  advertiser_id: idParam.optional(),
  conversion_status: enumParam(CONVERSION_STATUSES).optional(),
  include_tests: booleanParam.optional(),
  start_after: idParam.optional(),
  ...pagingParams(500),
  sort_field: enumParam(CONVERSION_SORTS).optional(),
  sort_descending: booleanParam.optional(),
});

/** The most days one report call reads, as for the summary reports. */
export const CONVERSION_DAYS = 366;

const WHY_NOT: Record<string, string> = {
  missing: 'is required',
  forged: 'is not a click id issued by this network (mistyped or made up)',
  unknown: 'names no recorded click: pass the reqid the tracking link gave the landing page',
  unattributed: 'names a click that was refused (not attributed to an affiliate), so there is nothing to credit',
};

export function conversionApi(api: Api, deps: AppDeps) {
  api.on(['GET', 'POST'], '/conversion.json', async (c) => {
    // Hono answers HEAD with the GET handler; link checkers and monitors send it. It records nothing.
    if (c.req.method === 'HEAD') {
      return c.json({ request_status: 'Failure', message: 'HEAD records nothing: send GET or POST' }, 405, { Allow: 'GET, POST, PUT' });
    }
    const p = parseParams(recordParams, withoutEmpty(c.get('params')));
    const { network } = deps;
    const offer = network.offers.get(p.offer_id);
    if (!offer) throw new BadParams([{ parameter: 'offer_id', message: `names no offer of this network (${p.offer_id})` }]);
    // An advertiser key records conversions of its own offers only.
    checkAsked(c.get('key'), deps.network, { offer_id: p.offer_id });
    // event_id 0 (or none) is the base conversion; an unknown or inactive event records nothing.
    const event = p.event_id ? eventOf(offer, p.event_id) : null;
    if (event === undefined || event?.status === 'inactive') {
      const message = event ? `names an inactive event of offer ${offer.offer_id} (${p.event_id})` : `names no event of offer ${offer.offer_id} (${p.event_id})`;
      throw new BadParams([{ parameter: 'event_id', message: `${message}: nothing was recorded` }]);
    }
    const now = deps.clock();
    if (p.conversion_date !== undefined && p.conversion_date > now + DAY) {
      throw new BadParams([{ parameter: 'conversion_date', message: 'is in the future (send it in UTC)' }]);
    }
    const lookup = await clickForReqid(deps, p.click_id, offer);
    if (!lookup.click) {
      const message =
        lookup.reason === 'other_offer' ? `names a click on another offer, not on offer_id ${offer.offer_id}` : WHY_NOT[lookup.reason]!;
      throw new BadParams([{ parameter: 'click_id', message }]);
    }
    // A server with an API key may set the money (payout, revenue, amount): pixel_overrides is
    // for the browser's pixel only.
    const { duplicate, conversion } = await recordConversion(deps, {
      offer,
      click: lookup.click,
      event,
      refusal: lookup.refusal,
      at: p.conversion_date,
      payout_cents: p.payout,
      revenue_cents: p.revenue,
      amount_cents: p.amount,
      unique_id: p.unique_id ?? null,
      order_id: p.order_id ?? null,
      adv: [p.adv1, p.adv2, p.adv3, p.adv4, p.adv5],
      source: 'api',
      ip: deps.clientIp(c) ?? null,
      is_test: p.ckm_test ?? false,
    });
    const refused = !duplicate && lookup.refusal !== null;
    return success(c, {
      ...(duplicate ? { message: `Duplicate: this conversion was recorded before as conversion ${conversion.conversion_id}` } : {}),
      ...(refused ? { message: `Recorded as scrubbed, not paid: ${lookup.refusal} (credited nothing new)` } : {}),
      duplicate,
      conversion: shown(c.get('key'), 'conversion', conversionJson(conversion)),
    });
  });

  api.put('/conversion.json', async (c) => {
    const p = parseParams(statusParams, withoutEmpty(c.get('params')));
    const row = await changeStatus(deps, p.conversion_id, p.conversion_status, c.get('scope'));
    if (!row) {
      if (await deps.store.getConversion(p.conversion_id)) throw outOfScope(c.get('key'), `conversion_id ${p.conversion_id} is outside this key's scope`);
      throw new HTTPException(404, { message: `conversion_id ${p.conversion_id}: no such conversion` });
    }
    return success(c, { conversion: shown(c.get('key'), 'conversion', conversionJson(row)) });
  });

  api.get('/conversions.json', async (c) => {
    const { network } = deps;
    const key = c.get('key');
    const scope = c.get('scope');
    const p = parseParams(reportParams, withoutEmpty(c.get('params')));
    checkAsked(key, network, p);
    const sort = p.sort_field ?? 'conversion_date';
    // The order alone would tell what a hidden field holds.
    if (!sees(key, 'conversion', sort)) throw outOfScope(key, `sort_field ${sort} sorts by a field this key is not shown`);
    const range = cappedRange(p, CONVERSION_DAYS, deps.clock(), 'conversions.json');
    if (p.start_after !== undefined) {
      const cursor = await deps.store.listConversions({ conversion_id: p.start_after, scope, include_tests: true, sort, descending: false, offset: 0, limit: 1 });
      if (!cursor.rows.length) throw new BadParams([{ parameter: 'start_after', message: `names no conversion this key can read (${p.start_after}): pass the next_start_after of the previous page` }]);
    }
    const page = await deps.store.listConversions({
      ...range,
      offer_id: p.offer_id,
      affiliate_id: p.affiliate_id,
      advertiser_id: p.advertiser_id,
      status: p.conversion_status,
      include_tests: p.include_tests ?? false,
      sort,
      descending: p.sort_descending ?? false,
      scope,
      after: p.start_after,
      ...paging(p),
    });
    return successList(
      c,
      (conversions) => ({ total_rows: page.total, total_rows_capped: page.capped, next_start_after: page.next, conversions }),
      page.rows,
      (row) => ({ conversion: shown(key, 'conversion', reportJson(network, row)) }),
    );
  });
}

/** A conversion as conversion.json answers it. */
export function conversionJson(row: ConversionRow) {
  return {
    conversion_id: row.conversion_id,
    offer_id: row.offer_id,
    affiliate_id: row.affiliate_id,
    click_id: row.reqid,
    payout: money(row.payout_cents),
    revenue: money(row.revenue_cents),
    unique_id: row.unique_id,
    order_id: row.order_id,
    conversion_date: formatDate(row.conversion_time),
    conversion_status: row.status,
  };
}

/** A conversion as the report shows it: offer and affiliate nested, with their names. */
function reportJson(network: Network, row: ConversionRow) {
  const { offer_id, affiliate_id, ...rest } = conversionJson(row);
  return {
    conversion_id: rest.conversion_id,
    offer: { offer_id, offer_name: network.offers.get(offer_id)?.offer_name ?? null },
    affiliate: { affiliate_id, affiliate_name: network.affiliates.get(affiliate_id)?.affiliate_name ?? null },
    advertiser_id: row.advertiser_id,
    campaign_id: row.campaign_id,
    creative_id: row.creative_id,
    click_id: rest.click_id,
    lead_id: row.lead_id,
    event_id: row.event_id,
    event_name: row.event_id ? (eventOfId(network, row.offer_id, row.event_id)?.event_name ?? null) : null,
    payout: rest.payout,
    revenue: rest.revenue,
    // (ours) What it earns when approved; payout and revenue count it only while it is.
    computed_payout: money(row.computed_payout_cents),
    computed_revenue: money(row.computed_revenue_cents),
    sale_amount: row.amount_cents === null ? null : money(row.amount_cents),
    conversion_status: rest.conversion_status,
    scrub_reason: row.scrub_reason,
    conversion_date: rest.conversion_date,
    click_date: row.click_time === null ? null : formatDate(row.click_time),
    transaction_id: row.transaction_id,
    unique_id: rest.unique_id,
    order_id: rest.order_id,
    adv1: row.adv1,
    adv2: row.adv2,
    adv3: row.adv3,
    adv4: row.adv4,
    adv5: row.adv5,
    source: row.source,
    ip_address: row.ip,
    test: row.is_test,
  };
}

function eventOfId(network: Network, offer_id: number, event_id: number) {
  const offer = network.offers.get(offer_id);
  return offer && eventOf(offer, event_id);
}
