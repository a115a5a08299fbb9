// The reports page: the summary report by any of section 11's groups, for a date range in a time
// zone, with filters, columns sorted by the server (sort_field), totals, and the CSV export.
import { ApiError, apiText, type SessionInfo } from '../api.js';
import { addDays, today } from '../dates.js';
import { fill, h, notice, table } from '../dom.js';
import { keyLabel, metricColumns, metricsFor, summary, type SummaryRow } from './summary.js';

const GROUPS = ['day', 'hour', 'offer', 'affiliate', 'campaign', 'creative', 'advertiser', 'country', 'sub_id_1', 'sub_id_2', 'sub_id_3', 'sub_id_4', 'sub_id_5'];

export async function reportsPage(root: HTMLElement, session: SessionInfo): Promise<void> {
  const groups = GROUPS.filter((g) => !(session.role === 'affiliate' && (g === 'advertiser' || g === 'affiliate')));
  const group = h('select', { name: 'group_by', 'data-testid': 'group-by' }, ...groups.map((g) => h('option', { value: g }, g.replace(/_/g, ' '))));
  const end = today('UTC');
  const start = h('input', { type: 'date', name: 'start_date', value: addDays(end, -6) });
  const stop = h('input', { type: 'date', name: 'end_date', value: end });
  const zone = h('input', { type: 'text', name: 'time_zone', placeholder: "the network's", size: 16 });
  const offer = h('input', { type: 'text', name: 'offer_id', inputmode: 'numeric', size: 8 });
  const affiliate = h('input', { type: 'text', name: 'affiliate_id', inputmode: 'numeric', size: 8 });
  const out = h('div', { class: 'report', 'data-testid': 'report' });
  let sort: { field: string; descending: boolean } | undefined;

  const params = (): Record<string, string | number | boolean | undefined> => ({
    group_by: group.value,
    start_date: start.value,
    end_date: stop.value,
    time_zone: zone.value.trim() || undefined,
    offer_id: offer.value.trim() || undefined,
    affiliate_id: session.role === 'affiliate' ? undefined : affiliate.value.trim() || undefined,
    sort_field: sort?.field,
    sort_descending: sort ? sort.descending : undefined,
    row_limit: 1000,
  });

  const load = async () => {
    try {
      const report = await summary(params());
      const metrics = metricsFor(session);
      const columns = [{ label: group.value.replace(/_/g, ' '), cell: (r: SummaryRow) => keyLabel(r.key), sort: Object.keys(report.rows[0]?.key ?? { [group.value]: 1 })[0] }, ...metricColumns(session)];
      const foot = ['Total', ...metrics.map((m) => m.format(report.totals[m.name]))];
      fill(
        out,
        h('p', { class: 'count' }, `${report.total_rows} rows · ${start.value} to ${stop.value} · ${report.time_zone}`),
        table(columns, report.rows, {
          sorted: sort,
          onSort: (field) => {
            sort = { field, descending: sort?.field === field ? !sort.descending : true };
            void load();
          },
          foot,
          empty: 'No traffic in this range.',
        }),
      );
    } catch (e) {
      fill(out, notice(e instanceof ApiError ? `${e.message}${e.problems.length ? `: ${e.problems.map((p) => `${p.parameter} ${p.message}`).join('; ')}` : ''}` : String(e)));
    }
  };

  const csv = h('button', { type: 'button', 'data-testid': 'csv' }, 'Export CSV');
  csv.addEventListener('click', async () => {
    try {
      const text = await apiText('reports/summary.json', { ...params(), format: 'csv', row_limit: 10000 });
      const link = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: `summary-${group.value}-${start.value}-${stop.value}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      fill(out, notice(e instanceof Error ? e.message : String(e)));
    }
  });
  const form = h(
    'form',
    { class: 'filters' },
    h('label', { class: 'filter' }, 'Group by', group),
    h('label', { class: 'filter' }, 'From', start),
    h('label', { class: 'filter' }, 'To', stop),
    h('label', { class: 'filter' }, 'Time zone', zone),
    h('label', { class: 'filter' }, 'Offer id', offer),
    session.role === 'affiliate' ? null : h('label', { class: 'filter' }, 'Affiliate id', affiliate),
    h('button', { type: 'submit' }, 'Run'),
    csv,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sort = undefined;
    void load();
  });
  root.append(form, out);
  await load();
}
