// Client addresses in one form (issue 12.9). A dual-stack socket reports an IPv4 client as the
// IPv4-mapped IPv6 address ::ffff:203.0.113.9; stored that way, the same visitor would be two
// addresses, and a suppression list of IPv4 addresses would never match it. Every address that
// enters (the socket, X-Forwarded-For, the network file's suppression list) goes through here.

const MAPPED_DOTTED = /^(?:0{0,4}:){2,5}ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^(?:0{0,4}:){2,5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/** `::ffff:203.0.113.9` (and `[::ffff:cb00:7109]`, `0:0:0:0:0:ffff:…`) → `203.0.113.9`; other
 * IPv6 addresses lower-cased without brackets; anything else trimmed. Undefined for nothing. */
export function normalAddress(value: string | null | undefined): string | undefined {
  let text = value?.trim();
  if (!text) return undefined;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (!text.includes(':')) return text;
  const dotted = MAPPED_DOTTED.exec(text);
  if (dotted) return dotted[1];
  const hex = MAPPED_HEX.exec(text);
  if (hex) {
    const high = parseInt(hex[1]!, 16);
    const low = parseInt(hex[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return text.toLowerCase();
}

/** An address without what names one machine (PROTOCOL.md 12): an IPv4 address's last octet
 * (203.0.113.9 → 203.0.113.0), an IPv6 address's last 80 bits (the first 48 kept, written
 * compressed: 2001:db8:85a3::). Anything that is not an address is dropped (null): it might be
 * whatever a proxy header carried. */
export function anonymizeIp(value: string | null | undefined): string | null {
  const ip = normalAddress(value);
  if (!ip) return null;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0`;
  const groups = ipv6Groups(ip);
  if (!groups) return null;
  const kept = groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16));
  while (kept.length && kept[kept.length - 1] === '0') kept.pop();
  return `${kept.join(':')}::`;
}

/** The eight groups of an IPv6 address (a zone id dropped), or null when it is not one. */
function ipv6Groups(ip: string): string[] | null {
  const text = ip.replace(/%.*$/, '');
  if (!/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 is handled above; 64:ff9b::1.2.3.4 here) is two groups.
  const last = tail.length ? tail : head;
  const dotted = last.length && last[last.length - 1]!.includes('.') ? last.pop()! : null;
  if (dotted) {
    const octets = dotted.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return null;
    last.push(((octets[0]! << 8) | octets[1]!).toString(16), ((octets[2]! << 8) | octets[3]!).toString(16));
  }
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const groups = [...head, ...Array<string>(8 - count).fill('0'), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? groups : null;
}
