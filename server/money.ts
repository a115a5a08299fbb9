// Money as integer cents (PROTOCOL.md 5): decimal text (request parameters) and the network file's
// JSON numbers become cents rounded half up, never through a binary float. 8.675 is
// 8.67499999999999982236431605997495353221893310546875 as a double, so Math.round(8.675 * 100)
// gives 867 and 1.005 gives 100; here they give 868 and 101, every time.

/** A non-negative decimal: digits, an optional fraction, an optional exponent (as String(number)
 * writes very small or very large numbers). */
const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

interface Decimal {
  /** The value is digits / 10^scale. */
  digits: bigint;
  scale: number;
}

function parse(text: string): Decimal | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const fraction = m[2] ?? '';
  let digits = BigInt(m[1]! + fraction);
  let scale = fraction.length - Number(m[3] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits, scale };
}

/** numerator / denominator rounded half up (both non-negative). */
function divideHalfUp(numerator: bigint, denominator: bigint): number {
  return Number((2n * numerator + denominator) / (2n * denominator));
}

/** "18" → 1800, "18.5" → 1850, "1.005" → 101, "8.675" → 868; null when `text` is not a
 * non-negative decimal. */
export function textToCents(text: string): number | null {
  const d = parse(text);
  return d && divideHalfUp(d.digits * 100n, 10n ** BigInt(d.scale));
}

/** A number of the network file as JSON wrote it: its shortest decimal form (what String()
 * gives, and what JSON.parse read) is the amount meant, not the double nearest to it. */
function decimalOf(value: number): Decimal {
  const d = Number.isFinite(value) && value >= 0 ? parse(String(value)) : null;
  if (!d) throw new RangeError(`${value} is not an amount of money`);
  return d;
}

/** 8.675 → 868, 1.005 → 101, 18 → 1800. */
export function numberToCents(value: number): number {
  const d = decimalOf(value);
  return divideHalfUp(d.digits * 100n, 10n ** BigInt(d.scale));
}

/** `percent` per cent of `cents`, half up: a RevShare payout (12.5 of 4999 cents is 625). */
export function percentOfCents(cents: number, percent: number): number {
  const d = decimalOf(percent);
  return divideHalfUp(BigInt(cents) * d.digits, 100n * 10n ** BigInt(d.scale));
}

/** Cents as text with two decimals: 1850 → "18.50". */
export function centsText(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
