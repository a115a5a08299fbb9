// CAKE's classic API (CAKE-CLASSIC-API.md 1): /api/{N}/{service}.asmx/{Method} for admin keys and
// /affiliates/api/{N}/{service}.asmx/{Method} for affiliate keys (api_key plus its affiliate_id),
// any N, service and parameter names matched case-insensitively. One handler reads every
// transport the public clients use into one lower-cased parameter map (GET query; POST form; POST
// with the parameters in the query string; POST JSON, answered {"d": …}; SOAP 1.2 and 1.1 to the
// .asmx without the method), asks auth.ts what the key may do exactly as the v2 API does, runs
// the method (export.ts, reports.ts, track.ts, addedit.ts, get.ts, affiliate.ts), and writes the
// answer in the transport's envelope (envelope.ts). Failures are CAKE's: HTTP 200, success false
// and a message; a SOAP body that cannot be read is a SOAP fault (HTTP 500). Never a 404 page.
import { XMLParser } from 'fast-xml-parser';
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from '../app.js';
import { limitBody } from '../http.js';
import { authenticate, outOfScope, permit } from '../auth.js';
import { ChangeRefused } from '../network/change.js';
import { BadParams, queryParams } from '../params.js';
import { StoreOverloaded } from '../store/errors.js';
import { ReadTimeout, type Scope } from '../store/types.js';
import { addeditMethods } from './addedit.js';
import { affiliateMethods } from './affiliate.js';
import { ClassicError, ClassicParamError, type ClassicCall, type Method, type Portal } from './call.js';
import { errorDoc } from './doc.js';
import { CONTENT_TYPES, namespaceOf, render, soapFault, type Doc, type Transport } from './envelope.js';
import { exportMethods } from './export.js';
import { getMethods } from './get.js';
import { reportMethods } from './reports.js';
import { trackMethods } from './track.js';

/** Every method Crumb answers, by `portal/service/method` in lower case. */
const METHODS: Record<string, Method> = {
  ...prefixed('admin/export', exportMethods),
  ...prefixed('admin/reports', reportMethods),
  ...prefixed('admin/track', trackMethods),
  ...prefixed('admin/addedit', addeditMethods),
  ...prefixed('admin/get', getMethods),
  ...affiliateMethods,
};

function prefixed(prefix: string, methods: Record<string, Method>): Record<string, Method> {
  return Object.fromEntries(Object.entries(methods).map(([name, m]) => [`${prefix}/${name.toLowerCase()}`, m]));
}

/** Methods public clients call that Crumb has no such thing for: named in the error. */
const UNSUPPORTED = /^(buyers|buyercontracts|leadsbybuyer|updatesalerevenue|updateleadprice|leadinfo|schedules|leadtiers|campaignleadtiers|leadsbyaffiliateexport)$/;

const PATH = /^\/(?:(affiliates|buyers|advertisers)\/)?api\/(\d{1,4})\/([a-z_]+)\.asmx(?:\/([a-z_0-9]*))?\/?$/i;

/** The largest body read: SOAP and form posts are small (MassConversionInsert lists ids). */
const MAX_BODY = 256 * 1024;

/** The routes, as the request log and metrics label them (a bounded set). */
const ASMX = ':service{[A-Za-z_]+\\.[Aa][Ss][Mm][Xx]}';
const ROUTES = ['', '/:area{[Aa]ffiliates|[Bb]uyers|[Aa]dvertisers}'].flatMap((area) => [`${area}/api/:version{[0-9]+}/${ASMX}`, `${area}/api/:version{[0-9]+}/${ASMX}/:method`]);

export function mountClassic(app: Hono, deps: AppDeps): void {
  // A body past the limit is not read: CAKE's error envelope, and this connection closes.
  const limit = limitBody(MAX_BODY, (c) => {
    c.header('Connection', 'close');
    const ns = namespaceOf(c.req.path.toLowerCase().startsWith('/affiliates/') ? 'affiliates' : 'admin', Number(/api\/(\d+)/.exec(c.req.path)?.[1] ?? 1));
    return render(errorDoc('error_response', `The request body is larger than ${MAX_BODY} bytes`, false), 'xml', ns, 'Error');
  });
  app.on(['GET', 'POST'], ROUTES, limit, async (c, next) => {
    const match = PATH.exec(new URL(c.req.url).pathname);
    if (!match) return next();
    return classicCall(c, deps, match);
  });
}

interface Request {
  transport: Transport;
  method: string;
  params: Record<string, string>;
}

async function classicCall(c: Context, deps: AppDeps, match: RegExpExecArray): Promise<Response> {
  const [, area, versionText, serviceText, methodText] = match;
  const version = Number(versionText);
  const portal: Portal = area?.toLowerCase() === 'affiliates' ? 'affiliates' : 'admin';
  const service = serviceText!.toLowerCase();
  const ns = namespaceOf(portal, version);
  let request: Request;
  try {
    request = await readRequest(c, methodText ?? '');
  } catch (error) {
    if (error instanceof SoapUnreadable) {
      return new Response(soapFault(error.version, error.message), { status: 500, headers: { 'Content-Type': soapType(error.version) } });
    }
    const transport: Transport = (c.req.header('content-type') ?? '').includes('json') ? 'json' : 'xml';
    return render(errorDoc('error_response', (error as Error).message, false), transport, ns, methodText || 'Error');
  }
  const { transport, params } = request;
  const methodName = request.method;
  const answer = (doc: Doc) => render(doc, transport, ns, methodName || 'Error');

  if (area && area.toLowerCase() !== 'affiliates') {
    return answer(errorDoc('error_response', `The ${area.toLowerCase()} API (${service}.asmx/${methodName}) is not supported by Crumb: it has no buyers, lead distribution or advertiser logins`, false));
  }
  if (!methodName && ('wsdl' in params || 'op' in params)) {
    return answer(errorDoc('error_response', `Crumb serves no WSDL or method pages for ${service}.asmx: call ${service}.asmx/{Method} with GET or POST, or post a SOAP envelope naming the method (docs/classic-api.md lists them)`, false));
  }
  if (!methodName) {
    return answer(errorDoc('error_response', `No method named: call ${service}.asmx/{Method} (GET or POST), or post a SOAP envelope to ${service}.asmx`, false));
  }
  const method = METHODS[`${portal}/${service}/${methodName.toLowerCase()}`];
  if (!method) {
    const why = UNSUPPORTED.test(methodName.toLowerCase())
      ? 'is not supported by Crumb: it has no buyers or lead distribution'
      : 'is not implemented by Crumb (see the README, "CAKE\'s classic API", for the methods it answers)';
    return answer(errorDoc('error_response', `Method ${service}.asmx/${methodName} ${why}`, false));
  }
  const fail = (message: string) => answer(errorDoc(method.root, message, method.list));
  if (version < method.versions[0] || version > method.versions[1]) {
    return fail(`Method ${service}.asmx/${methodName} has no version ${version}: CAKE has it in versions ${method.versions[0]} to ${method.versions[1]}`);
  }
  try {
    await deps.live.ready.catch(() => {
      throw new ClassicError('The network is not loaded yet: retry in a moment');
    });
    const call = await authorize(deps, c, method, portal, version, methodName, params);
    if (typeof call === 'string') return fail(call);
    return answer(await method.run(call));
  } catch (error) {
    if (error instanceof ClassicParamError && (transport === 'soap12' || transport === 'soap11')) {
      const reason = `Server was unable to read request. ---> There is an error in XML document. ---> Input string was not in a correct format. (${error.message})`;
      return new Response(soapFault(transport, reason), { status: 500, headers: { 'Content-Type': soapType(transport) } });
    }
    // The store's write queue is full: CAKE's rate-limit answer, which SC retries with backoff.
    if (error instanceof StoreOverloaded) {
      const res = fail('Restricted');
      res.headers.set('Retry-After', String(error.retryAfter));
      return res;
    }
    const message = messageOf(error);
    if (message === null) throw error;
    return fail(message);
  }
}

/** The key and its scope, exactly as the v2 API decides them (auth.ts); a string: why not. */
async function authorize(
  deps: AppDeps,
  c: Context,
  method: Method,
  portal: Portal,
  version: number,
  methodName: string,
  params: Record<string, string>,
): Promise<ClassicCall | string> {
  const base = { deps, c, portal, version, method: methodName, params };
  if (method.keyless) return { ...base, key: null as never, scope: {} };
  const key = await authenticate(deps.network, params.api_key);
  if (!key) return 'Invalid API Key';
  deps.keyUses.note(key, deps.clock());
  let scope: Scope;
  if (method.v2 === 'admin') {
    if (key.role !== 'admin') return outOfScope(key, `${methodName} needs an admin key`).message;
    scope = {};
  } else {
    const [verb, path] = method.v2.split(' ') as [string, string];
    scope = permit(key, verb, path);
  }
  if (portal === 'affiliates') {
    // The affiliate API: an affiliate key with its own affiliate_id on every call (an admin key
    // may act for any affiliate it names).
    const given = params.affiliate_id?.trim();
    if (!given || !/^\d{1,10}$/.test(given) || Number(given) === 0) return 'affiliate_id is required: send the affiliate id the API key belongs to';
    const affiliate_id = Number(given);
    if (key.role === 'affiliate' && affiliate_id !== key.affiliate_id) return `Invalid affiliate_id: this API key belongs to affiliate ${key.affiliate_id}`;
    if (key.role === 'advertiser') return 'Invalid API Key: the affiliate API takes an affiliate key';
    if (!deps.network.affiliates.has(affiliate_id)) return `Invalid affiliate_id: there is no affiliate ${affiliate_id}`;
    scope = { affiliate_id };
  }
  return { ...base, key, scope };
}

/** What CAKE's envelope says for an error of ours; null for an error not foreseen (a 500). */
function messageOf(error: unknown): string | null {
  if (error instanceof ClassicError) return error.message;
  if (error instanceof BadParams) return `Invalid parameters: ${error.message}`;
  if (error instanceof ChangeRefused) return error.message;
  if (error instanceof HTTPException) return error.message;
  if (error instanceof ReadTimeout) return `The query took longer than ${error.ms / 1000} s and was stopped: ask for fewer days or add filters, then retry`;
  return null;
}

// ---- reading the request -----------------------------------------------------------------------

class SoapUnreadable extends Error {
  constructor(
    readonly version: 'soap12' | 'soap11',
    detail: string,
  ) {
    super(`Server was unable to read request. ---> There is an error in XML document. ---> ${detail}`);
  }
}

function soapType(version: 'soap12' | 'soap11') {
  return CONTENT_TYPES[version];
}

const soapParser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  maxNestedTags: 16,
});

/** The transport, the method and the parameters (names lower-cased, the first value winning: the
 * query string first, as ASP.NET reads them). */
async function readRequest(c: Context, urlMethod: string): Promise<Request> {
  const params: Record<string, string> = Object.create(null);
  const add = (name: string, value: string) => {
    const lower = name.toLowerCase();
    if (!(lower in params)) params[lower] = value;
  };
  for (const [k, v] of Object.entries(queryParams(c.req.url))) add(k, v);
  if (c.req.method !== 'POST') return { transport: 'xml', method: urlMethod, params };

  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const text = await bodyText(c);
  const soapAction = c.req.header('soapaction');
  const soap: 'soap12' | 'soap11' | null = type.includes('soap+xml')
    ? 'soap12'
    : type.includes('xml') && (soapAction !== undefined || /^\s*(<\?xml[^>]*>\s*)?<([\w-]+:)?Envelope[\s>]/.test(text))
      ? 'soap11'
      : null;
  if (soap) {
    const { method, fields } = readSoap(text, soap);
    for (const [k, v] of Object.entries(fields)) add(k, v);
    return { transport: soap, method: urlMethod || method || soapActionMethod(soapAction), params };
  }
  if (type.includes('json')) {
    if (text.trim()) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ClassicError('The body is not valid JSON: send a JSON object of parameter names to values');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClassicError('The body must be a JSON object of parameter names to values');
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        add(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
      }
    }
    return { transport: 'json', method: urlMethod, params };
  }
  for (const [k, v] of new URLSearchParams(text)) add(k, v);
  return { transport: 'xml', method: urlMethod, params };
}

/** The body (its size bounded by the route's limitBody). */
async function bodyText(c: Context): Promise<string> {
  return c.req.text();
}

/** "http://cakemarketing.com/api/5/Offers" → Offers (SOAP 1.1 names the method in SOAPAction). */
function soapActionMethod(action: string | undefined): string {
  return action?.replace(/"/g, '').split('/').filter(Boolean).pop() ?? '';
}

/** Envelope/Body/{Method}: the method's name and its child elements as parameters (a nested
 * element, such as a list of ids, as its JSON). */
function readSoap(text: string, version: 'soap12' | 'soap11'): { method: string; fields: Record<string, string> } {
  if (/<!(DOCTYPE|ENTITY)/i.test(text)) throw new SoapUnreadable(version, 'DOCTYPE and ENTITY declarations are not accepted.');
  let doc: unknown;
  try {
    doc = soapParser.parse(text, true);
  } catch (error) {
    throw new SoapUnreadable(version, (error as Error).message);
  }
  const envelope = (doc as Record<string, unknown>)?.Envelope as Record<string, unknown> | undefined;
  const body = envelope?.Body;
  if (!envelope || body === undefined) throw new SoapUnreadable(version, 'The body is not a SOAP Envelope with a Body.');
  if (!body || typeof body !== 'object') return { method: '', fields: {} };
  const [method, content] = Object.entries(body as Record<string, unknown>)[0] ?? ['', ''];
  const fields: Record<string, string> = {};
  if (content && typeof content === 'object') {
    for (const [k, v] of Object.entries(content as Record<string, unknown>)) {
      const value = Array.isArray(v) ? v[0] : v;
      fields[k] = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '');
    }
  }
  return { method, fields };
}
