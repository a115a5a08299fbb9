// recordClick: the one home of the clicks write (tracking links and click pixels). It decides who
// the click belongs to, which reqid the browser keeps (first or last touch), and where it goes.
import type { Campaign, Creative, Network, Offer } from './network.js';
import type { Reqids } from './reqid.js';
import type { ClickRecord, Store } from './store/types.js';
import { fillTokens } from './tokens.js';
import { clip, parseId } from './http.js';

export interface ClickDeps {
  store: Store;
  network: Network;
  reqids: Reqids;
  clock: () => number;
}

export interface ClickRequest {
  a: string | undefined;
  c: string | undefined;
  subIds: (string | undefined)[];
  /** A reqid the page already has (click pixels only): confirmed instead of a new click. */
  reqid: string | undefined;
  pixel: boolean;
  host: string | undefined;
  ip: string | undefined;
  country: string | undefined;
  userAgent: string | undefined;
  referrer: string | undefined;
  visitorId: string | undefined;
  /** The reqid this browser holds for an offer (the tracking-domain cookie). */
  heldReqid(offer_id: number): string | undefined;
}

export type ClickResult =
  | {
      attributed: true;
      reqid: string;
      offer: Offer;
      /** The landing page, tokens filled (tracking links only). */
      location: string;
      /** Set the offer cookie to `reqid` (false when an earlier click keeps it). */
      setCookie: boolean;
      visitorId: string;
    }
  | { attributed: false; disposition: string };

/** s1 holds 50 characters, s2..s5 100 each; what does not fit spills into the next slot, so that
 * s1..s5 read together keep everything sent, in order, up to 450 characters. */
export const SUB_ID_LIMITS = [50, 100, 100, 100, 100];

export function spillSubIds(values: (string | undefined)[]): (string | null)[] {
  let carry = '';
  return SUB_ID_LIMITS.map((limit, i) => {
    const text = carry + (values[i] ?? '');
    carry = text.slice(limit);
    return text ? text.slice(0, limit) : null;
  });
}

const DAY = 86_400_000;

export async function recordClick(deps: ClickDeps, req: ClickRequest): Promise<ClickResult> {
  const { network, reqids } = deps;
  const now = deps.clock();
  const domain = network.domainFor(req.host);
  const found: Resolved =
    domain.domain_status === 'active' ? resolve(network, req.a, req.c) : { disposition: `inactive_domain ${domain.domain}` };

  if ('disposition' in found) {
    const reqid = await reqids.mint(now);
    await deps.store.recordClick(clickRow(req, now, domain.tracking_domain_id, reqid, null, req.visitorId ?? null, found.disposition));
    return { attributed: false, disposition: found.disposition };
  }

  const { offer } = found;
  // A click pixel given the reqid the page already has confirms that click, when it is a recorded
  // click on this offer: no new click, and no cookie (that click's own answer set it; setting it
  // here would let any page replace a first-touch reqid).
  if (req.pixel && req.reqid && (await reqids.verify(req.reqid)) !== null && (await deps.store.getClick(req.reqid))?.offer_id === offer.offer_id) {
    return { attributed: true, reqid: req.reqid, offer, location: '', setCookie: false, visitorId: visitorOf(req, req.reqid) };
  }

  // First touch: an earlier click on this offer, still inside its cookie window, keeps its reqid.
  let kept: string | undefined;
  const held = req.heldReqid(offer.offer_id);
  if (offer.attribution === 'first_touch' && held) {
    const at = await reqids.verify(held);
    if (at !== null && now - at < offer.cookie_days * DAY) kept = held;
  }

  const reqid = await reqids.mint(now);
  const visitorId = visitorOf(req, reqid);
  const row = clickRow(req, now, domain.tracking_domain_id, reqid, found, visitorId, kept ? `repeat ${kept}` : req.pixel ? 'pixel' : 'redirect');
  await deps.store.recordClick(row);

  const given = kept ?? reqid;
  const { creative } = found;
  const location = req.pixel
    ? ''
    : fillTokens(creative.offer_url ?? offer.offer_url, {
        reqid: given,
        affid: row.affiliate_id,
        oid: offer.offer_id,
        campid: row.campaign_id,
        cid: creative.creative_id,
        s1: row.s1,
        s2: row.s2,
        s3: row.s3,
        s4: row.s4,
        s5: row.s5,
        vstid: visitorId,
      });
  return { attributed: true, reqid: given, offer, location, setCookie: !kept, visitorId };
}

/** The row of a click: attributed to `found`, or refused (`found` null: no affiliate, offer or
 * campaign). Built in one literal, every field in the same order: the click path's one allocation. */
function clickRow(
  req: ClickRequest,
  now: number,
  tracking_domain_id: number,
  reqid: string,
  found: Extract<Resolved, { offer: Offer }> | null,
  visitor_id: string | null,
  disposition: string,
): ClickRecord {
  const subIds = spillSubIds(req.subIds);
  return {
    reqid,
    click_time: now,
    affiliate_id: found ? found.affiliate_id : null,
    offer_id: found ? found.offer.offer_id : null,
    campaign_id: found?.campaign ? found.campaign.campaign_id : null,
    creative_id: found ? found.creative.creative_id : null,
    s1: subIds[0]!,
    s2: subIds[1]!,
    s3: subIds[2]!,
    s4: subIds[3]!,
    s5: subIds[4]!,
    ip: clip(req.ip, 64),
    country: req.country && /^[A-Za-z]{2}$/.test(req.country) ? req.country.toUpperCase() : null,
    user_agent: clip(req.userAgent, 512),
    referrer: clip(req.referrer, 1024),
    tracking_domain_id,
    visitor_id,
    disposition,
  };
}

/** The browser's visitor id (from the clicks it holds), or for a new visitor the 72 random bits of
 * this click's reqid: as unguessable as a fresh id, without drawing and encoding another. */
function visitorOf(req: ClickRequest, reqid: string): string {
  return req.visitorId ?? reqid.slice(8, 20);
}

type Resolved = { affiliate_id: number; offer: Offer; creative: Creative; campaign: Campaign | undefined } | { disposition: string };

/** Who may send this click where, or why not (the disposition of a refused click). */
function resolve(network: Network, a: string | undefined, c: string | undefined): Resolved {
  const affiliate_id = parseId(a);
  if (affiliate_id === null) return { disposition: a ? 'bad_affiliate_id' : 'missing_affiliate_id' };
  const creative_id = parseId(c);
  if (creative_id === null) return { disposition: c ? 'bad_creative_id' : 'missing_creative_id' };

  const affiliate = network.affiliates.get(affiliate_id);
  if (!affiliate) return { disposition: `unknown_affiliate ${affiliate_id}` };
  if (affiliate.status !== 'active') return { disposition: `inactive_affiliate ${affiliate_id}` };
  const creative = network.creatives.get(creative_id);
  if (!creative) return { disposition: `unknown_creative ${creative_id}` };
  if (creative.status !== 'active') return { disposition: `inactive_creative ${creative_id}` };
  const offer = network.offers.get(creative.offer_id)!;
  if (offer.status !== 'active') return { disposition: `inactive_offer ${offer.offer_id}` };
  if (network.advertisers.get(offer.advertiser_id)?.status !== 'active') {
    return { disposition: `inactive_advertiser ${offer.advertiser_id}` };
  }
  const campaign = network.campaignFor(affiliate_id, offer.offer_id);
  if (campaign && campaign.status !== 'active') return { disposition: `inactive_campaign ${campaign.campaign_id}` };
  if (!campaign && affiliate_id !== network.internal_affiliate_id) {
    return { disposition: `no_campaign affiliate ${affiliate_id} offer ${offer.offer_id}` };
  }
  return { affiliate_id, offer, creative, campaign };
}
