// acceptLead: the one home of the leads write (PROTOCOL.md 4). It decides which kind of post this is
// (server, browser, session), whether it may be taken (post key, statuses, fields), who gets the
// credit (campaign, cookie, reqid, or the internal affiliate), whether it is a test or a duplicate,
// and, for an offer that pays per lead, its conversion: written with the lead in one transaction.
// A post with ckm_lead_id updates that lead instead (updateLead).
import { storedIp } from '../clicks.js';
import type { AppDeps } from '../app.js';
import { cleanReqid, clickForReqid, withinCookieWindow } from '../attribution.js';
import { spillSubIds } from '../clicks.js';
import { formatLeadId, parseLeadId, prepareConversion } from '../conversions/record.js';
import { clip, parseId, sameText } from '../http.js';
import type { Campaign, Offer } from '../network.js';
import type { Params } from '../params.js';
import type { ClickRecord, DeliveriesFor, LeadDedupe, LeadMethod, LeadRow, NewLead, Store } from '../store/types.js';
import { fillTokens } from '../tokens.js';
import type { LeadErrorName, LeadRefusal } from './answer.js';
import { validatorFor } from './validate.js';

const DAY = 86_400_000;

export interface LeadInput {
  params: Params;
  ip: string | undefined;
  userAgent: string | undefined;
  /** The reqid this browser holds for an offer: the tracking-domain cookie of its click. */
  heldReqid(offer_id: number): string | undefined;
}

export type LeadOutcome =
  | {
      accepted: true;
      lead: LeadRow;
      leadid: string;
      method: LeadMethod;
      /** What the affiliate earns for this lead (0 unless the offer pays per lead). */
      price_cents: number;
      /** The offer's thank-you page, tokens filled, with the lead id; null when it has none. */
      redirect: string | null;
      /** Answer with a 302 to `redirect` (browser posts, or ckm_bp=1), rather than the envelope. */
      redirects: boolean;
    }
  | { accepted: false; refusal: LeadRefusal };

type Target =
  | { method: 'server'; offer: Offer; campaign: Campaign }
  | { method: 'browser' | 'session'; offer: Offer; campaign: null };

export async function acceptLead(deps: AppDeps, input: LeadInput): Promise<LeadOutcome> {
  const p = input.params;
  const target = resolveTarget(deps, p);
  if ('refusal' in target) return { accepted: false, refusal: target.refusal };
  if (p.ckm_lead_id?.trim()) return updateLead(deps, target, p);
  const { offer, method } = target;

  const checked = validatorFor(offer)(p);
  const missing = Object.keys(checked.missing).length > 0;
  const invalid = Object.keys(checked.invalid).length > 0;
  if (missing || invalid) {
    const errors: LeadErrorName[] = [];
    if (missing) errors.push('Lead Missing Data');
    if (invalid) errors.push('Validation Failed');
    return refuse(errors, { ...checked.missing, ...checked.invalid });
  }

  const now = deps.clock();
  const is_test = isTestLead(p, checked.fields);
  const credit = await creditFor(deps, target, p, input, now);
  const subIds = givenSubIds(p) ?? (credit.click ? [credit.click.s1, credit.click.s2, credit.click.s3, credit.click.s4, credit.click.s5] : [null, null, null, null, null]);
  const ip = clip(storedIp(deps.network, input.ip), 64);

  const lead: NewLead = {
    offer_id: offer.offer_id,
    affiliate_id: credit.affiliate_id,
    campaign_id: credit.campaign_id,
    creative_id: credit.click?.creative_id ?? null,
    reqid: credit.click?.reqid ?? null,
    method,
    email: checked.email,
    fields: checked.fields,
    s1: subIds[0] ?? null,
    s2: subIds[1] ?? null,
    s3: subIds[2] ?? null,
    s4: subIds[3] ?? null,
    s5: subIds[4] ?? null,
    ip,
    user_agent: clip(input.userAgent, 512),
    created_at: now,
    is_test,
    attributed: credit.attributed,
    resell: flag(p.ckm_resell) === true,
  };

  // Test leads never claim an email: a real lead after a test one is not its duplicate.
  const dedupe: LeadDedupe | null =
    offer.duplicate_days > 0 && checked.email && !is_test ? { email: checked.email, since: now - offer.duplicate_days * DAY } : null;

  let queued = 0;
  let conversion: Parameters<Store['insertLead']>[2] = null;
  if (offer.price_format === 'CPL') {
    const prepared = await prepareConversion(deps, {
      offer,
      click: credit.click,
      affiliate_id: credit.affiliate_id,
      at: now,
      email: checked.email,
      source: 'lead',
      ip,
      is_test,
    });
    const deliveries: DeliveriesFor = (row) => {
      const rows = prepared.deliveries(row);
      queued = rows.length;
      return rows;
    };
    conversion = { conversion: prepared.conversion, deliveries };
  }

  const result = await deps.store.insertLead(lead, dedupe, conversion);
  if (result.duplicate) {
    // The earlier lead's id goes with the refusal: a client that retries a post whose answer it
    // lost learns which lead it already has.
    return {
      accepted: false,
      refusal: {
        errors: ['Duplicate Lead'],
        fields: {
          email: `was already posted to this offer in the last ${offer.duplicate_days} day${offer.duplicate_days === 1 ? '' : 's'}`,
        },
        leadid: formatLeadId(result.lead.lead_id),
      },
    };
  }
  if (queued) deps.onDeliveries();
  return accepted(offer, result.lead, method, result.conversion?.payout_cents ?? 0, p);
}

/** The success answer of a lead, new or updated. */
function accepted(offer: Offer, lead: LeadRow, method: LeadMethod, price_cents: number, p: Params): LeadOutcome {
  const leadid = formatLeadId(lead.lead_id);
  const bp = flag(p.ckm_bp);
  return {
    accepted: true,
    lead,
    leadid,
    method,
    price_cents,
    redirect: offer.thank_you_url ? thankYouUrl(offer.thank_you_url, lead, leadid, price_cents) : null,
    redirects: method === 'browser' ? bp !== false : bp === true,
  };
}

// ---- lead updates (ckm_lead_id) ------------------------------------------------------------------

/** Updates the lead of ckm_lead_id: allowed to the keys of its campaign (server post), or to a
 * session post with its offer and the reqid of its own click. Only the fields sent change (a field
 * sent empty is left as it was), checked as for a new lead; no second lead, conversion or
 * postback. */
async function updateLead(deps: AppDeps, target: Target, p: Params): Promise<LeadOutcome> {
  const { offer } = target;
  const lead_id = parseLeadId(p.ckm_lead_id!.trim());
  const lead = lead_id === null ? undefined : await deps.store.getLead(lead_id);
  const reqid = cleanReqid(p.ckm_request_id);
  const allowed =
    lead !== undefined &&
    lead.offer_id === offer.offer_id &&
    (target.method === 'server' ? lead.campaign_id === target.campaign.campaign_id : reqid !== undefined && lead.reqid === reqid);
  if (!allowed) {
    // The same answer whether the lead does not exist or is someone else's: ids are not probed.
    const whose =
      target.method === 'server'
        ? `of campaign ${target.campaign.campaign_id}`
        : `of offer ${offer.offer_id} whose click is this ckm_request_id${reqid ? '' : ' (send the ckm_request_id of the lead\'s click, or the campaign\'s ckm_campaign_id and ckm_key)'}`;
    return refuse(['Invalid Lead ID'], { ckm_lead_id: `names no lead ${whose}: send the leadid the lead's post answered` });
  }

  const checked = validatorFor(offer)(p);
  if (Object.keys(checked.invalid).length) return refuse(['Validation Failed'], checked.invalid);
  const now = deps.clock();
  const email = checked.email !== null && checked.email !== lead.email ? checked.email : null;
  const dedupe: LeadDedupe | null =
    email && offer.duplicate_days > 0 && !lead.is_test ? { email, since: now - offer.duplicate_days * DAY } : null;
  const result = await deps.store.updateLead(lead.lead_id, { fields: checked.fields, email, resell: flag(p.ckm_resell) ?? null, updated_at: now }, dedupe);
  if (!result) return refuse(['Invalid Lead ID'], { ckm_lead_id: "names no lead: send the leadid the lead's post answered" });
  if (result.duplicate) {
    return {
      accepted: false,
      refusal: {
        errors: ['Duplicate Lead'],
        fields: { email: `was already posted to this offer in the last ${offer.duplicate_days} day${offer.duplicate_days === 1 ? '' : 's'}` },
        leadid: formatLeadId(result.lead.lead_id),
      },
    };
  }
  const conversion = result.lead.conversion_id === null ? undefined : await deps.store.getConversion(result.lead.conversion_id);
  return accepted(offer, result.lead, lead.method, conversion?.payout_cents ?? 0, p);
}

function refuse(errors: LeadErrorName[], fields: Record<string, string>): LeadOutcome {
  return { accepted: false, refusal: { errors, fields } };
}

// ---- which post, which offer -------------------------------------------------------------------------

function resolveTarget(deps: AppDeps, p: Params): Target | { refusal: LeadRefusal } {
  const { network } = deps;
  const no = (error: LeadErrorName, field: string, message: string) => ({ refusal: { errors: [error], fields: { [field]: message } } });

  const campaignText = p.ckm_campaign_id?.trim();
  if (campaignText) {
    const campaign_id = parseId(campaignText);
    if (campaign_id === null) return no('Validation Failed', 'ckm_campaign_id', 'must be a whole number such as 3870: the campaign id of your posting document');
    const campaign = network.campaigns.get(campaign_id);
    if (!campaign) return no('Inactive Campaign', 'ckm_campaign_id', `there is no campaign ${campaign_id}: check the campaign id with the network`);
    const key = p.ckm_key?.trim();
    if (!key) return no('Lead Missing Data', 'ckm_key', "is required for a server post: send the campaign's post key");
    // The key is checked before anything about the campaign is told.
    if (!sameText(key, campaign.ckm_key)) return no('Invalid Post Key', 'ckm_key', `is not the post key of campaign ${campaign_id}`);
    if (campaign.status !== 'active') return no('Inactive Campaign', 'ckm_campaign_id', `campaign ${campaign_id} is paused`);
    if (network.affiliates.get(campaign.affiliate_id)?.status !== 'active') {
      return no('Inactive Affiliate', 'ckm_campaign_id', `the affiliate of campaign ${campaign_id} is paused`);
    }
    const offer = network.offers.get(campaign.offer_id)!;
    const offerText = p.ckm_offer_id?.trim();
    if (offerText && parseId(offerText) !== offer.offer_id) {
      return no('Affiliate Not Authorized for Campaign', 'ckm_offer_id', `campaign ${campaign_id} is for offer ${offer.offer_id}: send that offer id, or leave ckm_offer_id out`);
    }
    if (!takesLeads(deps, offer)) return no('Inactive Offer', 'ckm_campaign_id', `offer ${offer.offer_id} of campaign ${campaign_id} is not taking leads`);
    return { method: 'server', offer, campaign };
  }

  const offerText = p.ckm_offer_id?.trim();
  if (!offerText) {
    return no('Lead Missing Data', 'ckm_offer_id', 'is required: send ckm_offer_id (browser and session posts) or ckm_campaign_id and ckm_key (server posts)');
  }
  const offer_id = parseId(offerText);
  if (offer_id === null) return no('Validation Failed', 'ckm_offer_id', 'must be a whole number such as 12345: the offer id of your posting document');
  const offer = network.offers.get(offer_id);
  if (!offer) return no('Inactive Offer', 'ckm_offer_id', `there is no offer ${offer_id}: check the offer id on your posting document`);
  if (!takesLeads(deps, offer)) return no('Inactive Offer', 'ckm_offer_id', `offer ${offer_id} is not taking leads`);
  return { method: cleanReqid(p.ckm_request_id) ? 'session' : 'browser', offer, campaign: null };
}

function takesLeads(deps: AppDeps, offer: Offer): boolean {
  return offer.status === 'active' && deps.network.advertisers.get(offer.advertiser_id)?.status === 'active';
}

// ---- who gets the credit -----------------------------------------------------------------------------

interface Credit {
  affiliate_id: number;
  campaign_id: number | null;
  click: ClickRecord | null;
  attributed: boolean;
}

async function creditFor(deps: AppDeps, target: Target, p: Params, input: LeadInput, now: number): Promise<Credit> {
  const { offer } = target;
  if (target.method === 'server') {
    const { campaign } = target;
    // A server post may carry the click's reqid too: linked when it is a click of this campaign's.
    const linked = p.ckm_request_id ? await creditedClick(deps, p.ckm_request_id, offer, now) : null;
    const click = linked && linked.affiliate_id === campaign.affiliate_id ? linked : null;
    return { affiliate_id: campaign.affiliate_id, campaign_id: campaign.campaign_id, click, attributed: true };
  }
  // Session post: the click of its reqid. Browser post, or a session post whose reqid is no good:
  // the click this browser's cookie holds.
  const click =
    (target.method === 'session' ? await creditedClick(deps, p.ckm_request_id, offer, now) : null) ??
    (await creditedClick(deps, input.heldReqid(offer.offer_id), offer, now));
  if (click) return { affiliate_id: click.affiliate_id!, campaign_id: click.campaign_id, click, attributed: true };
  const internal = deps.network.internal_affiliate_id;
  return {
    affiliate_id: internal,
    campaign_id: deps.network.campaignFor(internal, offer.offer_id)?.campaign_id ?? null,
    click: null,
    attributed: false,
  };
}

/** The click of `reqid` on this offer when it may still be credited (attribution.ts: ours, stored,
 * attributed, nothing of it paused) and is inside the offer's cookie window. */
async function creditedClick(deps: AppDeps, reqid: string | undefined, offer: Offer, now: number): Promise<ClickRecord | null> {
  const found = await clickForReqid(deps, reqid, offer);
  return found.click && found.refusal === null && withinCookieWindow(found.click, offer, now) ? found.click : null;
}

// ---- small rules ---------------------------------------------------------------------------------------

/** `ckm_test=1`, or "ckmtest" in the first name, last name or address (as posted, or as the
 * offer's fields matched them). */
function isTestLead(p: Params, fields: Record<string, string>): boolean {
  if (flag(p.ckm_test) === true) return true;
  for (const name of ['first_name', 'last_name', 'address'] as const) {
    for (const value of [Object.hasOwn(p, name) ? p[name] : undefined, Object.hasOwn(fields, name) ? fields[name] : undefined]) {
      if (value && value.toLowerCase().includes('ckmtest')) return true;
    }
  }
  return false;
}

/** ckm_subid, ckm_subid_2 .. ckm_subid_5 of a post, or null when it sends none. */
function givenSubIds(p: Params): (string | null)[] | null {
  const given = [p.ckm_subid, p.ckm_subid_2, p.ckm_subid_3, p.ckm_subid_4, p.ckm_subid_5];
  return given.some((s) => s) ? spillSubIds(given.map((s) => s?.trim() || undefined)) : null;
}

/** 1/true or 0/false; undefined for anything else (or nothing). */
function flag(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  return v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : undefined;
}

/** The offer's thank-you URL (never one from the request) with its tokens filled, always with a
 * `leadid` parameter: lead routers read it from the redirect (added when the URL has none). */
function thankYouUrl(template: string, lead: LeadRow, leadid: string, price_cents: number): string {
  const url = fillTokens(template, {
    leadid,
    lead_id: leadid,
    reqid: lead.reqid,
    affid: lead.affiliate_id,
    oid: lead.offer_id,
    campid: lead.campaign_id,
    cid: lead.creative_id,
    s1: lead.s1,
    s2: lead.s2,
    s3: lead.s3,
    s4: lead.s4,
    s5: lead.s5,
    price: (price_cents / 100).toFixed(2),
  });
  if (/[?&]leadid=/i.test(url.split('#')[0]!)) return url;
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${sep}leadid=${leadid}${fragment}`;
}
