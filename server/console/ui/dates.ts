// Dates as the API takes them (YYYY-MM-DD in the report's time zone).

/** Today's date in a time zone. */
export function today(timeZone: string, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/** `date` moved by `days` (negative: earlier). */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

export type Preset = 'today' | 'yesterday' | '7d' | '30d';

export const PRESETS: { id: Preset; label: string }[] = [
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
];

/** The dates a preset covers, `end_date` inclusive. */
export function presetRange(preset: Preset, timeZone: string): { start_date: string; end_date: string } {
  const t = today(timeZone);
  if (preset === 'today') return { start_date: t, end_date: t };
  if (preset === 'yesterday') return { start_date: addDays(t, -1), end_date: addDays(t, -1) };
  return { start_date: addDays(t, preset === '7d' ? -6 : -29), end_date: t };
}
