// An affiliate's postbacks (affiliate_postback.json): the list, a new one, deactivate, and "send
// test" (affiliate_postback_test.json: sent once with sample macros, its outcome shown in the row,
// nothing stored). An affiliate key's are its own (the API forces its affiliate_id).
import { api, showProblems, type SessionInfo } from '../api.js';
import { field, fill, h, notice, table } from '../dom.js';

type Row = Record<string, unknown>;

interface TestOutcome {
  delivered: boolean;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** "Send test" and, once answered, the outcome beside it: the status (or the error class) and the
 * latency. */
function testButton(r: Row): HTMLElement {
  const outcome = h('span', { class: 'test-outcome', role: 'status', 'data-testid': `postback-test-${String(r.postback_id)}` });
  const button = h('button', { type: 'button', class: 'link' }, 'Send test');
  button.addEventListener('click', async () => {
    button.disabled = true;
    outcome.className = 'test-outcome';
    outcome.textContent = 'sending…';
    try {
      const { postback_test: t } = await api<{ postback_test: TestOutcome }>('POST', 'affiliate_postback_test.json', { postback_id: r.postback_id });
      const what = t.error ?? (t.status_code === null ? 'no answer' : `HTTP ${t.status_code}`);
      outcome.className = `test-outcome status ${t.delivered ? 'delivered' : 'failed'}`;
      outcome.textContent = `${t.delivered ? 'delivered' : 'failed'}: ${what} in ${t.latency_ms} ms`;
    } catch (e) {
      outcome.className = 'test-outcome status failed';
      outcome.textContent = (e as Error).message;
    } finally {
      button.disabled = false;
    }
  });
  return h('span', {}, button, ' ', outcome);
}

export async function postbacksPage(root: HTMLElement, session: SessionInfo): Promise<void> {
  const listBox = h('div', { class: 'list', 'data-testid': 'postbacks-list' });
  const affiliate = h('input', { type: 'text', name: 'affiliate_id', inputmode: 'numeric', value: session.affiliate_id ?? '', disabled: session.role === 'affiliate' });
  const offer = h('input', { type: 'text', name: 'offer_id', inputmode: 'numeric', value: '0' });
  const url = h('input', { type: 'url', name: 'postback_url', placeholder: 'https://affiliate.example.com/pb?click=#s1#&payout=#price#' });
  const type = h('select', { name: 'postback_type_id' }, h('option', { value: '1' }, 'Server'), h('option', { value: '2' }, 'iFrame'), h('option', { value: '3' }, 'Image'), h('option', { value: '4' }, 'JavaScript'));
  const fireOn = h('select', { name: 'fire_on' }, ...['conversion', 'approval', 'rejection'].map((f) => h('option', { value: f }, f)));
  const form = h(
    'form',
    { class: 'entity-form', novalidate: true },
    h('h2', {}, 'New postback'),
    h('p', { class: 'form-error notice error', role: 'alert' }),
    field('Affiliate id', affiliate, 'affiliate_id'),
    field('Offer id (0: every offer)', offer, 'offer_id'),
    field('Postback URL', url, 'postback_url', 'Macros: #reqid# #affid# #oid# #campid# #cid# #tid# #s1#…#s5# #price# #status# #leadid# #eventid#'),
    field('Type', type, 'postback_type_id'),
    field('Fires on', fireOn, 'fire_on'),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Create postback')),
  );
  // Editing one: the same form, sent as PUT with its postback_id.
  let editing: number | null = null;
  const title = form.querySelector('h2')!;
  const submit = form.querySelector('button[type=submit]')!;
  const edit = (r: Row) => {
    editing = Number(r.postback_id);
    affiliate.value = String(r.affiliate_id);
    offer.value = String(r.offer_id);
    url.value = String(r.postback_url);
    type.value = String(r.postback_type_id);
    fireOn.value = String(r.fire_on);
    title.textContent = `Edit postback ${editing}`;
    submit.textContent = 'Save';
    url.focus();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const body: Record<string, unknown> = { offer_id: offer.value, postback_url: url.value, postback_type_id: type.value, fire_on: fireOn.value };
      if (session.role !== 'affiliate') body.affiliate_id = affiliate.value;
      if (editing === null) await api('POST', 'affiliate_postback.json', body);
      else await api('PUT', 'affiliate_postback.json', { ...body, postback_id: editing });
      editing = null;
      title.textContent = 'New postback';
      submit.textContent = 'Create postback';
      url.value = '';
      showProblems(form, null);
      await load();
    } catch (e) {
      showProblems(form, e);
    }
  });
  root.append(form, listBox);

  async function load(): Promise<void> {
    const answer = await api<Row>('GET', 'affiliate_postback.json', { row_limit: 500 });
    const rows = (answer.postbacks ?? []) as Row[];
    fill(
      listBox,
      table(
        [
          { label: 'Id', cell: (r) => String(r.postback_id), numeric: true },
          { label: 'Affiliate', cell: (r) => String(r.affiliate_id), numeric: true },
          { label: 'Offer', cell: (r) => (Number(r.offer_id) ? String(r.offer_id) : 'every offer') },
          { label: 'URL', cell: (r) => h('code', { class: 'url' }, String(r.postback_url)) },
          { label: 'Type', cell: (r) => String(r.postback_type) },
          { label: 'Fires on', cell: (r) => String(r.fire_on) },
          { label: 'Status', cell: (r) => h('span', { class: `status ${String(r.postback_status)}` }, String(r.postback_status)) },
          {
            label: '',
            cell: (r) =>
              h(
                'span',
                { class: 'actions' },
                h('button', { type: 'button', class: 'link', onclick: () => edit(r) }, 'Edit'),
                r.postback_status === 'active'
                  ? h('button', { type: 'button', class: 'link', onclick: () => void api('PUT', 'affiliate_postback.json', { postback_id: r.postback_id, postback_status: 'inactive' }).then(load, (e: Error) => listBox.prepend(notice(e.message))) }, 'Deactivate')
                  : null,
                // Browser postbacks are fired by the visitor's browser: there is nothing to send.
                Number(r.postback_type_id) === 1 ? testButton(r) : null,
              ),
          },
        ],
        rows,
        { empty: 'No postbacks yet.' },
      ),
    );
  }
  await load();
}
