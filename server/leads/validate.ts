// Checking a lead against its offer's field list (PROTOCOL.md 4): required, type (text, number,
// email, phone, zip, date, select) and max length. Each offer's checks are compiled once, on first
// use (or at start-up through `validatorFor`), into one function per field.
import type { Offer, OfferField } from '../network.js';
import type { Params } from '../params.js';

export interface Checked {
  /** The offer's fields as they will be stored: trimmed, selects in their configured spelling. */
  fields: Record<string, string>;
  /** The duplicate-lead key, lower-cased: the value of the offer's field of type email, else of
   * its field named email_address, else email (names vary by network: PROTOCOL.md 4). Null when
   * the lead has none. */
  email: string | null;
  /** Required fields that are missing or empty, with how to fix each. */
  missing: Record<string, string>;
  /** Fields present but not acceptable, with how to fix each. */
  invalid: Record<string, string>;
}

export type Validator = (params: Params) => Checked;

/** A value no field may exceed, when the offer gives no max_length. */
export const DEFAULT_MAX_LENGTH = 4000;
/** An offer without a field list stores what is posted, within these bounds. */
export const FREE_FIELDS = { max: 50, maxLength: 1000 } as const;

/** How each type is written, for error messages and the posting document. */
export const FIELD_FORMATS: Record<OfferField['type'], string> = {
  text: 'any text',
  number: 'a number such as 42 or 1250.50',
  email: 'an email address such as jane@example.com',
  phone: 'a phone number of 7 to 15 digits, such as 555-555-0123 or +44 20 7946 0958',
  zip: 'a ZIP or postal code such as 90210, 90210-1234 or SW1A 1AA',
  date: 'a date as YYYY-MM-DD or MM/DD/YYYY, such as 1990-01-31',
  select: 'one of the listed options',
};

type Check = (value: string) => { value: string } | { error: string };

interface CompiledField {
  name: string;
  required: boolean;
  isEmail: boolean;
  check: Check;
}

const compiled = new WeakMap<Offer, Validator>();

export function validatorFor(offer: Offer): Validator {
  let validator = compiled.get(offer);
  if (!validator) {
    validator = offer.fields.length ? compile(offer.fields) : freeFields;
    compiled.set(offer, validator);
  }
  return validator;
}

function compile(list: OfferField[]): Validator {
  const fields: CompiledField[] = list.map((f) => ({
    name: f.name,
    required: f.required,
    isEmail: f.type === 'email',
    check: checkFor(f),
  }));
  const emailField =
    fields.find((f) => f.isEmail) ?? fields.find((f) => f.name.toLowerCase() === 'email_address') ?? fields.find((f) => f.name.toLowerCase() === 'email');

  return (params) => {
    const out: Checked = { fields: {}, email: null, missing: {}, invalid: {} };
    let lower: Map<string, string> | undefined;
    for (const f of fields) {
      let raw = Object.hasOwn(params, f.name) ? params[f.name] : undefined;
      if (raw === undefined) {
        // Some forms capitalise their names (Email, First_Name): match those too.
        lower ??= lowerKeys(params);
        raw = lower.get(f.name.toLowerCase());
      }
      const text = raw?.trim() ?? '';
      if (!text) {
        if (f.required) out.missing[f.name] = 'is required';
        continue;
      }
      const result = f.check(text);
      if ('error' in result) out.invalid[f.name] = result.error;
      else out.fields[f.name] = result.value;
    }
    if (emailField) {
      const email = out.fields[emailField.name];
      if (email !== undefined) out.email = email.toLowerCase();
    }
    return out;
  };
}

const FREE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** An offer without a field list: every posted key that is not a ckm_ key, checked for size only;
 * `email_address` (CAKE's name), else `email`, when posted, must be an email address (it is the
 * duplicate key). */
const freeFields: Validator = (params) => {
  const out: Checked = { fields: {}, email: null, missing: {}, invalid: {} };
  let count = 0;
  for (const [key, raw] of Object.entries(params)) {
    if (key.toLowerCase().startsWith('ckm_')) continue;
    const value = raw.trim();
    if (!value) continue;
    if (!FREE_NAME.test(key)) continue; // not a field name (a submit button, an array notation)
    if (++count > FREE_FIELDS.max) {
      out.invalid[key] = `is one field too many: an offer without a field list takes at most ${FREE_FIELDS.max}`;
      break;
    }
    if (value.length > FREE_FIELDS.maxLength) {
      out.invalid[key] = `is longer than ${FREE_FIELDS.maxLength} characters`;
      continue;
    }
    out.fields[key] = value;
  }
  const key = out.fields.email_address !== undefined ? 'email_address' : 'email';
  const email = out.fields[key];
  if (email !== undefined) {
    const checked = checkEmail(email);
    if ('error' in checked) {
      out.invalid[key] = checked.error;
      delete out.fields[key];
    } else {
      out.email = checked.value.toLowerCase();
    }
  }
  return out;
};

function lowerKeys(params: Params): Map<string, string> {
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(params)) {
    const k = key.toLowerCase();
    if (!map.has(k)) map.set(k, value);
  }
  return map;
}

// ---- one check per type ----------------------------------------------------------------------------

function checkFor(f: OfferField): Check {
  const max = f.max_length ?? DEFAULT_MAX_LENGTH;
  const type = typeCheck(f);
  return (value) => (value.length > max ? { error: `is longer than ${max} characters` } : type(value));
}

function typeCheck(f: OfferField): Check {
  switch (f.type) {
    case 'text':
      return (value) => ({ value });
    case 'number':
      return (value) => (/^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? { value } : { error: `is not a number: send ${FIELD_FORMATS.number}` });
    case 'email':
      return checkEmail;
    case 'phone':
      return (value) => {
        if (!/^\+?[\d\s().\-/]+$/.test(value)) return { error: `is not a phone number: send ${FIELD_FORMATS.phone}` };
        const digits = value.replace(/\D/g, '').length;
        return digits >= 7 && digits <= 15 ? { value } : { error: `is not a phone number: send ${FIELD_FORMATS.phone}` };
      };
    case 'zip':
      return (value) =>
        /^[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9]$/.test(value) && /\d/.test(value)
          ? { value }
          : { error: `is not a ZIP or postal code: send ${FIELD_FORMATS.zip}` };
    case 'date':
      return (value) => (isDate(value) ? { value } : { error: `is not a date: send ${FIELD_FORMATS.date}` });
    case 'select': {
      const options = f.options ?? [];
      const byLower = new Map(options.map((o) => [o.toLowerCase(), o]));
      const list = options.join(', ');
      return (value) => {
        const option = byLower.get(value.toLowerCase());
        return option !== undefined ? { value: option } : { error: `must be one of: ${list}` };
      };
    }
  }
}

function checkEmail(value: string): { value: string } | { error: string } {
  return value.length <= 254 && /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:.]{2,}$/.test(value) && !value.includes('..')
    ? { value }
    : { error: `is not an email address: send ${FIELD_FORMATS.email}` };
}

/** YYYY-MM-DD or MM/DD/YYYY (M/D/YYYY too), a real calendar date. */
function isDate(value: string): boolean {
  let y: number, m: number, d: number;
  let match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match) {
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
    if (!match) return false;
    [m, d, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
