// Dates as CAKE's clients send them (CAKE-CLASSIC-API.md 1): every form on the facts page, read as
// .NET's en-US DateTime.Parse reads them, in the network's zone; and the form CAKE answers with.
import { describe, expect, it } from 'vitest';
import { formatCakeDate, parseCakeDate } from '../../server/classic/dates.js';

const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => Date.UTC(y, mo - 1, d, h, mi, s, ms);

describe('parseCakeDate', () => {
  it.each([
    ['2016-01-31T10:20:30', at(2016, 1, 31, 10, 20, 30)], // SC
    ['01/31/2016 10:20:30', at(2016, 1, 31, 10, 20, 30)], // KS, DA, BL
    ['01/31/2016', at(2016, 1, 31)],
    ['1/5/2016', at(2016, 1, 5)], // scrapers
    ['01/31/16', at(2016, 1, 31)], // SR
    ['01-31-2016 10:20:30', at(2016, 1, 31, 10, 20, 30)], // EG
    ['01-31-2016', at(2016, 1, 31)],
    ['Jan-31-2016', at(2016, 1, 31)], // EG
    ['2016-01-31', at(2016, 1, 31)], // PY, OR, WG
    ['2016-01-31 10:20:30', at(2016, 1, 31, 10, 20, 30)],
    ['2016-01-31 10:20:30.123456', at(2016, 1, 31, 10, 20, 30, 123)],
    ['01-01-2016 ', at(2016, 1, 1)], // WG README's trailing space
    ['2067-10-20 13:31:59.7', at(2067, 10, 20, 13, 31, 59, 700)], // PY's sentinel
    ['1/31/2016 1:05:00 PM', at(2016, 1, 31, 13, 5)],
    ['1/31/2016 12:05:00 AM', at(2016, 1, 31, 0, 5)],
    ['01/31/99', at(1999, 1, 31)],
  ])('%s', (text, expected) => {
    expect(parseCakeDate(text)).toBe(expected);
  });

  it.each(['', 'tomorrow', '02/30/2016', '13/01/2016', '2016-01-31 25:00:00', '1/31/2016 13:00:00 PM', 'Foo-31-2016'])('refuses %j', (text) => {
    expect(parseCakeDate(text)).toBeNull();
  });

  it('reads local time in the network\'s zone', () => {
    expect(parseCakeDate('11/21/2026 07:00:00', 'America/New_York')).toBe(at(2026, 11, 21, 12));
    expect(parseCakeDate('07/01/2026 08:00:00', 'America/New_York')).toBe(at(2026, 7, 1, 12));
    expect(parseCakeDate('2026-11-21', 'Asia/Kolkata')).toBe(at(2026, 11, 20, 18, 30));
  });
});

describe('formatCakeDate', () => {
  it('writes YYYY-MM-DDTHH:MM:SS.fff, local, without an offset', () => {
    expect(formatCakeDate(at(2014, 4, 28, 10, 52, 15, 537))).toBe('2014-04-28T10:52:15.537');
    expect(formatCakeDate(at(2026, 11, 21, 12), 'America/New_York')).toBe('2026-11-21T07:00:00.000');
    expect(formatCakeDate(at(2026, 7, 1, 12), 'America/New_York')).toBe('2026-07-01T08:00:00.000');
  });
});
