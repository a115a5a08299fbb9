// `#token#` replacement for offer, creative and thank-you links, and `#macro#` / `{macro}` for
// postbacks. Values are URL-encoded; a token we do not know becomes empty (PROTOCOL.md 2 and 6).
//
// A template is split into its text and token names once and kept, so that filling one (every
// click fills its landing URL) is a few concatenations, not a regular-expression pass.

export type TokenValues = Record<string, string | number | null | undefined>;

const HASH_TOKEN = /#([A-Za-z0-9_]+)#/g;
const BRACE_TOKEN = /\{([A-Za-z0-9_]+)\}/g;

/** Text and token names, alternating: text, name, text, …, text. */
type Compiled = string[];

const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 10_000;

function compile(template: string, braces: boolean): Compiled {
  const key = braces ? `{}${template}` : template;
  let parts = compiled.get(key);
  if (parts) return parts;
  parts = [];
  const pattern = braces ? new RegExp(`${HASH_TOKEN.source}|${BRACE_TOKEN.source}`, 'g') : new RegExp(HASH_TOKEN.source, 'g');
  let last = 0;
  for (const match of template.matchAll(pattern)) {
    parts.push(template.slice(last, match.index), (match[1] ?? match[2]!).toLowerCase());
    last = match.index + match[0].length;
  }
  parts.push(template.slice(last));
  // Templates come from the network file and the postback API: a bounded set, but never let a
  // stream of distinct postback URLs grow this without end.
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, parts);
  return parts;
}

export function fillTokens(template: string, values: TokenValues, braces = false): string {
  const parts = compile(template, braces);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    // Own properties only: `#constructor#` is an unknown token like any other, so it is empty.
    const value = Object.hasOwn(values, parts[i]!) ? values[parts[i]!] : undefined;
    if (value != null) out += encodeURIComponent(String(value));
    out += parts[i + 1]!;
  }
  return out;
}
