// recordClick: the one home of the clicks write (tracking links and click pixels). It decides who
// the click belongs to, which reqid the browser keeps (first or last touch), and where it goes.
// previewClick answers the same without recording anything (HEAD requests).
import { anonymizeIp } from './address.js';
import { clickForReqid, withinCookieWindow } from './attribution.js';
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

export async function recordClick(deps: ClickDeps, req: ClickRequest): Promise<ClickResult> {
  const { network, reqids } = deps;
  const now = deps.clock();
  const domain = network.domainFor(req.host);
  const found = resolveOn(network, domain, req);

  if ('disposition' in found) {
    const reqid = await reqids.mint(now);
    await deps.store.recordClick(clickRow(req, now, domain.tracking_domain_id, reqid, null, req.visitorId ?? null, found.disposition, storedIp(network, req.ip)));
    return { attributed: false, disposition: found.disposition };
  }

  const { offer } = found;
  // A click pixel given the reqid the page already has confirms that click, when it is a click on
  // this offer that may still be credited (attribution.ts): no new click, and no cookie (that
  // click's own answer set it; setting it here would let any page replace a first-touch reqid).
  if (req.pixel && req.reqid) {
    const confirmed = await clickForReqid(deps, req.reqid, offer);
    if (confirmed.click && confirmed.refusal === null) {
      return { attributed: true, reqid: confirmed.click.reqid, offer, location: '', setCookie: false, visitorId: visitorOf(req, confirmed.click.reqid) };
    }
  }

  // First touch: an earlier click on this offer keeps its reqid while it is inside its cookie
  // window and may still be credited; one of a paused affiliate or campaign does not swallow this
  // new click. The kept click is read whole: the landing URL is filled from it alone.
  let kept: ClickRecord | undefined;
  const held = req.heldReqid(offer.offer_id);
  if (offer.attribution === 'first_touch' && held) {
    const first = await clickForReqid(deps, held, offer);
    if (first.click && first.refusal === null && withinCookieWindow(first.click, offer, now)) kept = first.click;
  }

  const reqid = await reqids.mint(now);
  const visitorId = visitorOf(req, reqid);
  const row = clickRow(req, now, domain.tracking_domain_id, reqid, found, visitorId, kept ? `repeat ${kept.reqid}` : req.pixel ? 'pixel' : 'redirect', storedIp(network, req.ip));
  await deps.store.recordClick(row);

  const given = kept ?? row;
  const location = req.pixel ? '' : landingUrl(network, offer, given.creative_id ? network.creatives.get(given.creative_id) : undefined, given, visitorId);
  return { attributed: true, reqid: given.reqid, offer, location, setCookie: !kept, visitorId };
}

/** What recordClick would answer, recording nothing and minting no reqid (a HEAD request: link
 * checkers, chat-app previews). The Location is the landing page with every token of the link
 * filled but #reqid# and #vstid# empty: no click exists for them to name. */
export function previewClick(network: Network, req: ClickRequest): ClickResult {
  const found = resolveOn(network, network.domainFor(req.host), req);
  if ('disposition' in found) return { attributed: false, disposition: found.disposition };
  const row = clickRow(req, 0, 0, '', found, null, '', undefined);
  const location = req.pixel ? '' : landingUrl(network, found.offer, found.creative, row, '');
  return { attributed: true, reqid: '', offer: found.offer, location, setCookie: false, visitorId: '' };
}

/** The landing page of a click: its creative's URL (else the offer's), every token from the click. */
function landingUrl(network: Network, offer: Offer, creative: Creative | undefined, click: ClickRecord, visitorId: string): string {
  return fillTokens(creative?.offer_url ?? offer.offer_url, {
    reqid: click.reqid,
    affid: click.affiliate_id,
    oid: offer.offer_id,
    campid: click.campaign_id,
    cid: click.creative_id,
    s1: click.s1,
    s2: click.s2,
    s3: click.s3,
    s4: click.s4,
    s5: click.s5,
    vstid: visitorId,
  });
}

function resolveOn(network: Network, domain: ReturnType<Network['domainFor']>, req: ClickRequest): Resolved {
  return domain.domain_status === 'active' ? resolve(network, req.a, req.c) : { disposition: `inactive_domain ${domain.domain}` };
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
  ip: string | null | undefined,
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
    ip: clip(ip, 64),
    country: req.country && /^[A-Za-z]{2}$/.test(req.country) ? req.country.toUpperCase() : null,
    user_agent: clip(req.userAgent, 512),
    referrer: clip(req.referrer, 1024),
    tracking_domain_id,
    visitor_id,
    disposition,
  };
}

/** A visitor's address as the network keeps it: without its last octet (IPv4) or 80 bits (IPv6)
 * when the network anonymises addresses (`anonymize_ip`), else as it came. */
export function storedIp(network: Network, ip: string | null | undefined): string | null | undefined {
  return network.anonymize_ip ? anonymizeIp(ip) : ip;
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
