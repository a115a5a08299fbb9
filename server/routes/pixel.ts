// GET /p.ashx: the conversion pixel (PROTOCOL.md 5), in its four formats:
//   f=img  a 1x1 GIF           f=js  JavaScript that writes the affiliate's browser postbacks
//   f=pb   XML, for servers    none  an HTML page for an iframe, with the same browser postbacks
// (affiliate code in a sandboxed frame: postbacks/browser.ts)
// Browser formats are harmless whatever arrives: junk, an unknown offer or no click to credit
// records nothing and still answers a GIF, a script or a page (never a broken image or a script
// error); X-Crumb-Result says what happened, for whoever debugs the thank-you page. f=pb answers
// the contract's XML, or an error result naming the parameter.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { crossOriginHeaders, type AppDeps } from '../app.js';
import { clickForReqid, type ClickLookup } from '../attribution.js';
import { recordConversion, type BrowserPostback, type RecordResult } from '../conversions/record.js';
import { GIF, NO_STORE, offerCookie, readCookie } from '../http.js';
import { xml as xmlText } from '../leads/answer.js';
import type { Offer } from '../network.js';
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

/** A pixel that records nothing: why, in words that name the parameter. */
class NotRecorded extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter} ${message}`);
  }
}

export function pixelRoutes(deps: AppDeps) {
  const app = new Hono();
  // Loaded, scripted and framed from advertisers' thank-you pages on other sites.
  app.use('/p.ashx', crossOriginHeaders);

  app.get('/p.ashx', async (c) => {
    const params = await readParams(c);
    const f = params.f?.toLowerCase();
    const format: Format = f === 'img' || f === 'js' || f === 'pb' ? f : 'iframe';
    // Link checkers and prefetchers send HEAD: answer, but record nothing.
    if (c.req.method === 'HEAD') return new Response(null, { headers: { 'Cache-Control': NO_STORE, 'X-Crumb-Result': 'not recorded: HEAD' } });

    let result: RecordResult;
    try {
      result = await convert(deps, c, params);
    } catch (error) {
      if (error instanceof BadParams) error = new NotRecorded(error.errors[0]!.parameter, error.errors[0]!.message);
      if (error instanceof StoreOverloaded) return busyAnswer(format, error);
      if (!(error instanceof NotRecorded)) throw error;
      return format === 'pb' ? pbError(error) : answer(format, `not recorded: ${error.message}`);
    }

    const { conversion, duplicate } = result;
    const outcome = duplicate
      ? `duplicate of conversion ${conversion.conversion_id}`
      : `recorded conversion ${conversion.conversion_id} (${conversion.status})`;
    if (format === 'pb') {
      const extra = duplicate ? '<duplicate>true</duplicate>' : '';
      return xmlAnswer(`<result><code>0</code><msg>SUCCESS</msg>${extra}</result>`, 200, outcome);
    }
    if (format === 'img') return answer(format, outcome);
    return answer(format, outcome, result.browser);
  });

  return app;
}

async function convert(deps: AppDeps, c: Context, params: Params) {
  const p = parseParams(pixelParams, withoutEmpty(params));
  let offer: Offer | undefined;
  let lookup: ClickLookup;
  if (p.o !== undefined) {
    offer = deps.network.offers.get(p.o);
    if (!offer) throw new NotRecorded('o', `names no offer of this network (${p.o})`);
    lookup = await clickForOffer(deps, c, offer, p.r);
  } else if (p.a !== undefined) {
    if (!deps.network.advertisers.has(p.a)) throw new NotRecorded('a', `names no advertiser of this network (${p.a})`);
    lookup = await clickForAdvertiser(deps, c, p.a, p.r);
    if (lookup.click) offer = deps.network.offers.get(lookup.click.offer_id!);
  } else {
    throw new NotRecorded('o', 'is required: the offer id (or a, the advertiser id)');
  }
  if (!lookup.click || !offer) throw new NotRecorded('r', noClick(lookup, p.r !== undefined));

  const revShare = offer.price_format === 'RevShare';
  return recordConversion(deps, {
    offer,
    click: lookup.click,
    event_id: p.e,
    // p is the revenue, or for a RevShare offer the sale amount its percentages apply to.
    revenue_cents: revShare ? undefined : p.p,
    amount_cents: revShare ? p.p : undefined,
    payout_cents: p.ap,
    transaction_id: p.t ?? null,
    source: 'pixel',
    ip: deps.clientIp(c) ?? null,
    is_test: p.ckm_test ?? false,
  });
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

function answer(format: Exclude<Format, 'pb'>, outcome: string, postbacks: BrowserPostback[] = [], status = 200): Response {
  const headers = { 'Cache-Control': NO_STORE, 'X-Crumb-Result': outcome };
  if (format === 'img') return new Response(GIF, { status, headers: { ...headers, 'Content-Type': 'image/gif' } });
  if (format === 'js') {
    return new Response(browserPostbackScript(postbacks), { status, headers: { ...headers, 'Content-Type': 'application/javascript; charset=utf-8' } });
  }
  return new Response(browserPostbackPage(postbacks), {
    status,
    headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_POLICY },
  });
}

/** The store is too busy to take the conversion: nothing recorded, 503 with Retry-After, and
 * still an answer of the pixel's own kind. */
function busyAnswer(format: Format, error: StoreOverloaded): Response {
  const outcome = `not recorded: ${error.message}`;
  const res =
    format === 'pb' ? xmlAnswer(`<result><code>1</code><msg>${xmlText(error.message)}</msg></result>`, 503, outcome) : answer(format, outcome, [], 503);
  res.headers.set('Retry-After', String(error.retryAfter));
  return res;
}

function xmlAnswer(body: string, status: 200 | 400 | 503, outcome: string): Response {
  return new Response(`<?xml version="1.0" encoding="utf-8"?>${body}`, {
    status,
    headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Cache-Control': NO_STORE, 'X-Crumb-Result': outcome },
  });
}

function pbError(error: NotRecorded): Response {
  return xmlAnswer(`<result><code>1</code><msg>${xmlText(error.message)}</msg></result>`, 400, `not recorded: ${error.message}`);
}
