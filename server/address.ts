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
