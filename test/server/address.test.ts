// Client addresses in one form (issue 12.9): server/address.ts.
import { describe, expect, it } from 'vitest';
import { normalAddress } from '../../server/address.js';

describe('normalAddress', () => {
  it.each([
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['[::ffff:203.0.113.9]', '203.0.113.9'],
    ['0:0:0:0:0:ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['203.0.113.9', '203.0.113.9'],
    [' 203.0.113.9 ', '203.0.113.9'],
    ['2001:DB8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::1', '::1'],
    // Not IPv4-mapped: kept as IPv6.
    ['::203.0.113.9', '::203.0.113.9'],
    ['64:ff9b::203.0.113.9', '64:ff9b::203.0.113.9'],
  ])('%s is %s', (given, expected) => {
    expect(normalAddress(given)).toBe(expected);
  });

  it('answers undefined for nothing', () => {
    expect([undefined, null, '', '  '].map(normalAddress)).toEqual([undefined, undefined, undefined, undefined]);
  });
});
