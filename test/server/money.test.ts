// Money as integer cents, never through a binary float (issue 12.10): server/money.ts.
import { describe, expect, it } from 'vitest';
import { centsText, numberToCents, percentOfCents, textToCents } from '../../server/money.js';

describe('decimal text to cents', () => {
  it('rounds half up, the same way every time, where Math.round(x * 100) does not', () => {
    // The float ways, wrong: 1.005 * 100 is 100.49999999999999, and 2.675 is stored as
    // 2.67499999…, which toFixed rounds down.
    expect(Math.round(1.005 * 100)).toBe(100);
    expect((2.675).toFixed(2)).toBe('2.67');
    expect(textToCents('2.675')).toBe(268);
    expect(textToCents('8.675')).toBe(868);
    expect(textToCents('1.005')).toBe(101);
    expect(textToCents('0.125')).toBe(13);
    expect(textToCents('0.0049')).toBe(0);
    expect(textToCents('0.005')).toBe(1);
    expect(textToCents('999999999.9999')).toBe(100_000_000_000);
  });

  it('reads whole numbers, fractions of any length and a trailing point of zeros', () => {
    expect(['18', '18.5', '18.50', '0018.000', '0'].map(textToCents)).toEqual([1800, 1850, 1850, 1800, 0]);
  });

  it('answers null for what is not a non-negative decimal', () => {
    for (const bad of ['', '-1', '1,50', '1.2.3', '.5', 'abc', ' 1']) expect(textToCents(bad), bad).toBeNull();
  });
});

describe("the network file's JSON numbers to cents", () => {
  it('take the decimal JSON wrote, not the double nearest to it', () => {
    expect(numberToCents(JSON.parse('8.675'))).toBe(868);
    expect(numberToCents(JSON.parse('1.005'))).toBe(101);
    expect(numberToCents(18)).toBe(1800);
    expect(numberToCents(27.5)).toBe(2750);
    expect(numberToCents(0.1 + 0.2)).toBe(30); // 0.30000000000000004
    expect(numberToCents(1e-7)).toBe(0);
    expect(numberToCents(1_000_000)).toBe(100_000_000);
  });

  it('refuse what is no amount', () => {
    expect(() => numberToCents(-1)).toThrow(RangeError);
    expect(() => numberToCents(Number.NaN)).toThrow(RangeError);
  });
});

describe('a percentage of cents (RevShare)', () => {
  it('rounds half up on the exact product', () => {
    expect(percentOfCents(8005, 10)).toBe(801); // 8.005
    expect(percentOfCents(20010, 5)).toBe(1001); // 10.005
    expect(percentOfCents(4999, 12.5)).toBe(625); // 624.875
    expect(percentOfCents(100, 8.675)).toBe(9); // 8.675 cents
    expect(percentOfCents(1, 50)).toBe(1); // half a cent
    expect(percentOfCents(100_000_000_000, 100)).toBe(100_000_000_000);
  });

  it('writes cents as text with two decimals', () => {
    expect([0, 5, 1850, 100_000, -250].map(centsText)).toEqual(['0.00', '0.05', '18.50', '1000.00', '-2.50']);
  });
});
