// GET /p.ashx: the conversion pixel (PROTOCOL.md 5), in its four formats:
//   f=img  a 1x1 GIF           f=js  JavaScript that writes the affiliate's browser postbacks
//   f=pb   XML, for servers    none  an HTML page for an iframe, with the same browser postbacks
// (affiliate code in a sandboxed frame: postbacks/browser.ts)
// Browser formats are harmless whatever arrives: junk, an unknown offer or no click to credit
// records nothing and still answers a GIF, a script or a page (never a broken image or a script
// error); X-Crumb-Result says what happened, for whoever debugs the thank-you page. f=pb answers
// the contract's XML, or an error result naming the parameter.
// Money the browser sends (`p`, `ap`) is taken only as far as the offer's pixel_overrides allows,
// and a `p` above the offer's max_sale_amount is held pending; X-Crumb-Result says so. HEAD (link
// checkers, prefetchers) answers the same status and headers and records nothing.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { crossOriginAnswer, crossOriginHeaders } from '../security.js';
import { clickForReqid, type ClickLookup } from '../attribution.js';
import { recordConversion, type BrowserPostback, type ConversionInput } from '../conversions/record.js';
import { GIF, NO_STORE, offerCookie, readCookie } from '../http.js';
import { xml as xmlText } from '../leads/answer.js';
import { centsText, numberToCents } from '../money.js';
import { eventOf, type Offer, type OfferEvent } from '../network.js';
import { browserPostbackPage, browserPostbackScript, PAGE_POLICY } from '../postbacks/browser.js';
import { StoreOverloaded } from '../store/errors.js';
import { BadParams, booleanParam, countParam, idParam, moneyParam, parseParams, readParams, textParam, withoutEmpty, type Params } from '../params.js';

type Format = 'img' | 'js' | 'pb' | 'iframe';

const pixelParams = z.object({
  o: idParam.optional(),
  a: idParam.optional(),
  e: countParam(0, 2147483647).optional(),
  r: textParam(100).optional(),
  t: textParam(255).optional(),
  p: moneyParam.optional(),
  ap: moneyParam.optional(),
  ckm_test: booleanParam.optional(),
});

/** A pixel that records nothing: why, in words that name the parameter. `result` is the
 * X-Crumb-Result when it is not `not recorded: <parameter> <message>`. */
class NotRecorded extends Error {
  constructor(
    readonly parameter: string,
    message: string,
    readonly result = `not recorded: ${parameter} ${message}`,
  ) {
    super(`${parameter} ${message}`);
  }
}

/** A conversion ready to record, and what the answer says about how it was taken. */
interface Plan {
  input: ConversionInput;
  /** Overrides ignored, a sale amount held: for X-Crumb-Result. */
  notes: string[];
}

export function pixelRoutes(deps: AppDeps) {
  const app = new Hono();
  // Loaded, scripted and framed from advertisers' thank-you pages on other sites.
  app.use('/p.ashx', crossOriginHeaders);

  app.get('/p.ashx', async (c) => {
    const params = await readParams(c);
    const f = params.f?.toLowerCase();
    const format: Format = f === 'img' || f === 'js' || f === 'pb' ? f : 'iframe';

    let plan: Plan;
    try {
      plan = await planConversion(deps, c, params);
    } catch (error) {
      if (error instanceof BadParams) error = new NotRecorded(error.errors[0]!.parameter, error.errors[0]!.message);
      if (!(error instanceof NotRecorded)) throw error;
      return format === 'pb' ? pbError(error) : answer(format, error.result);
    }
    // Hono runs this handler for HEAD too (and drops the body): the answer a GET would get, with
    // nothing recorded.
    if (c.req.method === 'HEAD') return format === 'pb' ? pbSuccess(false, 'not recorded: HEAD') : answer(format, 'not recorded: HEAD');

    let recorded;
    try {
      recorded = await recordConversion(deps, plan.input);
    } catch (error) {
      if (error instanceof StoreOverloaded) return busyAnswer(format, error);
      throw error;
    }
    const { conversion, duplicate, browser } = recorded;
    const reason = conversion.status !== 'approved' && conversion.scrub_reason ? `: ${conversion.scrub_reason}` : '';
    const outcome = [
      duplicate ? `duplicate of conversion ${conversion.conversion_id}` : `recorded conversion ${conversion.conversion_id} (${conversion.status}${reason})`,
      ...(duplicate ? [] : plan.notes),
    ].join('; ');
    if (format === 'pb') return pbSuccess(duplicate, outcome);
    if (format === 'img') return answer(format, outcome);
    return answer(format, outcome, browser);
  });

  return app;
}

async function planConversion(deps: AppDeps, c: Context, params: Params): Promise<Plan> {
  const { network } = deps;
  const p = parseParams(pixelParams, withoutEmpty(params));
  let offer: Offer | undefined;
  let lookup: ClickLookup;
  if (p.o !== undefined) {
    offer = network.offers.get(p.o);
    if (!offer) throw new NotRecorded('o', `names no offer of this network (${p.o})`);
    lookup = await clickForOffer(deps, c, offer, p.r);
  } else if (p.a !== undefined) {
    if (!network.advertisers.has(p.a)) throw new NotRecorded('a', `names no advertiser of this network (${p.a})`);
    lookup = await clickForAdvertiser(deps, c, p.a, p.r);
    if (lookup.click) offer = network.offers.get(lookup.click.offer_id!);
  } else {
    throw new NotRecorded('o', 'is required: the offer id (or a, the advertiser id)');
  }
  const event = p.e ? eventFor(offer, p.e) : null;
  if (!lookup.click || !offer) throw new NotRecorded('r', noClick(lookup, p.r !== undefined));

  // What the browser may set (pixel_overrides): p is the revenue, or where the money is a
  // percentage (a RevShare offer or event) the sale amount it applies to; ap the affiliate's payout.
  const notes: string[] = [];
  const mode = offer.pixel_overrides;
  let amount = p.p;
  let payout = p.ap;
  if (amount !== undefined && mode === 'none') {
    notes.push(`p ignored: offer ${offer.offer_id} takes no amount from the pixel (pixel_overrides none)`);
    amount = undefined;
  }
  if (payout !== undefined && mode !== 'all') {
    notes.push(`ap ignored: offer ${offer.offer_id} takes no payout from the pixel (pixel_overrides ${mode})`);
    payout = undefined;
  }
  let hold: string | null = null;
  if (amount !== undefined && offer.max_sale_amount !== undefined && amount > numberToCents(offer.max_sale_amount)) {
    hold = `p ${centsText(amount)} is above the offer's max_sale_amount ${centsText(numberToCents(offer.max_sale_amount))}: held for review`;
  }
  const percent = event ? event.price_format === 'RevShare' : offer.price_format === 'RevShare';
  return {
    notes,
    input: {
      offer,
      click: lookup.click,
      event,
      refusal: lookup.refusal,
      hold,
      revenue_cents: percent ? undefined : amount,
      amount_cents: percent ? amount : undefined,
      payout_cents: payout,
      transaction_id: p.t ?? null,
      source: 'pixel',
      ip: deps.clientIp(c) ?? null,
      is_test: p.ckm_test ?? false,
    },
  };
}

/** The active event `e` of the offer; an unknown or inactive one records nothing. */
function eventFor(offer: Offer | undefined, e: number): OfferEvent | null {
  if (!offer) return null; // no click found: said by the caller
  const event = eventOf(offer, e);
  if (event?.status === 'active') return event;
  const why = event ? `event ${e} of offer ${offer.offer_id} is inactive` : `offer ${offer.offer_id} has no event ${e}`;
  throw new NotRecorded('e', `${why}: nothing recorded`, `unknown event: ${why}; nothing recorded`);
}

/** The click of `r` when it is one of this offer's; else the tracking-domain cookie's. */
async function clickForOffer(deps: AppDeps, c: Context, offer: Offer, r: string | undefined): Promise<ClickLookup> {
  const given = r === undefined ? null : await clickForReqid(deps, r, offer);
  if (given?.click) return given;
  const cookie = await clickForReqid(deps, readCookie(c, offerCookie(offer.offer_id)), offer);
  return cookie.click || !given ? cookie : given;
}

/** `a=`: the latest click this browser made on any of the advertiser's offers (the click of `r`
 * first, when it is on one of them). */
async function clickForAdvertiser(deps: AppDeps, c: Context, advertiser_id: number, r: string | undefined): Promise<ClickLookup> {
  const given = r === undefined ? null : await clickForReqid(deps, r, null);
  if (given?.click && deps.network.offers.get(given.click.offer_id!)?.advertiser_id === advertiser_id) return given;

  const held: { reqid: string; at: number; offer: Offer }[] = [];
  for (const offer of deps.network.offers.values()) {
    if (offer.advertiser_id !== advertiser_id) continue;
    const reqid = readCookie(c, offerCookie(offer.offer_id));
    const at = reqid ? await deps.reqids.verify(reqid) : null;
    if (reqid && at !== null) held.push({ reqid, at, offer });
  }
  held.sort((x, y) => y.at - x.at);
  for (const h of held) {
    const lookup = await clickForReqid(deps, h.reqid, h.offer);
    if (lookup.click) return lookup;
  }
  return given && !given.click ? given : { click: null, reason: 'missing' };
}

function noClick(lookup: ClickLookup, gaveReqid: boolean): string {
  if (lookup.click) return '';
  switch (lookup.reason) {
    case 'forged':
      return 'is not a request id issued by this network, and this browser holds no click on the offer';
    case 'unknown':
      return 'names no recorded click, and this browser holds no click on the offer';
    case 'unattributed':
      return 'names a click that was not attributed (refused), so there is nothing to credit';
    case 'other_offer':
      return "names a click on another offer, and this browser holds no click on this one";
    default:
      return gaveReqid ? 'finds no click to credit' : 'is missing and this browser holds no click on the offer (no tracking-domain cookie)';
  }
}

// ---- answers -------------------------------------------------------------------------------------

function answer(format: Exclude<Format, 'pb'>, outcome: string, postbacks: BrowserPostback[] = [], status = 200, more?: Record<string, string>): Response {
  const headers = { 'Cache-Control': NO_STORE, 'X-Crumb-Result': outcome, ...more };
  if (format === 'img') return crossOriginAnswer(GIF, status, { ...headers, 'Content-Type': 'image/gif' });
  if (format === 'js') {
    return crossOriginAnswer(browserPostbackScript(postbacks), status, { ...headers, 'Content-Type': 'application/javascript; charset=utf-8' });
  }
  return crossOriginAnswer(browserPostbackPage(postbacks), status, {
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': PAGE_POLICY,
  });
}

/** The store is too busy to take the conversion: nothing recorded, 503 with Retry-After, and
 * still an answer of the pixel's own kind. */
function busyAnswer(format: Format, error: StoreOverloaded): Response {
  const outcome = `not recorded: ${error.message}`;
  const retry = { 'Retry-After': String(error.retryAfter) };
  return format === 'pb'
    ? xmlAnswer(`<result><code>1</code><msg>${xmlText(error.message)}</msg></result>`, 503, outcome, retry)
    : answer(format, outcome, [], 503, retry);
}

function pbSuccess(duplicate: boolean, outcome: string): Response {
  return xmlAnswer(`<result><code>0</code><msg>SUCCESS</msg>${duplicate ? '<duplicate>true</duplicate>' : ''}</result>`, 200, outcome);
}

function xmlAnswer(body: string, status: 200 | 400 | 503, outcome: string, more?: Record<string, string>): Response {
  return crossOriginAnswer(`<?xml version="1.0" encoding="utf-8"?>${body}`, status, {
    'Content-Type': 'text/xml; charset=utf-8',
    'Cache-Control': NO_STORE,
    'X-Crumb-Result': outcome,
    ...more,
  });
}

function pbError(error: NotRecorded): Response {
  return xmlAnswer(`<result><code>1</code><msg>${xmlText(error.message)}</msg></result>`, 400, error.result);
}
