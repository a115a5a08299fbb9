// The answers of /d.ashx (PROTOCOL.md 4), in one place: the XML envelope (text/xml) for GET, form
// and XML posts, the JSON envelope for JSON posts, and the browser post's redirect with ASP.NET's
// "Object moved" body (lead routers that post ckm_bp=1 from their server read its link).
//   <result><code>0</code><msg>success</msg><leadid>0000002A</leadid><price>18.00</price><redirect>…</redirect></result>
//   {"code":1,"msg":"error","errors":["Validation Failed"],"fields":{"email":"is not an email address"}}
import { NO_STORE } from '../http.js';
import { crossOriginAnswer } from '../security.js';

export type AnswerFormat = 'xml' | 'json';

/** CAKE's names for why a lead was refused (its list of lead post responses, the ones that apply). */
export type LeadErrorName =
  | 'Inactive Affiliate'
  | 'Inactive Offer'
  | 'Inactive Campaign'
  | 'Invalid Post Key'
  | 'Duplicate Lead'
  | 'Lead Missing Data'
  | 'Validation Failed'
  | 'Affiliate Not Authorized for Campaign'
  | 'Invalid Lead ID';

/** Every error name, with when it is answered: the posting document lists them. */
export const LEAD_ERRORS: Record<LeadErrorName, string> = {
  'Lead Missing Data': 'a required field or post key is missing or empty',
  'Validation Failed': 'a field is not of its type, not one of its options or too long; or the body could not be read',
  'Duplicate Lead': "the same email was already posted to this offer within the offer's duplicate window",
  'Inactive Offer': 'the offer is unknown or no longer takes leads',
  'Inactive Campaign': 'the ckm_campaign_id is unknown or the campaign is paused',
  'Inactive Affiliate': "the campaign's affiliate is paused",
  'Invalid Post Key': "ckm_key is not the campaign's post key",
  'Affiliate Not Authorized for Campaign': 'the ckm_offer_id sent with a server post is not the offer of the campaign',
  'Invalid Lead ID': "the ckm_lead_id of an update names no lead of this campaign (server post) or of this offer and the lead's own request id (session post)",
};

export interface LeadSuccess {
  leadid: string;
  price_cents: number;
  redirect: string | null;
}

export interface LeadRefusal {
  errors: LeadErrorName[];
  /** (ours) which field failed and how to fix it. */
  fields: Record<string, string>;
  /** 200 for CAKE's refusals (a lead router reads the code); 4xx for a body we could not read. */
  status?: 200 | 400 | 413 | 415;
  /** (ours) For a duplicate: the earlier lead's id. */
  leadid?: string;
}

const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n';
const XML_TYPE = 'text/xml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export function successAnswer(format: AnswerFormat, s: LeadSuccess): Response {
  const price = (s.price_cents / 100).toFixed(2);
  if (format === 'json') {
    // Built by hand so that the price keeps its two decimals (18.00), as CAKE writes it.
    const body = `{"code":0,"msg":"success","leadid":${JSON.stringify(s.leadid)},"price":${price},"redirect":${JSON.stringify(s.redirect)}}`;
    return answer(body, JSON_TYPE, 200);
  }
  const body =
    `${XML_HEAD}<result><code>0</code><msg>success</msg><leadid>${xml(s.leadid)}</leadid>` +
    `<price>${price}</price><redirect>${xml(s.redirect ?? '')}</redirect></result>`;
  return answer(body, XML_TYPE, 200);
}

export function refusalAnswer(format: AnswerFormat, r: LeadRefusal): Response {
  const status = r.status ?? 200;
  if (format === 'json') {
    const body = { code: 1, msg: 'error', ...(r.leadid ? { leadid: r.leadid } : {}), errors: r.errors, fields: r.fields };
    return answer(JSON.stringify(body), JSON_TYPE, status);
  }
  let body = `${XML_HEAD}<result><code>1</code><msg>error</msg>${r.leadid ? `<leadid>${xml(r.leadid)}</leadid>` : ''}<errors>`;
  for (const e of r.errors) body += `<error>${xml(e)}</error>`;
  body += '</errors><fields>';
  for (const [name, message] of Object.entries(r.fields)) body += `<field name="${xml(name)}">${xml(message)}</field>`;
  body += '</fields></result>';
  return answer(body, XML_TYPE, status);
}

/** The browser post's answer: a 302 to the offer's thank-you page, with exactly the body ASP.NET
 * writes (PROTOCOL.md 4), the URL escaped for its double-quoted href. Routers unescape `&amp;`
 * only, so `'` (which a URL may hold and a double-quoted attribute needs no escape for) stays. */
export function redirectAnswer(location: string): Response {
  const href = location.replace(/[&"<>]/g, (ch) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[ch]!);
  const body = `<html><head><title>Object moved</title></head><body>\r\n<h2>Object moved to <a href="${href}">here</a>.</h2>\r\n</body></html>\r\n`;
  return crossOriginAnswer(body, 302, { Location: location, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': NO_STORE });
}

function answer(body: string, type: string, status: number): Response {
  return crossOriginAnswer(body, status, { 'Content-Type': type, 'Cache-Control': NO_STORE });
}

/** Text for XML element content or a double-quoted attribute. Characters XML 1.0 cannot hold at
 * all (controls other than tab and newlines) become U+FFFD, so the answer always parses. */
export function xml(value: string): string {
  return value
    .replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');
}
