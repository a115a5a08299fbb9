// Helpers for the lead post tests: a click to post against, a valid lead, and reading answers.
import { XMLParser } from 'fast-xml-parser';
import { offerCookie } from '../../server/http.js';
import type { LeadRow } from '../../server/store/types.js';
import { setCookie, type TestApp } from './app.js';
import { AFF, CREATIVE, OFFER } from './network.js';

/** A lead offer 12345 takes: every required field, valid. */
export const JANE = { first_name: 'Jane', last_name: 'Doe', email: 'jane@example.com', zip: '90210' } as const;

export const FORM = 'application/x-www-form-urlencoded';

export function form(values: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(values).map(([k, v]) => [k, String(v)])).toString();
}

/** Clicks a tracking link; answers the reqid the landing page got and the cookie the browser keeps. */
export async function click(t: TestApp, a: number = AFF.partner, c: number = CREATIVE.lead, offer_id: number = OFFER.lead, s1 = 'sub-one') {
  const res = await t.get(`/?a=${a}&c=${c}&s1=${s1}`);
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`the click was not taken: ${res.status}`);
  const url = new URL(location);
  const reqid = url.searchParams.get('reqid') ?? url.searchParams.get('r');
  const cookieValue = setCookie(res, offerCookie(offer_id));
  if (!reqid || !cookieValue) throw new Error('the click gave no reqid or no cookie');
  return { reqid, cookie: `${offerCookie(offer_id)}=${cookieValue}` };
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name) => name === 'error' || name === 'field' });

export interface XmlAnswer {
  code: string;
  msg: string;
  leadid?: string;
  price?: string;
  redirect?: string;
  errors: string[];
  fields: Record<string, string>;
}

/** The <result> of an XML answer, after checking it is one. */
export async function xmlAnswer(res: Response): Promise<XmlAnswer> {
  if (!res.headers.get('content-type')?.startsWith('text/xml')) throw new Error(`not an XML answer: ${res.headers.get('content-type')}`);
  const text = await res.text();
  if (!text.startsWith('<?xml version="1.0" encoding="utf-8"?>')) throw new Error(`no XML declaration: ${text}`);
  const result = parser.parse(text).result;
  const fields: Record<string, string> = {};
  for (const f of result.fields?.field ?? []) fields[f.name] = f['#text'];
  return { ...result, errors: result.errors?.error ?? [], fields };
}

export async function allLeads(t: TestApp): Promise<LeadRow[]> {
  return (await t.store.listLeads({ include_tests: true, offset: 0, limit: 1000 })).rows;
}
