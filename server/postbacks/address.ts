// Where a server-to-server postback may go (PROTOCOL.md 10, "Postback targets"): public addresses
// on ports 80 and 443, unless the network says otherwise. One module decides it for every caller:
// the API when a postback is saved, the dispatcher for each redirect hop, and the Node sender for
// the address it is about to connect to (so that DNS rebinding and redirects cannot get round it).
//
// Hosts are read as a resolver reads them, not as they look: `127.1`, `0x7f.1`, `017700000001` and
// `2130706433` are all 127.0.0.1 (inet_aton, and the WHATWG URL parser, accept every one), and
// `[::ffff:127.0.0.1]` is 127.0.0.1 too. Web-standard code only: it runs on every runtime.

/** The network's rules for postback targets. */
export interface PostbackTargets {
  /** Private, loopback and every other non-public address allowed, on any port. */
  allow_private: boolean;
  /** Ports allowed on public addresses. */
  ports: readonly number[];
}

export const DEFAULT_TARGETS: PostbackTargets = { allow_private: false, ports: [80, 443] };

/** The rules of a network (its `postbacks_allow_private` and `postback_ports` settings). */
export function targetsOf(network: { postbacks_allow_private: boolean; postback_ports: readonly number[] }): PostbackTargets {
  return { allow_private: network.postbacks_allow_private, ports: network.postback_ports };
}

/** Why a target was refused, as the delivery log shows it (no address in it). */
export type Refusal = 'private address' | 'port' | 'scheme';

/** A target the rules refuse. `message` names the rule and how to change it; it may name the
 * address, so it is for the person who saved the postback, never for the delivery log. */
export class RefusedTarget extends Error {
  constructor(
    readonly refusal: Refusal,
    message: string,
  ) {
    super(message);
  }
}

export interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

// ---- parsing ---------------------------------------------------------------------------------------

/** An IPv4 or IPv6 address in any form a resolver takes as numeric, or null for a name. IPv6 may
 * be bracketed (as in URLs) and carry a zone (`fe80::1%eth0`). */
export function parseIp(text: string): IpAddress | null {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (host.includes(':')) {
    const bytes = parseIpv6(host);
    return bytes && { version: 6, bytes };
  }
  const bytes = parseIpv4(host);
  return bytes && { version: 4, bytes };
}

/** inet_aton's forms: one to four parts, each decimal, octal (leading 0) or hex (0x); the last
 * part fills the bytes left. A trailing dot is allowed, as the URL parser allows it. */
function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) value = part.length === 1 ? 0 : parseInt(part.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(part)) value = Number(part);
    else return null;
    if (!Number.isSafeInteger(value)) return null;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return null;
  const bytes = new Uint8Array(4);
  values.forEach((v, i) => (bytes[i] = v));
  for (let i = 3, rest = last; i >= values.length; i--, rest = Math.floor(rest / 256)) bytes[i] = rest % 256;
  return bytes;
}

function parseIpv6(text: string): Uint8Array | null {
  const host = text.replace(/%[^%]*$/, '');
  const halves = host.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        // An embedded IPv4 address: strict dotted decimal, as RFC 4291 writes it.
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(piece)) return null;
        const v4 = piece.split('.').map(Number);
        if (v4.some((b) => b > 255)) return null;
        out.push(v4[0]! * 256 + v4[1]!, v4[2]! * 256 + v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** The address in its usual text form (RFC 5952 for IPv6). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return [...ip.bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!);
  // The longest run of two or more zero groups becomes "::".
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

// ---- classification --------------------------------------------------------------------------------

type Range = { prefix: number[]; bits: number; name: string };

const v4 = (cidr: string, name: string): Range => {
  const [address, bits] = cidr.split('/');
  return { prefix: address!.split('.').map(Number), bits: Number(bits), name: `${name} (${cidr})` };
};
const v6 = (cidr: string, name: string): Range => {
  const [address, bits] = cidr.split('/');
  return { prefix: [...parseIpv6(address!)!], bits: Number(bits), name: `${name} (${cidr})` };
};

/** Every IPv4 range that is not globally reachable (IANA's special-purpose registry, multicast and
 * the reserved block), most specific first where they nest. */
const IPV4_SPECIAL: Range[] = [
  v4('0.0.0.0/8', 'unspecified, this network'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'carrier-grade NAT shared space'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local, where cloud metadata services answer'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation TEST-NET-1'),
  v4('192.88.99.0/24', 'deprecated 6to4 relay anycast'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation TEST-NET-2'),
  v4('203.0.113.0/24', 'documentation TEST-NET-3'),
  v4('224.0.0.0/4', 'multicast'),
  v4('255.255.255.255/32', 'broadcast'),
  v4('240.0.0.0/4', 'reserved'),
];

/** IPv6 ranges inside global unicast (2000::/3) that are not public. Everything outside 2000::/3
 * is not public either, except the forms that embed an IPv4 address (checked by that address). */
const IPV6_SPECIAL: Range[] = [
  v6('2001::/32', 'Teredo'),
  v6('2001:db8::/32', 'documentation'),
  v6('2001::/23', 'IETF protocol assignments'),
  v6('3fff::/20', 'documentation'),
];
const IPV6_OUTSIDE: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('100::/64', 'discard-only'),
  v6('fc00::/7', 'unique local, private'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'deprecated site-local'),
  v6('ff00::/8', 'multicast'),
];
const GLOBAL_UNICAST = v6('2000::/3', 'global unicast');
const MAPPED = v6('::ffff:0:0/96', 'IPv4-mapped');
const NAT64 = v6('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = v6('2002::/16', '6to4');

function within(bytes: Uint8Array, range: Range): boolean {
  for (let bit = 0; bit < range.bits; bit += 8) {
    const take = Math.min(8, range.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (range.prefix[bit / 8]! & mask)) return false;
  }
  return true;
}

/** null for a public address; otherwise the range it is in, e.g. "loopback (127.0.0.0/8)". Forms
 * that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by that address. */
export function specialRange(ip: IpAddress): string | null {
  const { bytes } = ip;
  if (ip.version === 4) return IPV4_SPECIAL.find((r) => within(bytes, r))?.name ?? null;
  const embedded = (from: number, form: Range) => {
    const inner = specialRange({ version: 4, bytes: bytes.slice(from, from + 4) });
    return inner && `${inner}, as ${form.name}`;
  };
  if (within(bytes, MAPPED)) return embedded(12, MAPPED);
  if (within(bytes, NAT64)) return embedded(12, NAT64);
  if (within(bytes, SIX_TO_FOUR)) return embedded(2, SIX_TO_FOUR);
  const outside = IPV6_OUTSIDE.find((r) => within(bytes, r));
  if (outside) return outside.name;
  if (!within(bytes, GLOBAL_UNICAST)) return 'reserved, outside global unicast 2000::/3';
  return IPV6_SPECIAL.find((r) => within(bytes, r))?.name ?? null;
}

/** Whether `text` is a public IP address (false for a name). */
export function isPublicAddress(text: string): boolean {
  const ip = parseIp(text);
  return ip !== null && specialRange(ip) === null;
}

/** Names that always mean this machine (RFC 6761), whatever a resolver would answer. */
function isLocalhostName(hostname: string): boolean {
  return /(^|\.)localhost\.?$/i.test(hostname);
}

// ---- the rules -------------------------------------------------------------------------------------

const HOW_PRIVATE = 'postbacks go only to public addresses (set network.postbacks_allow_private to allow private targets)';

function portRule(port: number, rules: PostbackTargets): string {
  const listed = rules.ports.join(', ');
  return `port ${port} is not allowed for a public address: postbacks go to port${rules.ports.length === 1 ? '' : 's'} ${listed} (list others in network.postback_ports)`;
}

/** Checks one address (a literal, or what a name resolved to) on `port`. Throws RefusedTarget. */
export function checkAddress(address: string, port: number, rules: PostbackTargets): void {
  const ip = parseIp(address);
  const range = ip ? specialRange(ip) : 'not an IP address';
  if (range !== null) {
    if (!rules.allow_private) throw new RefusedTarget('private address', `${address} is not a public address, it is ${range}: ${HOW_PRIVATE}`);
    return;
  }
  if (!rules.ports.includes(port)) throw new RefusedTarget('port', portRule(port, rules));
}

/** A URL's target: the host to connect to (without brackets), its port, and whether the host is an
 * address (nothing to resolve). */
export interface Target {
  hostname: string;
  port: number;
  tls: boolean;
  /** The address, when the host is one. */
  address: string | null;
}

/** What can be decided from the URL alone: http or https, a literal address (in every form) or
 * `localhost`, and the port when the host is an address (or when no address of a name could take
 * it). A name passes; its addresses are checked where it is resolved. Throws RefusedTarget. */
export function checkUrl(url: string, rules: PostbackTargets): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RefusedTarget('scheme', 'is not an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RefusedTarget('scheme', `uses ${parsed.protocol}: postbacks are http:// or https://`);
  const tls = parsed.protocol === 'https:';
  const port = parsed.port ? Number(parsed.port) : tls ? 443 : 80;
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const ip = parseIp(hostname);
  if (ip) {
    const address = formatIp(ip);
    checkAddress(address, port, rules);
    return { hostname, port, tls, address };
  }
  if (isLocalhostName(hostname)) {
    checkAddress('127.0.0.1', port, rules);
    return { hostname, port, tls, address: null };
  }
  // A name on an unlisted port: allowed only if it resolves to private addresses, and only when
  // they are allowed.
  if (!rules.ports.includes(port) && !rules.allow_private) throw new RefusedTarget('port', portRule(port, rules));
  return { hostname, port, tls, address: null };
}

/** Resolves a host name to its addresses (every one, IPv4 and IPv6), as the runtime's resolver
 * does. */
export type Resolve = (hostname: string) => Promise<string[]>;

/** The check when a postback is saved: the URL's rules, then, with a resolver, every address its
 * name resolves to (a name no address of which is allowed is refused; so is one that does not
 * resolve). Answers null when allowed, else the message for the postback_url parameter. */
export async function checkPostbackUrl(url: string, rules: PostbackTargets, resolve?: Resolve): Promise<string | null> {
  let target: Target;
  try {
    target = checkUrl(url, rules);
  } catch (error) {
    if (error instanceof RefusedTarget) return error.refusal === 'private address' ? `the host ${error.message}` : error.message;
    throw error;
  }
  if (target.address !== null || !resolve || isLocalhostName(target.hostname)) return null;
  // Any address allowed on this port: nothing a name resolves to can be refused.
  if (rules.allow_private && rules.ports.includes(target.port)) return null;
  let addresses: string[];
  try {
    addresses = await resolve(target.hostname);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return `the host ${target.hostname} does not resolve${code ? ` (${code})` : ''}: check the name, or save it again once its DNS is in place`;
  }
  if (!addresses.length) return `the host ${target.hostname} does not resolve: check the name`;
  for (const address of addresses) {
    try {
      checkAddress(address, target.port, rules);
    } catch (error) {
      if (!(error instanceof RefusedTarget)) throw error;
      // Which address a name resolves to may be internal knowledge: say what, not where.
      if (error.refusal === 'private address') return `the host ${target.hostname} resolves to a private or otherwise non-public address: ${HOW_PRIVATE}`;
      return `the host ${target.hostname} resolves to a public address, and ${portRule(target.port, rules)}`;
    }
  }
  return null;
}
