// Postback address rules (server/postbacks/address.ts): every host form read as a resolver reads
// it, every non-public range refused, ports, and the two network settings. Pure functions: nothing
// here resolves a name or opens a connection.
import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  checkPostbackUrl,
  checkUrl,
  DEFAULT_TARGETS,
  formatIp,
  isPublicAddress,
  parseIp,
  RefusedTarget,
  specialRange,
  type PostbackTargets,
} from '../../server/postbacks/address.js';

const PRIVATE_OK: PostbackTargets = { allow_private: true, ports: [80, 443] };

describe('parseIp reads every numeric form a resolver accepts', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7F.0.0.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['169.254.169.254', '169.254.169.254'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['2852039166', '169.254.169.254'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['[::]', '::'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2606:4700:4700::1111', '2606:4700:4700::1111'],
  ])('%s is %s', (text, canonical) => {
    const ip = parseIp(text);
    expect(ip, text).not.toBeNull();
    expect(formatIp(ip!)).toBe(canonical);
  });

  it.each(['example.com', '256.0.0.1', '1.2.3.4.5', '08.0.0.1', '0x1g.0.0.1', '1..2', '', '4294967296', ':::', '1::2::3', '12345::', '::1.2.3', '1:2:3:4:5:6:7:8:9'])(
    '%j is not an address (a name, or nothing a resolver takes as numeric)',
    (text) => expect(parseIp(text)).toBeNull(),
  );

  it('agrees with the URL parser, which is what every delivery starts from', () => {
    for (const host of ['127.1', '0x7f.1', '017700000001', '2130706433', '0177.1', '127.0.0.1.']) {
      expect(formatIp(parseIp(host)!)).toBe(new URL(`http://${host}/`).hostname);
    }
  });
});

describe('specialRange names every non-public range', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.1.2.3', 'private (10.0.0.0/8)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private (172.16.0.0/12)'],
    ['172.31.255.255', 'private (172.16.0.0/12)'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.168.1.1', 'private (192.168.0.0/16)'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback (127.0.0.0/8), as IPv4-mapped'],
    ['::ffff:10.0.0.1', 'private (10.0.0.0/8), as IPv4-mapped'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::127.0.0.1', 'loopback (127.0.0.0/8), as NAT64'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['2001:2::1', 'IETF protocol assignments'],
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::1', 'loopback (127.0.0.0/8), as 6to4'],
    ['2002:c0a8:101::1', 'private (192.168.0.0/16), as 6to4'],
    ['3fff::1', 'documentation'],
    ['5f00::1', 'reserved'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
  ])('%s: %s', (address, range) => {
    expect(specialRange(parseIp(address)!)).toContain(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.215.14', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.0.1.1', '198.17.255.255', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    '%s is public',
    (address) => expect(isPublicAddress(address)).toBe(true),
  );
});

describe('checkAddress and checkUrl', () => {
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      if (error instanceof RefusedTarget) return error.refusal;
      throw error;
    }
    return null;
  };

  it('refuses every private form of a URL host before anything is resolved', () => {
    const hosts = ['127.0.0.1', '127.1', '0x7f.1', '017700000001', '2130706433', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '169.254.169.254', '0.0.0.0', '[::]', '10.0.0.1', '[fd00::1]', '[64:ff9b::7f00:1]', '[2002:7f00:1::]', 'localhost', 'api.localhost', 'LOCALHOST.'];
    for (const host of hosts) expect(refusal(() => checkUrl(`http://${host}/pb`, DEFAULT_TARGETS)), host).toBe('private address');
  });

  it('refuses ports other than 80 and 443 on public addresses, unless postback_ports lists them', () => {
    expect(refusal(() => checkUrl('https://93.184.215.14/pb', DEFAULT_TARGETS))).toBeNull();
    expect(refusal(() => checkUrl('http://93.184.215.14:80/pb', DEFAULT_TARGETS))).toBeNull();
    expect(refusal(() => checkUrl('http://93.184.215.14:8080/pb', DEFAULT_TARGETS))).toBe('port');
    expect(refusal(() => checkUrl('https://93.184.215.14:22/pb', DEFAULT_TARGETS))).toBe('port');
    expect(refusal(() => checkUrl('https://aff.example:8443/pb', DEFAULT_TARGETS))).toBe('port');
    const listed = { allow_private: false, ports: [80, 443, 8080] };
    expect(refusal(() => checkUrl('http://93.184.215.14:8080/pb', listed))).toBeNull();
    expect(refusal(() => checkAddress('93.184.215.14', 8080, listed))).toBeNull();
    expect(refusal(() => checkAddress('93.184.215.14', 8443, listed))).toBe('port');
  });

  it('with postbacks_allow_private allows private and loopback targets on any port, and still holds public ones to the listed ports', () => {
    expect(refusal(() => checkUrl('http://127.0.0.1:4000/pb', PRIVATE_OK))).toBeNull();
    expect(refusal(() => checkUrl('http://[::1]:9/pb', PRIVATE_OK))).toBeNull();
    expect(refusal(() => checkAddress('10.0.0.5', 8080, PRIVATE_OK))).toBeNull();
    expect(refusal(() => checkUrl('http://93.184.215.14:8080/pb', PRIVATE_OK))).toBe('port');
    // A name on an unlisted port may still resolve to a private address: decided when resolved.
    expect(refusal(() => checkUrl('http://aff.internal:8080/pb', PRIVATE_OK))).toBeNull();
  });

  it('refuses anything but http and https', () => {
    for (const url of ['ftp://93.184.215.14/', 'file:///etc/passwd', 'gopher://93.184.215.14/', 'data:text/plain,x', 'javascript:alert(1)', 'not a url']) {
      expect(refusal(() => checkUrl(url, DEFAULT_TARGETS)), url).toBe('scheme');
    }
  });
});

describe('checkPostbackUrl (when a postback is saved)', () => {
  /** A resolver that answers from a table and records what it was asked. */
  function resolver(table: Record<string, string[]>) {
    const asked: string[] = [];
    const resolve = async (hostname: string) => {
      asked.push(hostname);
      const found = table[hostname];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return found;
    };
    return { resolve, asked };
  }

  it('names the rule for a literal private host, without resolving anything', async () => {
    const { resolve, asked } = resolver({});
    expect(await checkPostbackUrl('http://169.254.169.254/latest/meta-data/', DEFAULT_TARGETS, resolve)).toBe(
      'the host 169.254.169.254 is not a public address, it is link-local, where cloud metadata services answer (169.254.0.0/16): postbacks go only to public addresses (set network.postbacks_allow_private to allow private targets)',
    );
    expect(await checkPostbackUrl('http://0x7f.1/', DEFAULT_TARGETS, resolve)).toMatch(/^the host 127\.0\.0\.1 is not a public address, it is loopback \(127\.0\.0\.0\/8\)/);
    expect(await checkPostbackUrl('https://aff.example:8443/', DEFAULT_TARGETS, resolve)).toMatch(/^port 8443 is not allowed for a public address: postbacks go to ports 80, 443 \(list others in network\.postback_ports\)$/);
    expect(asked).toEqual([]);
  });

  it('refuses a name that resolves to a private address (any of its addresses), without saying which', async () => {
    const { resolve } = resolver({ 'inside.example': ['127.0.0.1'], 'mixed.example': ['93.184.215.14', '10.0.0.7'], 'v6.example': ['::1'], 'aff.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    const inside = await checkPostbackUrl('https://inside.example/pb', DEFAULT_TARGETS, resolve);
    expect(inside).toBe('the host inside.example resolves to a private or otherwise non-public address: postbacks go only to public addresses (set network.postbacks_allow_private to allow private targets)');
    expect(inside).not.toContain('127.0.0.1');
    expect(await checkPostbackUrl('https://mixed.example/pb', DEFAULT_TARGETS, resolve)).toContain('resolves to a private');
    expect(await checkPostbackUrl('https://v6.example/pb', DEFAULT_TARGETS, resolve)).toContain('resolves to a private');
    expect(await checkPostbackUrl('https://aff.example/pb?c=#reqid#', DEFAULT_TARGETS, resolve)).toBeNull();
  });

  it('refuses a name that does not resolve, and a public one on an unlisted port even when private targets are allowed', async () => {
    const { resolve } = resolver({ 'aff.example': ['93.184.215.14'], 'lan.example': ['192.168.1.20'] });
    expect(await checkPostbackUrl('https://nowhere.example/pb', DEFAULT_TARGETS, resolve)).toBe(
      'the host nowhere.example does not resolve (ENOTFOUND): check the name, or save it again once its DNS is in place',
    );
    expect(await checkPostbackUrl('http://aff.example:8080/pb', PRIVATE_OK, resolve)).toBe(
      'the host aff.example resolves to a public address, and port 8080 is not allowed for a public address: postbacks go to ports 80, 443 (list others in network.postback_ports)',
    );
    expect(await checkPostbackUrl('http://lan.example:8080/pb', PRIVATE_OK, resolve)).toBeNull();
  });

  it('resolves nothing when every address is allowed on the port, or when there is no resolver', async () => {
    const { resolve, asked } = resolver({});
    expect(await checkPostbackUrl('https://anything.example/pb', PRIVATE_OK, resolve)).toBeNull();
    expect(asked).toEqual([]);
    expect(await checkPostbackUrl('https://anything.example/pb', DEFAULT_TARGETS)).toBeNull();
  });
});
