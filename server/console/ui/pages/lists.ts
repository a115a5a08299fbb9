// The click, lead and conversion lists (click.json, leads.json, conversions.json) with their
// filters, a conversion's status changed in place (PUT conversion.json), and the postback
// deliveries (pending, failed, re-send).
import { api, type SessionInfo } from '../api.js';
import { addDays, today } from '../dates.js';
import { fill, h, notice, table, type Column } from '../dom.js';
import type { Role } from '../main.js';

type Row = Record<string, unknown>;

export interface ListDef {
  path: string;
  title: string;
  roles: Role[];
  call: string;
  /** Where the rows are in the answer. */
  rows: (answer: Row) => Row[];
  total: (answer: Row) => number;
  filters: { name: string; label: string; options?: string[] }[];
  /** No date range (deliveries). */
  undated?: boolean;
  columns: (session: SessionInfo, reload: () => void) => Column<Row>[];
}

const text = (key: string) => (r: Row) => (r[key] === null || r[key] === undefined ? '' : String(r[key]));
const inner = (answer: Row, key: string) => ((answer.response as Row | undefined)?.[key] ?? []) as Row[];

const SETTABLE = ['approved', 'pending', 'rejected', 'reversed'];

export const LIST_PAGES: ListDef[] = [
  {
    path: 'clicks',
    title: 'Clicks',
    roles: ['admin', 'advertiser', 'affiliate'],
    call: 'click.json',
    rows: (a) => inner(a, 'clicks'),
    total: (a) => Number((a.response as Row).total_rows),
    filters: [
      { name: 'offer_id', label: 'Offer id' },
      { name: 'affiliate_id', label: 'Affiliate id' },
    ],
    columns: () => [
      { label: 'Date', cell: text('click_date') },
      { label: 'Click id', cell: (r) => h('code', {}, text('click_id')(r)) },
      { label: 'Offer', cell: text('offer_id'), numeric: true },
      { label: 'Affiliate', cell: text('affiliate_id'), numeric: true },
      { label: 'Creative', cell: text('creative_id'), numeric: true },
      { label: 'Sub id 1', cell: text('sub_id_1') },
      { label: 'Country', cell: text('country') },
      { label: 'Disposition', cell: text('disposition') },
      { label: 'Converted', cell: (r) => (r.converted ? 'yes' : '') },
    ],
  },
  {
    path: 'leads',
    title: 'Leads',
    roles: ['admin', 'advertiser'],
    call: 'leads.json',
    rows: (a) => inner(a, 'leads'),
    total: (a) => Number((a.response as Row).total_rows),
    filters: [
      { name: 'offer_id', label: 'Offer id' },
      { name: 'affiliate_id', label: 'Affiliate id' },
    ],
    columns: () => [
      { label: 'Date', cell: text('lead_date') },
      { label: 'Lead id', cell: text('lead_id') },
      { label: 'Offer', cell: text('offer_id'), numeric: true },
      { label: 'Affiliate', cell: text('affiliate_id'), numeric: true },
      { label: 'Email', cell: text('email') },
      { label: 'Method', cell: text('method') },
      { label: 'Attributed', cell: (r) => (r.attributed ? 'yes' : 'no') },
      { label: 'Test', cell: (r) => (r.test ? 'test' : '') },
    ],
  },
  {
    path: 'conversions',
    title: 'Conversions',
    roles: ['admin', 'advertiser', 'affiliate'],
    call: 'conversions.json',
    rows: (a) => ((a.conversions ?? []) as Row[]).map((c) => c.conversion as Row),
    total: (a) => Number(a.total_rows),
    filters: [
      { name: 'offer_id', label: 'Offer id' },
      { name: 'affiliate_id', label: 'Affiliate id' },
      { name: 'conversion_status', label: 'Status', options: ['', 'approved', 'pending', 'rejected', 'reversed', 'scrubbed'] },
    ],
    columns: (session, reload) => [
      { label: 'Date', cell: text('conversion_date') },
      { label: 'Id', cell: text('conversion_id'), numeric: true },
      { label: 'Offer', cell: (r) => String((r.offer as Row | undefined)?.offer_name ?? '') },
      { label: 'Affiliate', cell: (r) => String((r.affiliate as Row | undefined)?.affiliate_name ?? (r.affiliate as Row | undefined)?.affiliate_id ?? '') },
      { label: 'Event', cell: text('event_name') },
      { label: 'Payout', cell: text('payout'), numeric: true },
      ...(session.role === 'affiliate' ? [] : [{ label: 'Revenue', cell: text('revenue'), numeric: true }]),
      {
        label: 'Status',
        cell: (r) => (session.role === 'affiliate' || r.conversion_status === 'scrubbed' ? text('conversion_status')(r) : statusSelect(r, reload)),
      },
    ],
  },
  {
    path: 'deliveries',
    title: 'Deliveries',
    roles: ['admin', 'affiliate'],
    call: 'postback_deliveries.json',
    rows: (a) => (a.deliveries ?? []) as Row[],
    total: (a) => Number(a.total_rows),
    undated: true,
    filters: [
      { name: 'status', label: 'Status', options: ['', 'pending', 'failed', 'delivered', 'cancelled'] },
      { name: 'conversion_id', label: 'Conversion id' },
    ],
    columns: (_session, reload) => [
      { label: 'Id', cell: text('delivery_id'), numeric: true },
      { label: 'Created', cell: text('created_date') },
      { label: 'Conversion', cell: text('conversion_id'), numeric: true },
      { label: 'URL', cell: (r) => h('code', { class: 'url' }, text('url')(r)) },
      { label: 'Status', cell: (r) => h('span', { class: `status ${text('status')(r)}` }, text('status')(r)) },
      { label: 'Attempts', cell: text('attempts'), numeric: true },
      {
        label: 'Last attempt',
        cell: (r) => {
          const log = (r.attempt_log ?? []) as Row[];
          const last = log[log.length - 1];
          return last ? `${String(last.status_code ?? last.error ?? '')} in ${String(last.latency_ms)} ms` : '';
        },
      },
      { label: 'Error', cell: text('last_error') },
      {
        label: '',
        cell: (r) =>
          r.status === 'failed' || r.status === 'cancelled'
            ? h('button', { type: 'button', class: 'link', onclick: () => void api('POST', 'postback_deliveries.json', { delivery_id: r.delivery_id }).then(reload, (e: Error) => alert(e.message)) }, 'Re-send')
            : null,
      },
    ],
  },
];

function statusSelect(r: Row, reload: () => void): HTMLElement {
  const select = h('select', { 'aria-label': `Status of conversion ${String(r.conversion_id)}`, 'data-conversion': String(r.conversion_id) }, ...SETTABLE.map((s) => h('option', { value: s }, s)));
  select.value = String(r.conversion_status);
  select.addEventListener('change', async () => {
    try {
      await api('PUT', 'conversion.json', { conversion_id: r.conversion_id, conversion_status: select.value });
      reload();
    } catch (e) {
      alert(e instanceof Error ? e.message : String(e));
      select.value = String(r.conversion_status);
    }
  });
  return select;
}

export async function listPage(root: HTMLElement, session: SessionInfo, def: ListDef): Promise<void> {
  const end = today('UTC');
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const dates = def.undated
    ? []
    : [
        ['start_date', 'From', addDays(end, -6)],
        ['end_date', 'To', end],
      ].map(([name, label, value]) => {
        const input = h('input', { type: 'date', name: name!, value: value! });
        inputs.set(name!, input);
        return h('label', { class: 'filter' }, label!, input);
      });
  const filters = def.filters
    .filter((f) => !(session.role === 'affiliate' && f.name === 'affiliate_id'))
    .map((f) => {
      const input = f.options ? h('select', { name: f.name }, ...f.options.map((o) => h('option', { value: o }, o || 'any'))) : h('input', { type: 'text', name: f.name, inputmode: 'numeric', size: 8 });
      inputs.set(f.name, input);
      return h('label', { class: 'filter' }, f.label, input);
    });
  const out = h('div', { class: 'list', 'data-testid': `${def.path}-list` });
  const form = h('form', { class: 'filters' }, ...dates, ...filters, h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  root.append(form, out);

  // Pages of 100, read on by the cursor the previous page answered (next_start_after).
  let shown: Row[] = [];
  async function load(after?: string): Promise<void> {
    const params: Record<string, unknown> = { row_limit: 100, start_after: after };
    for (const [name, input] of inputs) if (input.value) params[name] = input.value;
    try {
      const answer = await api<Row>('GET', def.call, params);
      shown = after ? [...shown, ...def.rows(answer)] : def.rows(answer);
      const total = def.total(answer);
      const next = ((answer.response as Row | undefined) ?? answer).next_start_after as string | number | null | undefined;
      const more = next !== null && next !== undefined ? h('button', { type: 'button', class: 'more', onclick: () => void load(String(next)) }, 'Show 100 more') : null;
      fill(out, h('p', { class: 'count' }, `${total} ${def.title.toLowerCase()}${shown.length < total ? ` (${shown.length} shown)` : ''}`), table(def.columns(session, () => void load()), shown), more);
    } catch (e) {
      fill(out, notice(e instanceof Error ? e.message : String(e)));
    }
  }
  await load();
}
