// The answers of CAKE's classic API (.asmx), in one place: a method builds its answer once as a
// tree of named nodes in schema order (doc.ts helpers), and this module writes that tree as the
// transport asks: the XML of GET and form posts (root named for the response type, in the
// namespace http://cakemarketing.com/api/{N}/), the {"d": …} JSON of JSON posts (same keys, lists
// as arrays, nil as null, numbers as numbers), or a SOAP 1.2 / 1.1 envelope
// ({Method}Response/{Method}Result). fast-xml-parser writes the XML (escaping included).
import { XMLBuilder } from 'fast-xml-parser';

/** A leaf's XML text (null: xsi:nil) and its value in the {"d": …} JSON. */
export interface Leaf {
  text: string | null;
  json: unknown;
}

/** An element: a leaf, or children in schema order. `list`: the children are the items of a
 * plural container (`offers/offer`), an array in JSON. `ns2`: an id/name store leaf, written in
 * the namespace API:id_name_store as CAKE writes them. */
export interface Node {
  name: string;
  value: Leaf | Node[];
  list?: boolean;
  ns2?: boolean;
}

/** A method's answer: a `{x}_response` (children), an `ArrayOfX` of items (v1 methods without an
 * envelope), or a bare `<string>`. */
export type Doc =
  | { kind: 'response'; root: string; children: Node[] }
  | { kind: 'array'; root: string; items: Node[] }
  | { kind: 'string'; value: string };

export type Transport = 'xml' | 'json' | 'soap12' | 'soap11';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XSD = 'http://www.w3.org/2001/XMLSchema';
const ID_NAME_STORE = 'API:id_name_store';
const SOAP_NS = { soap12: 'http://www.w3.org/2003/05/soap-envelope', soap11: 'http://schemas.xmlsoap.org/soap/envelope/' } as const;

export const CONTENT_TYPES: Record<Transport, string> = {
  xml: 'text/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
  soap12: 'application/soap+xml; charset=utf-8',
  soap11: 'text/xml; charset=utf-8',
};

/** http://cakemarketing.com/api/5/ or http://cakemarketing.com/affiliates/api/4/ */
export function namespaceOf(portal: 'admin' | 'affiliates', version: number): string {
  return `http://cakemarketing.com/${portal === 'affiliates' ? 'affiliates/' : ''}api/${version}/`;
}

const builder = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });
const HEAD = '<?xml version="1.0" encoding="utf-8"?>\n';

type Ordered = Record<string, unknown>;

function ordered(node: Node): Ordered {
  const attrs: Record<string, string> = {};
  if (node.ns2) attrs['@_xmlns'] = ID_NAME_STORE;
  let children: Ordered[];
  if (Array.isArray(node.value)) children = node.value.map(ordered);
  else if (node.value.text === null) {
    attrs['@_xsi:nil'] = 'true';
    children = [];
  } else children = node.value.text === '' ? [] : [{ '#text': node.value.text }];
  const out: Ordered = { [node.name]: children };
  if (Object.keys(attrs).length) out[':@'] = attrs;
  return out;
}

function rootAttrs(ns: string, withSchemas: boolean): Record<string, string> {
  return withSchemas ? { '@_xmlns:xsi': XSI, '@_xmlns:xsd': XSD, '@_xmlns': ns } : { '@_xmlns': ns };
}

/** The document's content as ordered nodes: a response's children, an array's items, a string. */
function contentOf(doc: Doc): Ordered[] {
  if (doc.kind === 'string') return doc.value === '' ? [] : [{ '#text': doc.value }];
  return (doc.kind === 'response' ? doc.children : doc.items).map(ordered);
}

function rootName(doc: Doc): string {
  return doc.kind === 'string' ? 'string' : doc.root;
}

/** The XML answer of a GET or form post. */
export function xmlOf(doc: Doc, ns: string): string {
  return HEAD + builder.build([{ [rootName(doc)]: contentOf(doc), ':@': rootAttrs(ns, true) }]);
}

/** The SOAP answer: Envelope/Body/{Method}Response/{Method}Result holding what the XML root holds. */
export function soapOf(doc: Doc, ns: string, method: string, version: 'soap12' | 'soap11'): string {
  const result = { [`${method}Result`]: contentOf(doc) };
  const body = { [`${method}Response`]: [result], ':@': { '@_xmlns': ns } };
  return HEAD + builder.build([envelope(version, [body])]);
}

function envelope(version: 'soap12' | 'soap11', body: Ordered[]): Ordered {
  return {
    'soap:Envelope': [{ 'soap:Body': body }],
    ':@': { '@_xmlns:soap': SOAP_NS[version], '@_xmlns:xsi': XSI, '@_xmlns:xsd': XSD },
  };
}

/** A SOAP fault (HTTP 500), as ASP.NET answers a body it cannot read. SC reads Fault/Reason/Text. */
export function soapFault(version: 'soap12' | 'soap11', reason: string): string {
  const fault =
    version === 'soap12'
      ? [
          { 'soap:Code': [{ 'soap:Value': [{ '#text': 'soap:Sender' }] }] },
          { 'soap:Reason': [{ 'soap:Text': [{ '#text': reason }], ':@': { '@_xml:lang': 'en' } }] },
          { 'soap:Detail': [] },
        ]
      : [{ faultcode: [{ '#text': 'soap:Client' }] }, { faultstring: [{ '#text': reason }] }, { detail: [] }];
  return HEAD + builder.build([envelope(version, [{ 'soap:Fault': fault }])]);
}

/** The {"d": …} value: a response as an object, an array as an array, a string as a string. */
export function jsonOf(doc: Doc): unknown {
  if (doc.kind === 'string') return doc.value;
  if (doc.kind === 'array') return doc.items.map(valueOf);
  return objectOf(doc.children);
}

function objectOf(nodes: Node[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of nodes) out[n.name] = valueOf(n);
  return out;
}

function valueOf(node: Node): unknown {
  if (!Array.isArray(node.value)) return node.value.json;
  if (node.list) return node.value.map(valueOf);
  return objectOf(node.value);
}

/** The whole answer of a call over `transport`. */
export function render(doc: Doc, transport: Transport, ns: string, method: string): Response {
  const body =
    transport === 'json' ? JSON.stringify({ d: jsonOf(doc) }) : transport === 'xml' ? xmlOf(doc, ns) : soapOf(doc, ns, method, transport);
  return new Response(body, { status: 200, headers: { 'Content-Type': CONTENT_TYPES[transport], 'Cache-Control': 'no-store' } });
}
