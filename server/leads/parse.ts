// Reading a lead post in every format /d.ashx takes (PROTOCOL.md 4) into one flat map of strings,
// and choosing the answer's format: JSON for a JSON body (application/json, or text/plain holding a
// JSON object as d.js and sendBeacon send it), XML for everything else.
//   GET query · POST form (query + body) · POST multipart form · POST JSON · POST XML (ckm_xml=1)
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { XMLParser } from 'fast-xml-parser';
import { BadParams, isJsonBody, queryParams, readParams, type Params } from '../params.js';
import type { AnswerFormat } from './answer.js';

export interface LeadPost {
  params: Params;
  format: AnswerFormat;
}

/** A body we could not read: answered in the post's format with this status. */
export class BadLeadBody extends Error {
  constructor(
    readonly format: AnswerFormat,
    readonly status: 400 | 415,
    readonly fields: Record<string, string>,
  ) {
    super(Object.values(fields).join('; '));
  }
}

export async function readLeadPost(c: Context): Promise<LeadPost> {
  const method = c.req.method;
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (method === 'GET' || method === 'HEAD') return { params: await readParams(c), format: 'xml' };

  if (type.includes('xml') || queryFlag(c.req.url, 'ckm_xml')) {
    return { params: readXml(c.req.url, await c.req.text()), format: 'xml' };
  }
  if (type.startsWith('multipart/form-data')) return { params: await readMultipart(c), format: 'xml' };

  // Hono keeps the body text, so reading it here and in readParams costs nothing twice.
  const text = await c.req.text();
  const json = isJsonBody(type, text);
  // An XML body whose poster forgot ckm_xml=1: no form or JSON body begins with "<".
  if (!json && text.trimStart().startsWith('<')) return { params: readXml(c.req.url, text), format: 'xml' };
  const format: AnswerFormat = json ? 'json' : 'xml';
  try {
    return { params: await readParams(c), format };
  } catch (error) {
    if (error instanceof BadParams) {
      throw new BadLeadBody(format, 400, Object.fromEntries(error.errors.map((e) => [e.parameter, e.message])));
    }
    if (error instanceof HTTPException && error.status === 415) {
      throw new BadLeadBody(format, 415, {
        body: `Content-Type ${type} is not accepted: send a form (application/x-www-form-urlencoded or multipart/form-data), JSON (application/json) or XML with ckm_xml=1`,
      });
    }
    throw error;
  }
}

/** The answer format of a body refused unread (too large): from the headers alone, so text/plain
 * (what d.js sends) counts as JSON; isJsonBody decides for bodies that were read. */
export function formatOfHeaders(c: Context): AnswerFormat {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  return type.includes('json') || type.startsWith('text/plain') ? 'json' : 'xml';
}

function queryFlag(url: string, name: string): boolean {
  const q = url.indexOf('?');
  // Most posts do not name it at all: skip parsing their query a second time.
  return q >= 0 && url.includes(name, q) && new URLSearchParams(url.slice(q + 1)).get(name) === '1';
}

// ---- XML ------------------------------------------------------------------------------------------

// The parser decodes entities only through this: the five XML builtins and character references.
// A DOCTYPE is refused before parsing anyway; were one to get through, the entities it declares are
// dropped here (addInputEntities), never expanded.
const XML_BUILTINS: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g;
const builtinsOnly = {
  setExternalEntities() {},
  addInputEntities() {},
  reset() {},
  setXmlVersion() {},
  decode(text: string): string {
    if (text.indexOf('&') < 0) return text;
    return text.replace(ENTITY, (whole, name: string) => {
      if (name[0] !== '#') return XML_BUILTINS[name]!;
      const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      return allowed ? String.fromCodePoint(code) : whole;
    });
  },
};

// One parser for every post.
const xmlParser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  entityDecoder: builtinsOnly,
  maxNestedTags: 8,
});

const XML_SHAPE = 'send <XML><field_name>value</field_name>…</XML> with the post keys in the query string';

/** `<XML><first_name>Jane</first_name>…</XML>`: the query string's keys, then the root's children.
 * The first of a repeated key wins, as in a form. */
function readXml(url: string, text: string): Params {
  const params = queryParams(url);
  const body = text.trim();
  if (!body) return params;
  if (/<!(DOCTYPE|ENTITY)/i.test(body)) {
    throw new BadLeadBody('xml', 400, { body: `DOCTYPE and ENTITY declarations are not accepted: ${XML_SHAPE}` });
  }
  let doc: unknown;
  try {
    doc = xmlParser.parse(body, true);
  } catch (error) {
    const reason = (error as Error).message.replace(/^\[SECURITY\]\s*/, '');
    throw new BadLeadBody('xml', 400, { body: `is not well-formed XML (${reason}): ${XML_SHAPE}` });
  }
  const root = doc && typeof doc === 'object' ? Object.values(doc as Record<string, unknown>)[0] : undefined;
  if (root === undefined) throw new BadLeadBody('xml', 400, { body: `has no root element: ${XML_SHAPE}` });
  if (typeof root !== 'object' || root === null) return params; // <XML/> or <XML>text</XML>: no fields
  const problems: Record<string, string> = {};
  for (const [key, raw] of Object.entries(root as Record<string, unknown>)) {
    if (key === '#text') continue;
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value === 'object' && value !== null) {
      problems[key] = 'must be a single value, not nested elements';
    } else if (!(key in params)) {
      params[key] = String(value ?? '');
    }
  }
  if (Object.keys(problems).length) throw new BadLeadBody('xml', 400, problems);
  return params;
}

// ---- multipart ------------------------------------------------------------------------------------

/** An HTML form with enctype="multipart/form-data": the query, then its text fields (files ignored). */
async function readMultipart(c: Context): Promise<Params> {
  const params = queryParams(c.req.url);
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw new BadLeadBody('xml', 400, { body: 'is not a readable multipart/form-data body' });
  }
  for (const [key, value] of form) if (typeof value === 'string' && !(key in params)) params[key] = value;
  return params;
}
