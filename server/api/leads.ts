// GET /api/2/leads.json: leads, filtered and paged like click.json (at most 92 days a call; paged by
// start_after, a lead id). Test leads only with include_tests=true; lead_id (CAKE's hex form, such
// as 0000002A) wins over the other filters. Leads carry the customers' personal fields: admin and
// advertiser keys (its offers' leads) only (auth.ts).
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { formatLeadId, parseLeadId } from '../conversions/record.js';
import { checkAsked } from '../auth.js';
import { booleanParam, cappedRange, formatDate, paging, parseParams, reportParams, withoutEmpty } from '../params.js';
import type { LeadRow } from '../store/types.js';
import { requireAdmin, success, successList, type Api } from './index.js';

const leadId = z
  .string()
  .transform((text, ctx) => {
    const id = parseLeadId(text.trim());
    if (id === null || id < 1) {
      ctx.addIssue({ code: 'custom', message: 'must be a lead id as the post answered it, such as 0000002A' });
      return z.NEVER;
    }
    return id;
  });

/** DELETE /api/2/lead.json (PROTOCOL.md 12): whose data to erase, by email or by lead id. */
export const erasureParams = z
  .object({
    email_address: z.string().trim().min(3).max(254).includes('@', { message: 'must be an email address' }).meta({ description: 'an email address, as the leads were posted (any case)' }).optional(),
    lead_id: leadId.meta({ description: 'a lead id as the post answered it, such as 0000002A' }).optional(),
  })
  .refine((p) => (p.email_address === undefined) !== (p.lead_id === undefined), { message: 'send email_address or lead_id (one of them)', path: ['email_address'] });

export const leadParams = z.object({ lead_id: leadId.optional(), start_after: leadId.optional(), include_tests: booleanParam.optional(), ...reportParams(10_000) });

/** The most days one call reads (leads are a fraction of clicks: a quarter's worth). */
export const LEAD_DAYS = 92;

export function leadApi(api: Api, deps: AppDeps) {
  api.get('/leads.json', async (c) => {
    const p = parseParams(leadParams, withoutEmpty(c.get('params')));
    checkAsked(c.get('key'), deps.network, p);
    const range = p.lead_id === undefined ? cappedRange(p, LEAD_DAYS, deps.clock(), 'leads.json') : {};
    const page = await deps.store.listLeads({
      lead_id: p.lead_id,
      ...range,
      offer_id: p.offer_id,
      affiliate_id: p.affiliate_id,
      include_tests: p.include_tests ?? false,
      scope: c.get('scope'),
      after: p.start_after,
      ...paging(p),
    });
    return successList(
      c,
      (leads) => ({
        response: { leads, total_rows: page.total, total_rows_capped: page.capped, next_start_after: page.next === null ? null : formatLeadId(page.next) },
      }),
      page.rows,
      leadJson,
    );
  });
}

/** Erasure: the person's leads lose their personal fields; the addresses of their leads, clicks
 * and conversions are anonymised; conversions and their money stay for the books. Answers what
 * changed (zeros when nothing names that person: asking twice is harmless). */
export function erasureApi(api: Api, deps: AppDeps) {
  api.delete('/lead.json', async (c) => {
    requireAdmin(c);
    const p = parseParams(erasureParams, withoutEmpty(c.get('params')));
    const target = p.email_address !== undefined ? { email: p.email_address.toLowerCase() } : { lead_id: p.lead_id! };
    const erased = await deps.store.erase(target, deps.clock());
    return success(c, { erased: { leads: erased.leads, clicks: erased.clicks, conversions: erased.conversions } });
  });
}

function leadJson(row: LeadRow) {
  return {
    lead_id: formatLeadId(row.lead_id),
    lead_date: formatDate(row.created_at),
    offer_id: row.offer_id,
    affiliate_id: row.affiliate_id,
    campaign_id: row.campaign_id,
    creative_id: row.creative_id,
    click_id: row.reqid,
    method: row.method,
    email: row.email,
    fields: row.fields,
    sub_id_1: row.s1,
    sub_id_2: row.s2,
    sub_id_3: row.s3,
    sub_id_4: row.s4,
    sub_id_5: row.s5,
    ip_address: row.ip,
    user_agent: row.user_agent,
    test: row.is_test,
    attributed: row.attributed,
    // Flagged for resale by ckm_resell=1 (selling leads is not part of Crumb).
    resell: row.resell,
    conversion_id: row.conversion_id,
    // When a post with ckm_lead_id last changed it.
    updated_date: row.updated_at === null ? null : formatDate(row.updated_at),
  };
}
