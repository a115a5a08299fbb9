// GET /api/2/click.json: clicks in time order, inside the key's scope (an affiliate's own, an
// advertiser's offers'), at most 31 days per call, paged by start_after (the last click_id of the
// previous page, answered as next_start_after) or a bounded start_at_row.
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { checkAsked } from '../auth.js';
import { BadParams, cappedRange, formatDate, paging, parseParams, reportParams, textParam, withoutEmpty } from '../params.js';
import type { ClickRow } from '../store/types.js';
import { successList, type Api } from './index.js';

/** The most days one call reads: a month of clicks is the largest range a network's busiest
 * key reads by key within the statement timeout. */
export const CLICK_DAYS = 31;

export const clickParams = z.object({ click_id: z.string().optional(), start_after: textParam(100).optional(), ...reportParams(10_000) });

export function clickApi(api: Api, deps: AppDeps) {
  api.get('/click.json', async (c) => {
    const { network } = deps;
    const p = parseParams(clickParams, withoutEmpty(c.get('params')));
    checkAsked(c.get('key'), network, p);
    const range = p.click_id === undefined ? cappedRange(p, CLICK_DAYS, deps.clock(), 'click.json') : {};
    for (const name of ['click_id', 'start_after'] as const) {
      if (p[name] !== undefined && (await deps.reqids.verify(p[name])) === null) {
        throw new BadParams([{ parameter: name, message: 'is not a request id issued by this network' }]);
      }
    }
    const page = await deps.store.listClicks({
      reqid: p.click_id,
      ...range,
      offer_id: p.offer_id,
      affiliate_id: p.affiliate_id,
      scope: c.get('scope'),
      after: p.start_after,
      ...paging(p),
    });
    return successList(
      c,
      (clicks) => ({ response: { clicks, total_rows: page.total, total_rows_capped: page.capped, next_start_after: page.next } }),
      page.rows,
      clickJson,
    );
  });
}

function clickJson(row: ClickRow) {
  return {
    click_id: row.reqid,
    click_date: formatDate(row.click_time),
    offer_id: row.offer_id,
    affiliate_id: row.affiliate_id,
    campaign_id: row.campaign_id,
    creative_id: row.creative_id,
    sub_id_1: row.s1,
    sub_id_2: row.s2,
    sub_id_3: row.s3,
    sub_id_4: row.s4,
    sub_id_5: row.s5,
    ip_address: row.ip,
    country: row.country,
    user_agent: row.user_agent,
    referrer: row.referrer,
    tracking_domain_id: row.tracking_domain_id,
    disposition: row.disposition,
    converted: row.conversion_id !== null,
    conversion_id: row.conversion_id,
  };
}
