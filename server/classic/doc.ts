// Building the nodes of a classic answer (envelope.ts writes them): typed leaves that know their
// XML text and their JSON value, CAKE's id/name pairs (leaves in API:id_name_store), money as
// amount (4 decimals) plus formatted_amount, dates as YYYY-MM-DDTHH:MM:SS.fff, and the envelope
// every list answer has (success, message, row_count, then the plural list of singular items).
import type { Doc, Node } from './envelope.js';
import { formatCakeDate } from './dates.js';

// Characters XML 1.0 cannot carry (DA strips &#x0; before deserializing): dropped from text.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function text(name: string, value: string | null | undefined): Node {
  if (value === null || value === undefined) return nil(name);
  const clean = value.replace(NOT_XML, '');
  return { name, value: { text: clean, json: clean } };
}

export function nil(name: string): Node {
  return { name, value: { text: null, json: null } };
}

export function int(name: string, value: number | null | undefined): Node {
  return value === null || value === undefined ? nil(name) : { name, value: { text: String(value), json: value } };
}

export function bool(name: string, value: boolean | null | undefined): Node {
  return value === null || value === undefined ? nil(name) : { name, value: { text: value ? 'true' : 'false', json: value } };
}

/** A decimal with a fixed number of digits in the XML (`1.0000`), a number in JSON. */
export function decimal(name: string, value: number | null | undefined, digits = 4): Node {
  return value === null || value === undefined ? nil(name) : { name, value: { text: value.toFixed(digits), json: Number(value.toFixed(digits)) } };
}

/** A date in the network's zone (`zone`: its time_zone), as CAKE writes them. */
export function date(name: string, ms: number | null | undefined, zone: string): Node {
  return ms === null || ms === undefined ? nil(name) : text(name, formatCakeDate(ms, zone));
}

export function group(name: string, children: Node[]): Node {
  return { name, value: children };
}

/** A plural container of singular items (`offers/offer`); empty: the self-closed container. */
export function list(name: string, items: Node[]): Node {
  return { name, value: items, list: true };
}

/** An id/name store: `<advertiser><advertiser_id xmlns="API:id_name_store">5</…>…</advertiser>`. */
export function idName(name: string, idKey: string, id: number | null | undefined, nameKey: string, value: string | null | undefined): Node {
  return group(name, [ns2(int(idKey, id)), ns2(text(nameKey, value))]);
}

/** A leaf written in the namespace API:id_name_store. */
export function ns2(node: Node): Node {
  return { ...node, ns2: true };
}

/** The network's one currency (Crumb keeps no currency per offer): US dollars, CAKE's id 1. */
export const CURRENCY = { currency_id: 1, currency_symbol: '$', currency_name: 'US Dollar', currency_abbr: 'USD' } as const;

export function currency(name = 'currency'): Node {
  return group(name, [
    ns2(int('currency_id', CURRENCY.currency_id)),
    ns2(text('currency_symbol', CURRENCY.currency_symbol)),
    ns2(text('currency_name', CURRENCY.currency_name)),
    ns2(text('currency_abbr', CURRENCY.currency_abbr)),
  ]);
}

/** `$18.00`, or `10.00%` for a percentage. */
export function formatted(amount: number, percent = false): string {
  return percent ? `${amount.toFixed(2)}%` : `${CURRENCY.currency_symbol}${amount.toFixed(2)}`;
}

/** `{is_percentage, amount, formatted_amount}` (offer and campaign payouts). */
export function payoutOf(name: string, amount: number, percent: boolean): Node {
  return group(name, [bool('is_percentage', percent), decimal('amount', amount), text('formatted_amount', formatted(amount, percent))]);
}

/** `{currency_id, amount, formatted_amount}` (a conversion's paid and received). */
export function moneyOf(name: string, cents: number): Node {
  const amount = cents / 100;
  return group(name, [int('currency_id', CURRENCY.currency_id), decimal('amount', amount), text('formatted_amount', formatted(amount))]);
}

/** A list answer: success, (message), row_count (every match, not the page), the list. */
export function listDoc(root: string, row_count: number, container: Node, extra: Node[] = []): Doc {
  return { kind: 'response', root, children: [bool('success', true), int('row_count', row_count), ...extra, container] };
}

/** An answer without a list: success, message, then what the method adds. */
export function plainDoc(root: string, message: string | null, rest: Node[] = []): Doc {
  return { kind: 'response', root, children: [bool('success', true), ...(message === null ? [] : [text('message', message)]), ...rest] };
}

/** CAKE's error answer: HTTP 200, success false, the message, and row_count 0 on list types. */
export function errorDoc(root: string, message: string, isList: boolean): Doc {
  return { kind: 'response', root, children: [bool('success', false), text('message', message), ...(isList ? [int('row_count', 0)] : [])] };
}
