// The link and pixel generator (CAKE: Affiliates > Pixels > Generate Click Pixel): for an affiliate
// and a creative, the tracking link (sub ids filled, or as placeholders), the JS and image click
// pixels for organic traffic, the conversion pixels and the conversion.json postback URL for the
// advertiser, the landing-page snippet (queue stub, d.js, form#ckm_form), and the macros an
// affiliate's postback URL may carry. Built from what the API answers; nothing is stored.
import { api, type SessionInfo } from '../api.js';
import { fill, h, notice, snippet } from '../dom.js';

type Row = Record<string, unknown>;

export interface GeneratorInput {
  base: string;
  affiliate_id: number;
  creative_id: number;
  offer_id: number | null;
  events: { event_id: number; event_name: string }[];
  subIds: string[];
  placeholders: boolean;
}

/** The query of a click: a, c and the sub ids given (or SUB_ID_n placeholders for the empty ones). */
function clickQuery(g: GeneratorInput): string {
  let q = `a=${g.affiliate_id}&c=${g.creative_id}`;
  g.subIds.forEach((value, i) => {
    if (value) q += `&s${i + 1}=${encodeURIComponent(value)}`;
    else if (g.placeholders) q += `&s${i + 1}=SUB_ID_${i + 1}`;
  });
  return q;
}

/** Every snippet, in the order the page shows them. Pure: the test of the page reads the same. */
export function snippets(g: GeneratorInput): { id: string; label: string; text: string }[] {
  const q = clickQuery(g);
  const out = [
    { id: 'tracking-link', label: 'Tracking link', text: `${g.base}/?${q}` },
    { id: 'js-click-pixel', label: 'JavaScript click pixel (organic traffic; defines ckm_request_id)', text: `<script type="text/javascript" src="${g.base}/?${q}&cp=js"></script>` },
    { id: 'img-click-pixel', label: 'Image click pixel (organic traffic)', text: `<img src="${g.base}/?${q}&cp=img" width="1" height="1" border="0" alt="" />` },
    {
      id: 'landing-page',
      label: 'Landing page: d.js and the lead form',
      text: [
        '<script>window.ckm = window.ckm || function () { (ckm.q = ckm.q || []).push(arguments) };</script>',
        `<script async src="${g.base}/d.js"></script>`,
        '<form id="ckm_form" method="post" action="YOUR_FORM_HANDLER">',
        '  <input type="hidden" name="ckm_request_id" value="" />',
        '  <!-- your fields -->',
        '</form>',
      ].join('\n'),
    },
    {
      id: 'landing-url',
      label: 'Landing page URL tokens (in the offer\'s or creative\'s landing URL)',
      text: 'https://lp.example.com/?reqid=#reqid#&affid=#affid#&oid=#oid#&campid=#campid#&cid=#cid#&s1=#s1#&s2=#s2#',
    },
  ];
  if (g.offer_id !== null) {
    const o = `o=${g.offer_id}`;
    const pixels = [{ suffix: '', name: 'the offer' }, ...g.events.map((e) => ({ suffix: `&e=${e.event_id}`, name: `event ${e.event_id} (${e.event_name})` }))];
    for (const p of pixels) {
      const tag = p.suffix ? `-e${p.suffix.slice(3)}` : '';
      out.push(
        { id: `conversion-iframe${tag}`, label: `Conversion pixel, iframe: ${p.name} (fires the affiliate's browser pixels)`, text: `<iframe src="${g.base}/p.ashx?${o}${p.suffix}&t=TRANSACTION_ID" height="1" width="1" frameborder="0"></iframe>` },
        { id: `conversion-img${tag}`, label: `Conversion pixel, image: ${p.name}`, text: `<img src="${g.base}/p.ashx?${o}${p.suffix}&t=TRANSACTION_ID&f=img" width="1" height="1" border="0" alt="" />` },
        { id: `conversion-js${tag}`, label: `Conversion pixel, JavaScript: ${p.name}`, text: `<script type="text/javascript" src="${g.base}/p.ashx?${o}${p.suffix}&t=TRANSACTION_ID&f=js"></script>` },
      );
    }
    out.push({
      id: 'conversion-postback',
      label: 'Server postback URL for the advertiser (replace REPLACE with the click id, the reqid)',
      text: `${g.base}/api/2/conversion.json?api_key=ADVERTISER_API_KEY&offer_id=${g.offer_id}&unique_id=TRANSACTION_ID&click_id=REPLACE`,
    });
  }
  out.push({
    id: 'affiliate-postback',
    label: "Macros for the affiliate's own postback URL (Postbacks page)",
    text: 'https://affiliate.example.com/postback?click=#s1#&reqid=#reqid#&payout=#price#&offer=#oid#&tid=#tid#&status=#status#',
  });
  return out;
}

export async function generatorPage(root: HTMLElement, session: SessionInfo): Promise<void> {
  const admin = session.role === 'admin';
  const [domains, campaigns, affiliates, creatives, offers] = await Promise.all([
    api<Row>('GET', 'tracking_domains.json'),
    api<Row>('GET', 'campaigns.json', { row_limit: 10000 }),
    admin ? api<Row>('GET', 'affiliates.json', { row_limit: 10000, status: 'active' }) : Promise.resolve({ affiliates: [] }),
    admin ? api<Row>('GET', 'creatives.json', { row_limit: 10000, status: 'active' }) : Promise.resolve({ creatives: [] }),
    admin ? api<Row>('GET', 'offers.json', { row_limit: 10000 }) : Promise.resolve({ offers: [] }),
  ]);
  const domainList = (domains.tracking_domains ?? []) as Row[];
  const domain = (domainList.find((d) => d.is_default) ?? domainList[0])?.domain as string | undefined;
  const base = `${location.protocol}//${domain ?? location.host}`;
  const campaignList = ((campaigns.campaigns ?? []) as Row[]).filter((c) => c.status === 'active');
  const offerMap = new Map(((offers.offers ?? []) as Row[]).map((o) => [Number(o.offer_id), o]));

  const affiliate = admin
    ? h('select', { name: 'affiliate_id', 'data-testid': 'gen-affiliate' }, ...((affiliates.affiliates ?? []) as Row[]).map((a) => h('option', { value: String(a.affiliate_id) }, `${String(a.affiliate_id)} · ${String(a.affiliate_name)}`)))
    : h('select', { name: 'affiliate_id', disabled: true }, h('option', { value: String(session.affiliate_id) }, String(session.affiliate_id)));
  const creativeRows = (creatives.creatives ?? []) as Row[];
  const creative = admin
    ? h('select', { name: 'creative_id', 'data-testid': 'gen-creative' }, ...creativeRows.map((c) => h('option', { value: String(c.creative_id) }, `${String(c.creative_id)} · ${String(c.creative_name ?? '')} (offer ${String(c.offer_id)})`)))
    : h('input', { type: 'text', name: 'creative_id', inputmode: 'numeric', 'data-testid': 'gen-creative', placeholder: 'creative id from your network' });
  const subs = [1, 2, 3, 4, 5].map((n) => h('input', { type: 'text', name: `s${n}`, size: 10, 'aria-label': `Sub id ${n}` }));
  const placeholders = h('input', { type: 'checkbox', name: 'placeholders' });
  const out = h('div', { class: 'snippets', 'data-testid': 'snippets' });
  const campaignHint = h('p', { class: 'hint' });

  const render = () => {
    const affiliate_id = Number(affiliate.value || session.affiliate_id);
    const creative_id = Number(creative.value);
    if (!affiliate_id || !creative_id) return fill(out, notice(admin ? 'Create an affiliate and a creative first.' : 'Enter the creative id your network gave you.'));
    const creativeRow = creativeRows.find((c) => Number(c.creative_id) === creative_id);
    const offer_id = creativeRow ? Number(creativeRow.offer_id) : null;
    const offer = offer_id === null ? undefined : offerMap.get(offer_id);
    const campaign = campaignList.find((c) => Number(c.affiliate_id) === affiliate_id && (offer_id === null || Number(c.offer_id) === offer_id));
    fill(
      campaignHint,
      campaign
        ? `Campaign ${String(campaign.campaign_id)} (affiliate ${affiliate_id}, offer ${String(campaign.offer_id)}) credits these clicks.`
        : offer_id !== null
          ? `Affiliate ${affiliate_id} has no active campaign for offer ${offer_id}: its clicks are not attributed. Create one on the Campaigns page.`
          : '',
    );
    const events = ((offer?.events ?? []) as Row[]).filter((e) => e.status !== 'inactive').map((e) => ({ event_id: Number(e.event_id), event_name: String(e.event_name) }));
    const list = snippets({ base, affiliate_id, creative_id, offer_id, events, subIds: subs.map((s) => s.value.trim()), placeholders: placeholders.checked });
    fill(out, ...list.map((s) => snippet(s.label, s.text, s.id)));
  };
  for (const el of [affiliate, creative, placeholders, ...subs]) el.addEventListener('input', render);
  root.append(
    h(
      'form',
      { class: 'filters generator' },
      h('label', { class: 'filter' }, 'Affiliate', affiliate),
      h('label', { class: 'filter' }, 'Creative', creative),
      ...subs.map((s, i) => h('label', { class: 'filter' }, `s${i + 1}`, s)),
      h('label', { class: 'check' }, placeholders, ' Empty sub ids as placeholders'),
    ),
    campaignHint,
    out,
  );
  render();
}
