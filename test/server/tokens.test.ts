import { describe, expect, it } from 'vitest';
import { fillTokens } from '../../server/tokens.js';

describe('fillTokens', () => {
  it('replaces #tokens# with URL-encoded values', () => {
    expect(fillTokens('https://lp.example.com/?r=#reqid#&s=#s1#', { reqid: 'abc', s1: 'a b&c=d/é' })).toBe(
      'https://lp.example.com/?r=abc&s=a%20b%26c%3Dd%2F%C3%A9',
    );
  });

  it('empties unknown tokens and missing values', () => {
    expect(fillTokens('https://x.example/?a=#nope#&b=#s2#', { s2: null })).toBe('https://x.example/?a=&b=');
  });

  it('matches token names without regard to case', () => {
    expect(fillTokens('https://x.example/?a=#ReqID#', { reqid: 'R1' })).toBe('https://x.example/?a=R1');
  });

  it("empties tokens named like Object's own properties (they are unknown tokens too)", () => {
    expect(fillTokens('https://x.example/?a=#constructor#&b=#toString#', { reqid: 'R' })).toBe('https://x.example/?a=&b=');
  });

  it('leaves a plain fragment alone', () => {
    expect(fillTokens('https://x.example/page#top', { top: 'no' })).toBe('https://x.example/page#top');
  });

  it('replaces {macros} only when asked (postbacks)', () => {
    const url = 'https://p.example/pb?c={click_id}&p=#price#';
    expect(fillTokens(url, { click_id: 'R1', price: '18.00' })).toBe('https://p.example/pb?c={click_id}&p=18.00');
    expect(fillTokens(url, { click_id: 'R1', price: '18.00' }, true)).toBe('https://p.example/pb?c=R1&p=18.00');
  });
});
