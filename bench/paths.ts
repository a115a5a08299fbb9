// The hot paths the benchmark drives. Each is the request a real client sends (a template that
// bench/wrk.lua fills per request), how its success is recognised and which id in the answer proves
// the write (checked against the store after the run), and the answer the two baselines give in its
// place: the same status and a body of the same kind and size, with no storage behind it.
//
// Templates take {n} (the request's number, unique across the run, so that emails and transaction
// ids never repeat) and the columns of the path's traffic: {a} and {c} (an affiliate and a creative
// it has a campaign for) for clicks, {reqid} and {offer} (a click made beforehand) for the rest.
import { randomBytes } from 'node:crypto';

export const BENCH_API_KEY = 'bench-api-key-0001';

export type PathName = 'click' | 'lead' | 'conversion' | 'pixel';

export interface PathSpec {
  name: PathName;
  title: string;
  method: 'GET' | 'POST';
  /** The route, for the Hono baseline (which serves this path only). */
  route: string;
  /** The path and query, and the body (POST), as templates. */
  target: string;
  body?: string;
  headers?: Record<string, string>;
  /** clicks: requests draw on the campaigns; the others on clicks made beforehand. */
  traffic: 'campaigns' | 'clicks';
  /** How wrk.lua recognises a success: the status, then in the header named or in the body, the
   * plain text `need` (when given) and the Lua pattern `id` (one capture: the id the store is
   * asked for; none for the pixel, whose answer is a GIF, so only the count can be checked). */
  success: { status: number; in: string; need?: string; id?: string };
  /** The answer of the bare node:http server and of Hono with no storage. */
  baseline(): { status: number; headers: Record<string, string>; body: string | Uint8Array<ArrayBuffer> | null };
}

const id = () => randomBytes(24).toString('base64url');
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** The ten fields of the bench offers, as a lead router posts them (form-encoded, one email each).
 * The emails come in no order ({h}), as real leads' do: numbered ones (lead1, lead2, …) would each
 * go at the end of the email indexes, a write far cheaper than a real lead's. */
const LEAD_FIELDS =
  'first_name=Ada&last_name=Lovelace&email={h}.{n}%40bench.example&phone=555-867-5309&zip=90210' +
  '&address=12+Analytical+Engine+Way&city=London&state=CA&age=36&coverage=full';

export const PATHS: Record<PathName, PathSpec> = {
  click: {
    name: 'click',
    title: 'click redirect (GET /?a=&c=, 302)',
    method: 'GET',
    route: '/',
    target: '/?a={a}&c={c}&s1=bench',
    traffic: 'campaigns',
    success: { status: 302, in: 'Location', id: '[?&]reqid=([%w_-]+)' },
    baseline: () => ({
      status: 302,
      headers: { Location: `https://lp.example.com/quote?reqid=${id()}&aff=67890&sub=bench`, 'Cache-Control': 'no-store' },
      body: null,
    }),
  },
  lead: {
    name: 'lead',
    title: 'session post (POST /d.ashx, 10 fields, validated)',
    method: 'POST',
    route: '/d.ashx',
    target: '/d.ashx',
    body: `ckm_offer_id={offer}&ckm_request_id={reqid}&${LEAD_FIELDS}`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    traffic: 'clicks',
    success: { status: 200, in: 'body', need: '<code>0</code>', id: '<leadid>(%x+)</leadid>' },
    baseline: () => {
      const leadid = randomBytes(4).toString('hex').toUpperCase();
      return {
        status: 200,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Cache-Control': 'no-store' },
        body:
          `<?xml version="1.0" encoding="utf-8"?>\n<result><code>0</code><msg>success</msg><leadid>${leadid}</leadid>` +
          `<price>18.00</price><redirect>https://lp.example.com/thanks?lead=${leadid}</redirect></result>`,
      };
    },
  },
  conversion: {
    name: 'conversion',
    title: 'conversion postback (GET /api/2/conversion.json)',
    method: 'GET',
    route: '/api/2/conversion.json',
    target: `/api/2/conversion.json?api_key=${BENCH_API_KEY}&click_id={reqid}&offer_id={offer}&unique_id=u{n}`,
    traffic: 'clicks',
    success: { status: 200, in: 'body', need: '"duplicate":false', id: '"conversion_id":(%d+)' },
    baseline: () => ({
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        request_status: 'Success',
        duplicate: false,
        conversion: {
          conversion_id: randomBytes(4).readUInt32BE() >>> 1,
          offer_id: 12345,
          affiliate_id: 67890,
          click_id: id(),
          payout: 18,
          revenue: 22,
          unique_id: 'u100000001',
          order_id: null,
          conversion_date: new Date().toISOString(),
          conversion_status: 'approved',
        },
      }),
    }),
  },
  pixel: {
    name: 'pixel',
    title: 'conversion pixel (GET /p.ashx?f=img)',
    method: 'GET',
    route: '/p.ashx',
    target: '/p.ashx?o={offer}&r={reqid}&t=t{n}&f=img',
    traffic: 'clicks',
    success: { status: 200, in: 'body' },
    baseline: () => ({ status: 200, headers: { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' }, body: GIF }),
  },
};

export function pathNamed(name: string): PathSpec {
  const path = PATHS[name as PathName];
  if (!path) throw new Error(`unknown path ${name}: use ${Object.keys(PATHS).join(', ')}`);
  return path;
}
