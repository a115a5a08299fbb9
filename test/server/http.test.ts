import { describe, expect, it } from 'vitest';
import { html, jsString, parseId } from '../../server/http.js';

describe('jsString', () => {
  const hostile = ['</script><script>alert(1)</script>', '<!--', '"; alert(1); //', '\u2028\u2029', "\\'\"\n"];
  for (const value of hostile) {
    it(`round-trips ${JSON.stringify(value)} and cannot end a script element`, () => {
      const literal = jsString(value);
      expect(literal).not.toMatch(/<\/script|<!--/i);
      expect(new Function(`return ${literal};`)()).toBe(value);
    });
  }
});

describe('html', () => {
  it('escapes text for element content and double- or single-quoted attributes', () => {
    expect(html(`<img src=x onerror="alert('1')">&`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
    expect(html(null)).toBe('');
    expect(html(12)).toBe('12');
  });
});

describe('parseId', () => {
  it('takes positive whole numbers that fit an id and nothing else', () => {
    expect(parseId('12345')).toBe(12345);
    for (const bad of ['0', '-1', '1.5', '1e3', ' 1', '0x10', '2147483648', '99999999999', '', undefined]) {
      expect(parseId(bad), String(bad)).toBeNull();
    }
  });
});
