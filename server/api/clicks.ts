// GET /api/2/click.json
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { BadParams, dateRange, formatDate, paging, parseParams, reportParams, withoutEmpty } from '../params.js';
import type { ClickRow } from '../store/types.js';
import { success, type Api } from './index.js';

const clickParams = z.object({ click_id: z.string().optional(), ...reportParams(10_000) });

export function clickApi(api: Api, deps: AppDeps) {
  api.get('/click.json', async (c) => {
    const p = parseParams(clickParams, withoutEmpty(c.get('params')));
    const range = dateRange(p);
    if (p.click_id !== undefined && (await deps.reqids.verify(p.click_id)) === null) {
      throw new BadParams([{ parameter: 'click_id', message: 'is not a request id issued by this network' }]);
    }
    const { rows, total } = await deps.store.listClicks({
      reqid: p.click_id,
      ...range,
      offer_id: p.offer_id,
      affiliate_id: p.affiliate_id,
      ...paging(p),
    });
    return success(c, { response: { clicks: rows.map(clickJson), total_rows: total } });
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
