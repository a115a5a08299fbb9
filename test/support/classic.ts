// Calling CAKE's classic API as the public client libraries do (CAKE-CLASSIC-API.md 1, 4, 5), and
// reading its XML the way their parsers do: element names in document order, namespaces and
// xsi:nil kept, text as text.
import { XMLParser } from 'fast-xml-parser';
import type { TestApp } from './app.js';

export class El {
  constructor(
    readonly name: string,
    readonly attrs: Record<string, string>,
    readonly children: El[],
    readonly text: string,
  ) {}
  /** The child element names, in order. */
  names(): string[] {
    return this.children.map((c) => c.name);
  }
  /** The element at a path of names below this one (`offers/offer/offer_id`); the first match. */
  at(path: string): El {
    let el: El = this;
    for (const name of path.split('/')) {
      const next = el.children.find((c) => c.name === name);
      if (!next) throw new Error(`no <${name}> in <${el.name}> (children: ${el.names().join(', ')})`);
      el = next;
    }
    return el;
  }
  /** The text at a path. */
  get(path: string): string {
    return this.at(path).text;
  }
  all(name: string): El[] {
    return this.children.filter((c) => c.name === name);
  }
  get nil(): boolean {
    return this.attrs['xsi:nil'] === 'true';
  }
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: false, processEntities: true });

type Ordered = Record<string, unknown>;

function build(node: Ordered): El {
  const name = Object.keys(node).find((k) => k !== ':@')!;
  const content = node[name] as Ordered[];
  const children: El[] = [];
  let text = '';
  for (const item of content) {
    if ('#text' in item) text += String(item['#text']);
    else children.push(build(item));
  }
  return new El(name, (node[':@'] as Record<string, string>) ?? {}, children, text);
}

/** The document's root element (the XML declaration skipped). */
export function parseXml(body: string): El {
  const doc = parser.parse(body) as Ordered[];
  const root = doc.find((n) => !('?xml' in n));
  if (!root) throw new Error(`no root element in ${body}`);
  return build(root);
}

/** The {Method}Result of a SOAP answer. */
export function soapResult(body: string, method: string): El {
  return parseXml(body).at(`soap:Body/${method}Response/${method}Result`);
}

export const ADMIN_NS = (n: number) => `http://cakemarketing.com/api/${n}/`;
export const AFFILIATE_NS = (n: number) => `http://cakemarketing.com/affiliates/api/${n}/`;

/** GET with every parameter in the query, as PF, SR, KS, WG, EG and DA send them. */
export async function classicGet(t: TestApp, path: string, params: Record<string, string | number>) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const res = await t.get(`${path}?${query}`);
  return { res, status: res.status, body: await res.text() };
}

export async function classicXml(t: TestApp, path: string, params: Record<string, string | number>): Promise<El> {
  const { status, body, res } = await classicGet(t, path, params);
  if (status !== 200) throw new Error(`${path} answered ${status}: ${body}`);
  if (!res.headers.get('content-type')?.startsWith('text/xml')) throw new Error(`${path} answered ${res.headers.get('content-type')}`);
  return parseXml(body);
}

/** POST JSON, as pycake's _make_api_call sends it: every value a string; answered {"d": …}. */
export async function classicJson(t: TestApp, path: string, params: Record<string, string | number>): Promise<any> {
  const body = JSON.stringify(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));
  const res = await t.post(path, body, 'application/json');
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { d: unknown }).d;
}

/** A SOAP 1.2 call as soapy_cake's request.rb writes it: cake:{Method} holding only the
 * parameters set, Content-Type application/soap+xml. */
export function soap12Body(method: string, ns: string, params: Record<string, string | number>): string {
  const fields = Object.entries(params)
    .map(([k, v]) => `<cake:${k}>${String(v)}</cake:${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cake="${ns}" xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header/><env:Body><cake:${method}>${fields}</cake:${method}></env:Body></env:Envelope>`;
}

/** A SOAP 1.1 call as a .NET proxy (DA's Service References) writes it. */
export function soap11Body(method: string, ns: string, params: Record<string, string | number>): string {
  const fields = Object.entries(params)
    .map(([k, v]) => `<${k}>${String(v)}</${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><${method} xmlns="${ns}">${fields}</${method}></soap:Body></soap:Envelope>`;
}
