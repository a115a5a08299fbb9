// The posting document of an offer (PROTOCOL.md 4): what an affiliate or a landing-page developer
// needs to post its leads, as data. routes/posting-doc.ts shows it as HTML or JSON. It holds nothing
// secret: no post keys, campaigns or money, only placeholders where those go.
import type { Offer, OfferField } from '../network.js';
import { html as htmlText } from '../http.js';
import { LEAD_ERRORS, xml as xmlText } from './answer.js';
import { DEFAULT_MAX_LENGTH, FIELD_FORMATS, FREE_FIELDS } from './validate.js';

export interface DocField {
  name: string;
  type: OfferField['type'];
  required: boolean;
  max_length: number;
  options: string[] | null;
  format: string;
  sample: string;
}

export interface DocMethod {
  id: 'server' | 'browser' | 'session' | 'ajax' | 'json' | 'xml';
  name: string;
  when: string;
  request: string;
  keys: string[];
  attribution: string;
  answer: string;
  example: string;
}

/** Updating a lead (ckm_lead_id). */
export interface DocLeadUpdate {
  when: string;
  keys: string[];
  rules: string[];
  sample_post_string: string;
  sample_session_post_string: string;
}

/** An event of the offer, as an advertiser reports it (no money: the network sets that). */
export interface DocEvent {
  event_id: number;
  event_name: string;
  once_per_click: boolean;
  pixel: string;
  server: string;
}

export interface PostingDoc {
  offer_id: number;
  offer_name: string;
  offer_status: string;
  post_url: string;
  /** Days within which the same email is a duplicate; 0: no duplicate check. */
  duplicate_days: number;
  /** False: the offer has no field list, and takes any fields (within limits). */
  field_list: boolean;
  fields: DocField[];
  post_keys: { name: string; used_by: string; meaning: string }[];
  methods: DocMethod[];
  sample_post_string: string;
  sample_json_body: Record<string, string>;
  sample_xml_body: string;
  lead_update: DocLeadUpdate;
  events: DocEvent[];
  test_methods: string[];
  answers: {
    success_xml: string;
    error_xml: string;
    success_json: string;
    error_json: string;
    redirect: string;
    errors: { name: string; meaning: string }[];
  };
}

export const REQUEST_ID = 'REQUEST_ID';
export const CAMPAIGN_ID = 'CAMPAIGN_ID';
export const POST_KEY = 'POST_KEY';
export const LEAD_ID = 'LEAD_ID';
export const API_KEY = 'API_KEY';

/** `base` is the tracking domain's origin, such as https://track.example.com. */
export function postingDoc(offer: Offer, base: string): PostingDoc {
  const postUrl = `${base}/d.ashx`;
  const fields: DocField[] = offer.fields.length
    ? offer.fields.map((f) => ({
        name: f.name,
        type: f.type,
        required: f.required,
        max_length: f.max_length ?? DEFAULT_MAX_LENGTH,
        options: f.options ?? null,
        format: f.type === 'select' ? `one of: ${(f.options ?? []).join(', ')}` : FIELD_FORMATS[f.type],
        sample: sampleValue(f),
      }))
    : [
        // CAKE's standard names (PROTOCOL.md 4).
        { name: 'first_name', type: 'text', required: false, max_length: FREE_FIELDS.maxLength, options: null, format: FIELD_FORMATS.text, sample: 'Jane' },
        { name: 'email_address', type: 'email', required: false, max_length: 254, options: null, format: FIELD_FORMATS.email, sample: 'jane@example.com' },
      ];
  const values: Record<string, string> = {};
  for (const f of fields) values[f.name] = f.sample;

  const o = String(offer.offer_id);
  const query = (keys: Record<string, string>) => new URLSearchParams({ ...keys, ...values }).toString();
  const session = { ckm_offer_id: o, ckm_request_id: REQUEST_ID };
  const sampleJson = { ...session, ...values };
  const xmlBody = `<XML>${fields.map((f) => `<${f.name}>${xmlText(f.sample)}</${f.name}>`).join('')}</XML>`;
  const leadid = '0000002A';
  const redirectExample = offer.thank_you_url ? 'https://…/thank-you?leadid=0000002A' : '';

  return {
    offer_id: offer.offer_id,
    offer_name: offer.offer_name,
    offer_status: offer.status,
    post_url: postUrl,
    duplicate_days: offer.duplicate_days,
    field_list: offer.fields.length > 0,
    fields,
    post_keys: [
      { name: 'ckm_offer_id', used_by: 'browser, session, AJAX posts', meaning: `this offer's id, ${o}` },
      { name: 'ckm_request_id', used_by: 'session and AJAX posts', meaning: 'the request id of the click: #reqid# in the landing page link, or the click pixel\'s ckm_request_id (surrounding double quotes are ignored)' },
      { name: 'ckm_campaign_id', used_by: 'server posts', meaning: "your campaign's id, from the network" },
      { name: 'ckm_key', used_by: 'server posts', meaning: "your campaign's post key, from the network" },
      { name: 'ckm_subid, ckm_subid_2 … ckm_subid_5', used_by: 'any post (optional)', meaning: 'your sub ids; without them a lead keeps its click\'s s1..s5' },
      { name: 'ckm_test', used_by: 'any post (optional)', meaning: '1: a test lead (stored and flagged, never paid, never posted back)' },
      { name: 'ckm_bp', used_by: 'any post (optional)', meaning: '1: redirect to the thank-you page as a browser post does; 0: a browser post answers XML instead of redirecting' },
      { name: 'ckm_xml', used_by: 'XML posts', meaning: '1: the body is <XML><field>value</field>…</XML>' },
      { name: 'ckm_lead_id', used_by: 'lead updates', meaning: "the leadid a post answered: this post updates that lead's fields instead of making a new lead" },
      { name: 'ckm_resell', used_by: 'any post or update (optional)', meaning: '1: flag the lead for resale; 0: unflag it' },
    ],
    methods: [
      {
        id: 'server',
        name: 'Server post',
        when: "Your server posts leads it collected; the campaign says who gets the credit.",
        request: `POST ${postUrl} (application/x-www-form-urlencoded), or GET with a query string`,
        keys: ['ckm_campaign_id', 'ckm_key'],
        attribution: 'the campaign of ckm_campaign_id, once ckm_key matches',
        answer: 'XML',
        example: `${postUrl}?${query({ ckm_campaign_id: CAMPAIGN_ID, ckm_key: POST_KEY })}`,
      },
      {
        id: 'browser',
        name: 'Browser post',
        when: 'The lead form on the landing page posts straight to the tracking domain.',
        request: `<form method="post" action="${postUrl}"> with a hidden ckm_offer_id`,
        keys: ['ckm_offer_id'],
        attribution: "the click held by the tracking domain's cookie; without it, the network's internal affiliate (flagged unattributed)",
        answer: "302 to the offer's thank-you page (with the lead id); ckm_bp=0 answers XML instead",
        example: `<form method="post" action="${postUrl}">\n  <input type="hidden" name="ckm_offer_id" value="${o}">\n${fields.map(formInput).join('\n')}\n  <button>Send</button>\n</form>`,
      },
      {
        id: 'session',
        name: 'Session post',
        when: 'Your server (or lead router) posts a lead collected on a landing page reached through a tracking link or click pixel.',
        request: `POST ${postUrl} (application/x-www-form-urlencoded), or GET with a query string`,
        keys: ['ckm_offer_id', 'ckm_request_id'],
        attribution: 'the click of ckm_request_id; an unknown, forged or expired one: the cookie\'s click if the browser posts, else the internal affiliate (flagged unattributed)',
        answer: 'XML; ckm_bp=1 redirects to the thank-you page instead',
        example: `${postUrl}?${query(session)}`,
      },
      {
        id: 'ajax',
        name: 'AJAX post (d.js)',
        when: 'The landing page posts its form without leaving the page; d.js adds the request id and the click cookie.',
        request: `POST ${postUrl} (text/plain JSON body, sent by d.js with credentials)`,
        keys: ['ckm_offer_id', 'ckm_request_id (filled in by d.js)'],
        attribution: 'as a session post, falling back to the cookie',
        answer: 'JSON; the page follows its redirect',
        example: [
          `<script>window.ckm = window.ckm || function () { (ckm.q = ckm.q || []).push(arguments) };</script>`,
          `<script async src="${base}/d.js"></script>`,
          ``,
          `<form id="ckm_form">`,
          `  <input type="hidden" name="ckm_offer_id" value="${o}">`,
          ...fields.map(formInput),
          `  <button>Send</button>`,
          `</form>`,
          `<script>`,
          `document.getElementById('ckm_form').addEventListener('submit', function (event) {`,
          `  event.preventDefault();`,
          `  ckm('post', this, function (answer) {`,
          `    if (answer.code === 0 && answer.redirect) location.href = answer.redirect;`,
          `    else alert(answer.errors.join(', '));`,
          `  });`,
          `});`,
          `</script>`,
        ].join('\n'),
      },
      {
        id: 'json',
        name: 'JSON post',
        when: 'A session or server post with a JSON body.',
        request: `POST ${postUrl} with Content-Type: application/json and Accept: application/json`,
        keys: ['ckm_offer_id + ckm_request_id (session)', 'or ckm_campaign_id + ckm_key (server)'],
        attribution: 'as the session or server post',
        answer: 'JSON',
        example: `curl -X POST '${postUrl}' -H 'Content-Type: application/json' -H 'Accept: application/json' \\\n  -d ${shell(JSON.stringify(sampleJson))}`,
      },
      {
        id: 'xml',
        name: 'XML post',
        when: 'A session or server post with an XML body.',
        request: `POST ${postUrl}?ckm_xml=1&… with Content-Type: text/xml; the post keys in the query string`,
        keys: ['ckm_xml=1', 'ckm_offer_id + ckm_request_id (session)', 'or ckm_campaign_id + ckm_key (server)'],
        attribution: 'as the session or server post',
        answer: 'XML',
        example: `curl -X POST '${postUrl}?ckm_xml=1&ckm_offer_id=${o}&ckm_request_id=${REQUEST_ID}' -H 'Content-Type: text/xml' \\\n  -d ${shell(xmlBody)}`,
      },
    ],
    sample_post_string: `${postUrl}?${query(session)}`,
    sample_json_body: sampleJson,
    sample_xml_body: xmlBody,
    lead_update: {
      when: 'A lead router or your server learns more about a lead it posted (a phone number, a corrected address), or flags it for resale.',
      keys: ['ckm_lead_id', 'ckm_campaign_id + ckm_key of the lead\'s campaign (server post)', "or ckm_offer_id + the ckm_request_id of the lead's own click (session post)"],
      rules: [
        'Only the fields sent change, each checked as for a new lead; a field sent empty is left as it was.',
        'The answer is the usual success, with the same leadid and price: no second lead, no second conversion, no postback.',
        'A changed email address must not be one another lead of this offer holds inside its duplicate window (Duplicate Lead).',
        'An unknown lead id, or a lead of another offer or campaign, answers Invalid Lead ID.',
      ],
      sample_post_string: `${postUrl}?${new URLSearchParams({ ckm_campaign_id: CAMPAIGN_ID, ckm_key: POST_KEY, ckm_lead_id: LEAD_ID, [updateField(fields)]: sampleOf(fields, updateField(fields)) })}`,
      sample_session_post_string: `${postUrl}?${new URLSearchParams({ ckm_offer_id: o, ckm_request_id: REQUEST_ID, ckm_lead_id: LEAD_ID, ckm_resell: '1' })}`,
    },
    events: offer.events
      .filter((e) => e.status === 'active')
      .map((e) => ({
        event_id: e.event_id,
        event_name: e.event_name,
        once_per_click: !e.allow_duplicates,
        pixel: `<img src="${base}/p.ashx?o=${o}&e=${e.event_id}&f=img" width="1" height="1" alt="">`,
        server: `${base}/api/2/conversion.json?api_key=${API_KEY}&click_id=${REQUEST_ID}&offer_id=${o}&event_id=${e.event_id}`,
      })),
    test_methods: [
      'Add ckm_test=1 to the post.',
      'Or put ckmtest in first_name, last_name or address (for example first_name=ckmtest).',
      'Click a tracking link (or load the click pixel) first, so that the test lead has a request id to attribute to.',
      'A test lead is stored and flagged, never paid, never posted back, and left out of reports unless asked for (include_tests=true); it never makes a later real lead a duplicate.',
    ],
    answers: {
      success_xml: `<?xml version="1.0" encoding="utf-8"?>\n<result><code>0</code><msg>success</msg><leadid>${leadid}</leadid><price>0.00</price><redirect>${xmlText(redirectExample)}</redirect></result>`,
      error_xml: '<?xml version="1.0" encoding="utf-8"?>\n<result><code>1</code><msg>error</msg><errors><error>Validation Failed</error></errors><fields><field name="email">is not an email address</field></fields></result>',
      success_json: `{"code":0,"msg":"success","leadid":"${leadid}","price":0.00,"redirect":${JSON.stringify(redirectExample || null)}}`,
      error_json: '{"code":1,"msg":"error","errors":["Validation Failed"],"fields":{"email":"is not an email address"}}',
      redirect: offer.thank_you_url
        ? "A browser post (or ckm_bp=1) answers 302 to the offer's thank-you page, with the lead id."
        : 'This offer has no thank-you page: every post answers XML or JSON.',
      errors: Object.entries(LEAD_ERRORS).map(([name, meaning]) => ({ name, meaning })),
    },
  };
}

/** The field a sample update changes: a phone if the offer has one, else its last field. */
function updateField(fields: DocField[]): string {
  return (fields.find((f) => f.type === 'phone') ?? fields[fields.length - 1]!).name;
}

function sampleOf(fields: DocField[], name: string): string {
  return fields.find((f) => f.name === name)!.sample;
}

function sampleValue(f: OfferField): string {
  const name = f.name.toLowerCase();
  switch (f.type) {
    case 'email':
      return 'jane@example.com';
    case 'phone':
      return '5555550123';
    case 'zip':
      return '90210';
    case 'date':
      return '1990-01-31';
    case 'number':
      return '42';
    case 'select':
      return f.options?.[0] ?? '';
    case 'text':
      if (name.includes('first')) return 'Jane';
      if (name.includes('last')) return 'Doe';
      if (name.includes('address')) return '1 Main St';
      if (name.includes('city')) return 'Springfield';
      if (name.includes('state')) return 'CA';
      return 'text';
  }
}

const INPUT_TYPES: Partial<Record<OfferField['type'], string>> = { email: 'email', phone: 'tel', number: 'number', date: 'date' };

/** The form control for a field, in the examples (to copy, so its text is HTML-escaped here). */
function formInput(f: DocField): string {
  const required = f.required ? ' required' : '';
  if (f.type === 'select') {
    const options = (f.options ?? []).map((o) => `<option>${htmlText(o)}</option>`).join('');
    return `  <select name="${f.name}"${required}>${options}</select>`;
  }
  const type = INPUT_TYPES[f.type];
  return `  <input${type ? ` type="${type}"` : ''} name="${f.name}"${required}>`;
}

/** One single-quoted shell word. */
function shell(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
