// The summary report (GET /api/2/reports/summary.json, PROTOCOL.md 11) as the dashboard and the
// reports page read it, and its columns as the key's role sees them (an affiliate's `payout`,
// never revenue, profit or margin).
import { api, type SessionInfo } from '../api.js';
import type { Column } from '../dom.js';

export type Metrics = Record<string, number>;
export type SummaryRow = { key: Record<string, string | number | null> } & Record<string, number>;
export interface Summary {
  time_zone: string;
  total_rows: number;
  totals: Metrics;
  rows: SummaryRow[];
}

export function summary(params: Record<string, unknown>): Promise<Summary> {
  return api<Summary & { request_status: string }>('GET', 'reports/summary.json', params);
}

const count = (n: number | undefined) => (n ?? 0).toLocaleString('en-US');
const money = (n: number | undefined) => (n ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const percent = (n: number | undefined) => `${((n ?? 0) * 100).toFixed(2)}%`;

export interface MetricDef {
  name: string;
  label: string;
  format: (n: number | undefined) => string;
}

export function metricsFor(session: SessionInfo): MetricDef[] {
  const affiliate = session.role === 'affiliate';
  return [
    { name: 'clicks', label: 'Clicks', format: count },
    { name: 'macro_event_conversions', label: 'Conversions', format: count },
    { name: 'conversion_rate', label: 'Conv. rate', format: percent },
    { name: 'micro_events', label: 'Events', format: count },
    { name: 'paid', label: 'Paid', format: count },
    { name: 'pending', label: 'Pending', format: count },
    { name: 'rejected', label: 'Rejected', format: count },
    ...(affiliate
      ? [{ name: 'payout', label: 'Payout', format: money }]
      : [
          { name: 'revenue', label: 'Revenue', format: money },
          { name: 'cost', label: 'Payout', format: money },
          { name: 'profit', label: 'Profit', format: money },
          { name: 'margin', label: 'Margin', format: percent },
        ]),
    { name: 'epc', label: 'EPC', format: money },
  ];
}

/** The name of a group's key as a person reads it. */
export function keyLabel(key: SummaryRow['key']): string {
  const parts = Object.entries(key).filter(([, v]) => v !== null && v !== '');
  if (!parts.length) return '(none)';
  const name = parts.find(([k]) => k.endsWith('_name'))?.[1];
  const id = parts.find(([k]) => !k.endsWith('_name'))?.[1];
  return name !== undefined && id !== undefined ? `${String(id)} · ${String(name)}` : String(parts[0]![1]);
}

export function metricColumns(session: SessionInfo, only?: string[]): Column<SummaryRow>[] {
  return metricsFor(session)
    .filter((m) => !only || only.includes(m.name))
    .map((m) => ({ label: m.label, cell: (r: SummaryRow) => m.format(r[m.name] as number), numeric: true, sort: m.name }));
}
