// The dashboard: today, yesterday, the last 7 or 30 days in the network's time zone: the totals,
// a chart over time (hourly for one day, daily for longer; uPlot), the top offers and affiliates,
// and the postbacks waiting or failed. Every number is the summary report's or the delivery
// list's, as the API answers them to this key.
import uPlot from 'uplot';
import { api, type SessionInfo } from '../api.js';
import { PRESETS, presetRange, type Preset } from '../dates.js';
import { fill, h, notice, table } from '../dom.js';
import { keyLabel, metricColumns, metricsFor, summary, type Summary } from './summary.js';

let chart: uPlot | undefined;

export async function dashboardPage(root: HTMLElement, session: SessionInfo): Promise<void> {
  // The network's time zone: what the report answers when asked without one.
  const probe = await summary({ group_by: 'day', start_date: new Date().toISOString().slice(0, 10), end_date: new Date().toISOString().slice(0, 10), row_limit: 1 });
  const zone = probe.time_zone;
  const buttons = h('div', { class: 'presets', role: 'group', 'aria-label': 'Range' });
  const body = h('div', { class: 'dashboard' });
  root.append(buttons, h('p', { class: 'hint' }, `Time zone: ${zone}`), body);

  const show = async (preset: Preset) => {
    fill(buttons, ...PRESETS.map((p) => h('button', { type: 'button', 'aria-pressed': p.id === preset ? 'true' : 'false', 'data-preset': p.id, onclick: () => void show(p.id) }, p.label)));
    const range = presetRange(preset, zone);
    const oneDay = range.start_date === range.end_date;
    const base = { ...range, time_zone: zone };
    try {
      const [overTime, offers, affiliates, deliveries] = await Promise.all([
        summary({ ...base, group_by: oneDay ? 'hour' : 'day', row_limit: 1000 }),
        summary({ ...base, group_by: 'offer', sort_field: session.role === 'affiliate' ? 'payout' : 'revenue', sort_descending: true, row_limit: 5 }),
        session.role === 'affiliate' ? Promise.resolve(null) : summary({ ...base, group_by: 'affiliate', sort_field: session.role === 'admin' ? 'revenue' : 'clicks', sort_descending: true, row_limit: 5 }),
        session.role === 'advertiser' ? Promise.resolve(null) : postbackCounts(),
      ]);
      fill(body, tiles(session, overTime), chartBox(overTime, oneDay), topTable('Top offers', session, offers), affiliates ? topTable('Top affiliates', session, affiliates) : null, deliveries);
      drawChart(body.querySelector('.chart') as HTMLElement, overTime, range, oneDay);
    } catch (e) {
      fill(body, notice(e instanceof Error ? e.message : String(e)));
    }
  };
  await show('today');
}

function tiles(session: SessionInfo, report: Summary): HTMLElement {
  const wanted = session.role === 'affiliate' ? ['clicks', 'macro_event_conversions', 'conversion_rate', 'payout', 'epc'] : ['clicks', 'macro_event_conversions', 'conversion_rate', 'revenue', 'cost', 'profit', 'epc'];
  const metrics = metricsFor(session).filter((m) => wanted.includes(m.name));
  return h('div', { class: 'tiles' }, ...metrics.map((m) => h('div', { class: 'tile', 'data-metric': m.name }, h('span', { class: 'tile-label' }, m.label), h('strong', {}, m.format(report.totals[m.name])))));
}

function chartBox(report: Summary, oneDay: boolean): HTMLElement {
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, oneDay ? 'Clicks and conversions by hour' : 'Clicks and conversions by day'), h('div', { class: 'chart', 'data-points': report.rows.length }));
}

/** Every hour of the day, or every day of the range, as seconds since the epoch read as UTC (uPlot
 * draws in UTC, so the labels are the report's own local dates and hours), with the report's
 * clicks and conversions there, 0 where it has no row: a quiet hour is a point at 0, not a gap. */
function series(report: Summary, range: { start_date: string; end_date: string }, oneDay: boolean): uPlot.AlignedData {
  const at = new Map<number, { clicks: number; conversions: number }>();
  for (const r of report.rows) {
    const text = oneDay ? `${String(r.key.hour).replace(' ', 'T')}:00Z` : `${String(r.key.date)}T00:00:00Z`;
    at.set(Date.parse(text) / 1000, { clicks: r.clicks ?? 0, conversions: r.macro_event_conversions ?? 0 });
  }
  const first = Date.parse(`${range.start_date}T00:00:00Z`) / 1000;
  const last = Date.parse(`${range.end_date}T00:00:00Z`) / 1000 + (oneDay ? 23 * 3600 : 0);
  const step = oneDay ? 3600 : 86400;
  const xs: number[] = [];
  for (let t = first; t <= last; t += step) xs.push(t);
  return [xs, xs.map((t) => at.get(t)?.clicks ?? 0), xs.map((t) => at.get(t)?.conversions ?? 0)];
}

function drawChart(el: HTMLElement, report: Summary, range: { start_date: string; end_date: string }, oneDay: boolean): void {
  chart?.destroy();
  chart = new uPlot(
    {
      width: Math.max(320, el.clientWidth || 800),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      series: [{}, { label: 'Clicks', stroke: '#2563eb', width: 2, scale: 'clicks' }, { label: 'Conversions', stroke: '#16a34a', width: 2, dash: [6, 4], scale: 'conv' }],
      axes: [{}, { scale: 'clicks', label: 'Clicks' }, { scale: 'conv', side: 1, label: 'Conversions', grid: { show: false } }],
      scales: { x: { time: true }, clicks: { range: (_u, _min, max) => [0, Math.max(1, max)] }, conv: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    },
    series(report, range, oneDay),
    el,
  );
}

function topTable(title: string, session: SessionInfo, report: Summary): HTMLElement {
  const money = session.role === 'affiliate' ? ['payout'] : ['revenue', 'profit'];
  return h(
    'section',
    { class: 'top-list' },
    h('h2', {}, title),
    table([{ label: 'Name', cell: (r) => keyLabel(r.key) }, ...metricColumns(session, ['clicks', 'macro_event_conversions', ...money]).map((c) => ({ ...c, sort: undefined }))], report.rows, { empty: 'No traffic in this range.' }),
  );
}

async function postbackCounts(): Promise<HTMLElement> {
  const [pending, failed] = await Promise.all(['pending', 'failed'].map((status) => api<{ total_rows: number }>('GET', 'postback_deliveries.json', { status, row_limit: 1 })));
  return h(
    'section',
    { class: 'tiles postbacks' },
    h('a', { class: 'tile', href: '#/deliveries', 'data-metric': 'pending_postbacks' }, h('span', { class: 'tile-label' }, 'Postbacks pending'), h('strong', {}, String(pending!.total_rows))),
    h('a', { class: 'tile', href: '#/deliveries', 'data-metric': 'failed_deliveries' }, h('span', { class: 'tile-label' }, 'Failed deliveries'), h('strong', {}, String(failed!.total_rows))),
  );
}
