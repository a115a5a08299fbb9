// Advertisers, offers (fields and events included), creatives, affiliates and campaigns: a list and
// a form per kind, on the management API (PROTOCOL.md 9). Create is POST, edit PUT with only the
// fields of the form, deactivate PUT status=inactive. The API's messages go beside their field.
import { api, showProblems } from '../api.js';
import { field, fill, h, notice, table, type Column } from '../dom.js';

type Kind = 'advertisers' | 'offers' | 'creatives' | 'affiliates' | 'campaigns';
type Entity = Record<string, unknown>;

interface FieldDef {
  name: string;
  label: string;
  type: 'text' | 'number' | 'url' | 'select' | 'checkbox' | 'json';
  options?: string[];
  hint?: string;
  /** Only when creating (ids). */
  createOnly?: boolean;
}

export interface EntityPageDef {
  kind: Kind;
  title: string;
  singular: string;
  idKey: string;
  nameKey: string;
  fields: FieldDef[];
  /** Columns of the list besides id, name and status. */
  extra: { label: string; key: string }[];
}

const status: FieldDef = { name: 'status', label: 'Status', type: 'select', options: ['active', 'inactive'] };

export const ENTITY_PAGES: EntityPageDef[] = [
  {
    kind: 'advertisers',
    title: 'Advertisers',
    singular: 'advertiser',
    idKey: 'advertiser_id',
    nameKey: 'advertiser_name',
    fields: [{ name: 'advertiser_name', label: 'Name', type: 'text' }, status],
    extra: [],
  },
  {
    kind: 'offers',
    title: 'Offers',
    singular: 'offer',
    idKey: 'offer_id',
    nameKey: 'offer_name',
    fields: [
      { name: 'offer_name', label: 'Name', type: 'text' },
      { name: 'advertiser_id', label: 'Advertiser id', type: 'number' },
      { name: 'offer_url', label: 'Landing page URL', type: 'url', hint: 'Tokens: #reqid# #affid# #oid# #campid# #cid# #s1#…#s5# #vstid#, e.g. https://lp.example.com/?reqid=#reqid#' },
      { name: 'thank_you_url', label: 'Thank-you page URL', type: 'url' },
      { name: 'price_format', label: 'Price format', type: 'select', options: ['CPA', 'CPL', 'RevShare'] },
      { name: 'payout', label: 'Payout', type: 'number' },
      { name: 'revenue', label: 'Revenue', type: 'number' },
      { name: 'cookie_days', label: 'Cookie days', type: 'number' },
      { name: 'session_hours', label: 'Session hours', type: 'number' },
      { name: 'attribution', label: 'Attribution', type: 'select', options: ['first_touch', 'last_touch'] },
      { name: 'pixel_overrides', label: 'Pixel overrides', type: 'select', options: ['none', 'revenue', 'all'] },
      { name: 'allow_duplicates', label: 'Allow more than one conversion per click', type: 'checkbox' },
      { name: 'dedupe_transaction_id', label: 'Dedupe on transaction id', type: 'checkbox' },
      { name: 'fields', label: 'Lead fields (JSON)', type: 'json', hint: '[{"name":"email","type":"email","required":true}]' },
      { name: 'events', label: 'Events (JSON)', type: 'json', hint: '[{"event_id":2,"event_name":"Quote Viewed","payout":0.5,"revenue":1}]' },
      status,
    ],
    extra: [
      { label: 'Advertiser', key: 'advertiser_id' },
      { label: 'Format', key: 'price_format' },
      { label: 'Payout', key: 'payout' },
      { label: 'Revenue', key: 'revenue' },
    ],
  },
  {
    kind: 'creatives',
    title: 'Creatives',
    singular: 'creative',
    idKey: 'creative_id',
    nameKey: 'creative_name',
    fields: [
      { name: 'offer_id', label: 'Offer id', type: 'number' },
      { name: 'creative_name', label: 'Name', type: 'text' },
      { name: 'offer_url', label: 'Landing page URL (optional: else the offer\'s)', type: 'url' },
      status,
    ],
    extra: [{ label: 'Offer', key: 'offer_id' }],
  },
  {
    kind: 'affiliates',
    title: 'Affiliates',
    singular: 'affiliate',
    idKey: 'affiliate_id',
    nameKey: 'affiliate_name',
    fields: [{ name: 'affiliate_name', label: 'Name', type: 'text' }, status],
    extra: [],
  },
  {
    kind: 'campaigns',
    title: 'Campaigns',
    singular: 'campaign',
    idKey: 'campaign_id',
    nameKey: 'ckm_key',
    fields: [
      { name: 'affiliate_id', label: 'Affiliate id', type: 'number' },
      { name: 'offer_id', label: 'Offer id', type: 'number' },
      { name: 'payout', label: 'Payout (optional: else the offer\'s)', type: 'number' },
      { name: 'revenue', label: 'Revenue (optional)', type: 'number' },
      { name: 'ckm_key', label: 'Post key (ckm_key; empty: a random one)', type: 'text' },
      status,
    ],
    extra: [
      { label: 'Affiliate', key: 'affiliate_id' },
      { label: 'Offer', key: 'offer_id' },
    ],
  },
];

export async function entityPage(root: HTMLElement, def: EntityPageDef): Promise<void> {
  const listBox = h('div', { class: 'list' });
  const formBox = h('div', { class: 'form-box' });
  const newButton = h('button', { type: 'button', 'data-testid': `new-${def.singular}` }, `New ${def.singular}`);
  newButton.addEventListener('click', () => showForm(null));
  root.append(h('div', { class: 'toolbar' }, newButton), formBox, listBox);

  async function load(): Promise<void> {
    const data = await api<Record<string, Entity[]>>('GET', `${def.kind}.json`, { row_limit: 10000 });
    const rows = data[def.kind] ?? [];
    const columns: Column<Entity>[] = [
      { label: 'Id', cell: (r) => String(r[def.idKey]), numeric: true },
      ...(def.nameKey === 'ckm_key' ? [] : [{ label: 'Name', cell: (r: Entity) => String(r[def.nameKey] ?? '') }]),
      ...def.extra.map((x) => ({ label: x.label, cell: (r: Entity) => String(r[x.key] ?? '') })),
      { label: 'Status', cell: (r) => h('span', { class: `status ${String(r.status)}` }, String(r.status)) },
      {
        label: '',
        cell: (r) =>
          h(
            'span',
            { class: 'actions' },
            h('button', { type: 'button', class: 'link', onclick: () => showForm(r) }, 'Edit'),
            r.status === 'active' ? h('button', { type: 'button', class: 'link', onclick: () => deactivate(r) }, 'Deactivate') : null,
          ),
      },
    ];
    fill(listBox, table(columns, rows, { empty: `No ${def.kind} yet.` }));
  }

  async function deactivate(entity: Entity): Promise<void> {
    try {
      await api('PUT', `${def.kind}.json`, { [def.idKey]: entity[def.idKey], status: 'inactive' });
      await load();
    } catch (e) {
      listBox.prepend(notice(e instanceof Error ? e.message : String(e)));
    }
  }

  function showForm(entity: Entity | null): void {
    const inputs = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
    const fields = def.fields.map((f) => {
      const value = entity?.[f.name];
      let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
      if (f.type === 'select') {
        input = h('select', { name: f.name }, ...(f.options ?? []).map((o) => h('option', { value: o }, o)));
        if (value !== undefined) input.value = String(value);
      } else if (f.type === 'checkbox') {
        input = h('input', { type: 'checkbox', name: f.name, checked: Boolean(value ?? (f.name === 'dedupe_transaction_id')) });
      } else if (f.type === 'json') {
        input = h('textarea', { name: f.name, rows: 3, spellcheck: 'false' });
        input.value = value === undefined ? '' : JSON.stringify(value);
      } else {
        input = h('input', { type: f.type === 'number' ? 'text' : f.type === 'url' ? 'url' : 'text', inputmode: f.type === 'number' ? 'decimal' : null, name: f.name });
        input.value = value === undefined || value === null ? '' : String(value);
      }
      inputs.set(f.name, input);
      return field(f.label, input, f.name, f.hint);
    });
    const error = h('p', { class: 'form-error notice error', role: 'alert' });
    const form = h(
      'form',
      { class: 'entity-form', 'data-testid': `${def.singular}-form`, novalidate: true },
      h('h2', {}, entity ? `Edit ${def.singular} ${String(entity[def.idKey])}` : `New ${def.singular}`),
      error,
      ...fields,
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, entity ? 'Save' : `Create ${def.singular}`), h('button', { type: 'button', class: 'link', onclick: () => fill(formBox) }, 'Cancel')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body: Record<string, unknown> = entity ? { [def.idKey]: entity[def.idKey] } : {};
      try {
        for (const f of def.fields) {
          const input = inputs.get(f.name)!;
          if (f.type === 'checkbox') body[f.name] = (input as HTMLInputElement).checked;
          else if (input.value.trim() === '') {
            // Empty: left out when creating (the default), null where the field may be cleared.
            if (entity && f.name === 'thank_you_url') body[f.name] = null;
          } else if (f.type === "number") body[f.name] = Number.isFinite(Number(input.value)) ? Number(input.value) : input.value;
          else if (f.type === 'json') {
            try {
              body[f.name] = JSON.parse(input.value);
            } catch {
              throw Object.assign(new Error(`${f.label} is not valid JSON`), { field: f.name });
            }
          } else body[f.name] = input.value.trim();
        }
        const answer = await api<Record<string, Entity>>(entity ? 'PUT' : 'POST', `${def.kind}.json`, body);
        const saved = answer[def.singular];
        fill(formBox, notice(`${def.singular[0]!.toUpperCase()}${def.singular.slice(1)} ${String(saved?.[def.idKey])} saved.`, 'ok'));
        await load();
      } catch (e) {
        showProblems(form, e);
      }
    });
    fill(formBox, form);
    (fields[0]?.querySelector('input,select,textarea') as HTMLElement | null)?.focus();
  }

  await load();
}
