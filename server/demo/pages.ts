// The demo's pages, under /demo/: an advertiser's landing page built the way a CAKE landing page is
// (the ckm queue stub, d.js, form#ckm_form posting to /d.ashx), a second funnel page, an organic
// landing page with the JS click pixel, a thank-you page that fires the conversion pixel, and a
// stand-in for the affiliate's server that records the postbacks it receives and lists them. The
// two funnel pages fire the offer's engagement events (p.ashx?e=) on every view, as landing pages
// do; Crumb records each once per click.
//
// In real life these pages live on the advertiser's site, not on the tracking domain: everything
// they load from or send to Crumb goes to `tracking`, an origin given by configuration (the e2e
// tests serve these pages from another site). Without it, the origin the page was asked on: Crumb
// serving its own demo.
//
// Every value from the request that a page shows is escaped for where it goes (html(), jsString(),
// encodeURIComponent); the pages run under a strict Content-Security-Policy (scripts: this origin,
// the tracking origin and one nonce'd inline script per page; no inline styles).
import { Hono, type Context } from 'hono';
import { NONCE, secureHeaders, type SecureHeadersVariables } from 'hono/secure-headers';
import { clip, html, isHttps, jsString, NO_STORE, parseId } from '../http.js';
import type { Network, Offer, OfferEvent, OfferField } from '../network.js';

/** Where the demo is mounted: the demo network's offer URLs point under it. */
export const DEMO_ROOT = '/demo';
/** The stand-in for the demo affiliate's postback endpoint (node.ts points a postback at it). */
export const DEMO_RECEIVER_PATH = `${DEMO_ROOT}/affiliate/postback`;

export interface DemoOptions {
  /** The tracking server's origin (d.js, /d.ashx, /p.ashx, the click pixel, reports), e.g.
   * `https://track.example.com`. Default: the origin each page is asked on. */
  tracking?: string;
  /** An API key for the report links (the demo network's key is public); none: no report links. */
  api_key?: string;
  /** The offer the pages sell (default: the network's first). */
  offer_id?: number;
}

/** The queue stub, exactly as landing pages paste it (PROTOCOL.md section 3). */
export const QUEUE_STUB = 'window.ckm = window.ckm || function () { (ckm.q = ckm.q || []).push(arguments) };';

/** The postbacks the receiver keeps (newest first), and the characters kept of each URL. */
const KEEP_POSTBACKS = 100;
const MAX_POSTBACK_URL = 2000;

export interface ReceivedPostback {
  /** ISO time it arrived. */
  at: string;
  method: string;
  /** Path and query as received (cut to 2,000 characters). */
  url: string;
  query: Record<string, string>;
}

type Env = { Variables: SecureHeadersVariables & { tracking: string } };

/** A plain origin (scheme, host name or IP, port), or null. Anything else could break out of the
 * CSP header or an attribute, so it is refused rather than escaped. */
export function plainOrigin(text: string): string | null {
  let origin: string;
  try {
    origin = new URL(text).origin;
  } catch {
    return null;
  }
  return /^https?:\/\/([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/i.test(origin) ? origin : null;
}

export function demoRoutes(network: Network, options: DemoOptions = {}) {
  const configured = options.tracking === undefined ? undefined : plainOrigin(options.tracking);
  if (configured === null) throw new Error(`demo pages: tracking must be an http(s) origin such as https://track.example.com, not ${options.tracking}`);
  const offer = options.offer_id === undefined ? network.offers.values().next().value : network.offers.get(options.offer_id);
  if (!offer) throw new Error(`demo pages: the network has no offer ${options.offer_id ?? ''}`.trim());
  const creative = [...network.creatives.values()].find((c) => c.offer_id === offer.offer_id);
  const campaign = [...network.campaigns.values()].find((c) => c.offer_id === offer.offer_id);
  const received: ReceivedPostback[] = [];

  // Full paths (mounted at /): the index answers both /demo and /demo/.
  const app = new Hono<Env>();
  const at = (path: string) => `${DEMO_ROOT}${path}`;
  // The tracking origin of this request: configured, else this page's own origin.
  app.use(at('/*'), async (c, next) => {
    const own = plainOrigin(`${isHttps(c) ? 'https' : 'http'}://${c.req.header('host') ?? ''}`);
    const tracking = configured ?? own;
    if (!tracking) return c.text('Bad Host header: a host name (and port) is expected', 400);
    c.set('tracking', tracking);
    await next();
    c.res.headers.set('Cache-Control', NO_STORE);
  });
  const trackingSource = (c: Context<Env>) => c.get('tracking');
  app.use(
    at('/*'),
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'", NONCE, trackingSource],
        connectSrc: ["'self'", trackingSource],
        imgSrc: ["'self'", trackingSource],
        styleSrc: ["'self'"],
        // A native post goes to the tracking server, which redirects to the thank-you page here.
        formAction: ["'self'", trackingSource],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
      xFrameOptions: 'DENY',
      // The tracking server sees which landing page a post or pixel came from, as with CAKE.
      referrerPolicy: 'strict-origin-when-cross-origin',
    }),
  );

  const page = (c: Context<Env>, title: string, body: string, head = '') =>
    c.html(
      `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<link rel="stylesheet" href="${DEMO_ROOT}/demo.css">
${head}</head>
<body>
<header><a href="${DEMO_ROOT}/">Crumb demo</a> · <span>${html(network.advertisers.get(offer.advertiser_id)?.advertiser_name ?? '')}</span></header>
<main>
${body}
</main>
<script src="${DEMO_ROOT}/demo.js"></script>
</body></html>
`,
    );

  /** The landing-page head: the queue stub (and what the page asks of d.js before it loads), then
   * d.js from the tracking server. */
  const dJs = (c: Context<Env>, calls = '') =>
    `<script nonce="${html(c.get('secureHeadersNonce'))}">\n${QUEUE_STUB}${calls}\n</script>\n<script async src="${html(c.get('tracking'))}/d.js"></script>\n`;
  const api = (c: Context<Env>, call: string, params: Record<string, string>) =>
    options.api_key ? `${c.get('tracking')}/api/2/${call}?${new URLSearchParams({ api_key: options.api_key, ...params })}` : null;
  const link = (href: string | null, text: string) => (href ? `<a href="${html(href)}">${html(text)}</a>` : '');

  app.on('GET', [DEMO_ROOT, at('/')], (c) => {
    const t = c.get('tracking');
    const tracking = creative && campaign ? `${t}/?a=${campaign.affiliate_id}&c=${creative.creative_id}&s1=demo` : null;
    const reports = [
      link(api(c, 'click.json', {}), 'clicks'),
      link(api(c, 'leads.json', {}), 'leads'),
      link(api(c, 'conversions.json', reportDates()), 'conversions'),
      link(api(c, 'postback_deliveries.json', {}), 'postback deliveries'),
    ].filter(Boolean);
    return page(
      c,
      'Crumb demo',
      `<h1>Crumb demo: ${html(offer.offer_name)}</h1>
<p>The whole journey: an ad click, the landing page, its form, the thank-you page, the conversion, the affiliate paid.</p>
<ol>
<li>Click the affiliate's tracking link: ${tracking ? link(tracking, tracking) : 'this offer has no campaign or creative'}.
Crumb records the click and sends you to the landing page with its request id (<code>reqid</code>).</li>
<li>Fill in the form and send it (a native post, or the AJAX post). The landing page, <code>d.js</code> and the form are built as on CAKE.</li>
<li>The thank-you page fires the conversion pixel once; the affiliate's server is told by a server-to-server postback: ${link(`${DEMO_ROOT}/postbacks`, 'what it received')}.</li>
</ol>
<p>Also: ${link(`${DEMO_ROOT}/organic`, 'organic traffic')} (the landing page opened without a tracking link, with the JavaScript click pixel),
the ${link(`${t}/offers/${offer.offer_id}/posting-doc`, 'posting document')} of the offer${reports.length ? `, and the reports: ${reports.join(', ')}` : ''}.</p>`,
    );
  });

  app.get(at('/landing'), (c) => {
    const aff = clip(c.req.query('aff'), 50);
    const sub = clip(c.req.query('sub'), 50);
    const came = aff
      ? `<p class="note">You came through affiliate <b>${html(aff)}</b>${sub ? `, sub id <b>${html(sub)}</b>` : ''} (the offer link's <code>#affid#</code> and <code>#s1#</code>).</p>`
      : '<p class="note">No affiliate in this URL: open the tracking link of the <a href="/demo/">demo</a> to arrive as a paid click.</p>';
    return page(
      c,
      offer.offer_name,
      `<h1>${html(offer.offer_name)}</h1>
${came}
${leadForm(c, offer)}
<p class="aside">A two-page funnel: <a id="step2" href="${DEMO_ROOT}/step2">continue on a second page</a>. Its URL carries no reqid; d.js keeps it in first-party storage (a cookie and localStorage on this site).</p>
${eventPixel(c, offer, offer.events[0])}`,
      dJs(c),
    );
  });

  app.get(at('/step2'), (c) =>
    page(
      c,
      `${offer.offer_name}: your details`,
      `<h1>${html(offer.offer_name)}: your details</h1>
<p class="note">Step 2 of 2. This page's URL has no reqid: d.js found it in first-party storage.</p>
${leadForm(c, offer)}
${eventPixel(c, offer, offer.events[1] ?? offer.events[0])}`,
      dJs(c),
    ),
  );

  app.get(at('/organic'), (c) => {
    const a = parseId(c.req.query('a')) ?? network.internal_affiliate_id;
    const s1 = clip(c.req.query('s1'), 50) ?? 'organic';
    const pixel = creative ? `${c.get('tracking')}/?a=${a}&c=${creative.creative_id}&cp=js&s1=${encodeURIComponent(s1)}` : null;
    return page(
      c,
      `${offer.offer_name} (organic)`,
      `${pixel ? `<script src="${html(pixel)}"></script>` : ''}
<h1>${html(offer.offer_name)}</h1>
<p class="note">Organic traffic: no tracking link. The JavaScript click pixel at the top of this page recorded a click for affiliate <b>${a}</b>, sub id <b>${html(s1)}</b>, and handed its reqid to d.js.</p>
${leadForm(c, offer)}`,
      dJs(c),
    );
  });

  app.get(at('/thanks'), (c) => {
    // The offer's thank-you URL carries the lead id as leadid (lead routers read that name).
    const lead = clip(c.req.query('leadid'), 64);
    const order: Record<string, string | number> = { offer_id: offer.offer_id };
    if (lead) order.transaction_id = lead;
    const fields = Object.entries(order).map(([k, v]) => `${k}: ${typeof v === 'number' ? v : jsString(v)}`);
    const reports = [
      lead ? link(api(c, 'leads.json', { lead_id: lead }), 'your lead') : '',
      link(api(c, 'click.json', {}), 'clicks (converted: true)'),
      link(api(c, 'conversions.json', reportDates()), 'conversions'),
      link(api(c, 'postback_deliveries.json', {}), 'postback deliveries'),
    ].filter(Boolean);
    return page(
      c,
      'Thank you',
      `<h1>Thank you!</h1>
<p>Your quote request is in${lead ? `: lead <b id="lead">${html(lead)}</b>` : ''}.</p>
<ol class="steps">
<li>The tracking link recorded the click and sent the browser to the landing page with its reqid.</li>
<li>d.js put the reqid into the form's <code>ckm_request_id</code>; the form posted to <code>/d.ashx</code>, which sent you here.</li>
<li>This page called <code>ckm('convert', { ${html(fields.join(', '))} })</code>: the <code>p.ashx</code> conversion pixel, once per order (a reload does not fire it again).</li>
<li>Crumb recorded the conversion and queued the affiliate's server-to-server postback.</li>
</ol>
<h2>What the affiliate's server received</h2>
<ul id="postbacks" class="log"><li>Waiting for the postback…</li></ul>
<p>${link(`${DEMO_ROOT}/postbacks`, 'Every postback received')}${reports.length ? ` · In the reports: ${reports.join(' · ')}` : ''}</p>`,
      dJs(c, `\nckm('convert', { ${fields.join(', ')} });`),
    );
  });

  // The stand-in for the affiliate's server: records what arrives (the last 100) and answers 200.
  app.on(['GET', 'POST'], DEMO_RECEIVER_PATH, (c) => {
    const url = new URL(c.req.url);
    received.unshift({
      at: new Date().toISOString(),
      method: c.req.method,
      url: (url.pathname + url.search).slice(0, MAX_POSTBACK_URL),
      query: Object.fromEntries([...url.searchParams].slice(0, 50).map(([k, v]) => [k.slice(0, 100), v.slice(0, 500)])),
    });
    received.length = Math.min(received.length, KEEP_POSTBACKS);
    return c.text('ok');
  });

  app.get(at('/postbacks.json'), (c) => c.json({ received }));
  app.get(at('/postbacks'), (c) => {
    const rows = received
      .map((r) => `<tr><td>${html(r.at.replace('T', ' ').slice(0, 19))}</td><td>${html(r.method)}</td><td><code>${html(r.url)}</code></td></tr>`)
      .join('\n');
    const deliveries = api(c, 'postback_deliveries.json', {});
    return page(
      c,
      "The affiliate's server",
      `<h1>Postbacks the affiliate's server received</h1>
<p>In demo mode Crumb gives the demo affiliate a server-to-server postback pointed here (<code>${html(DEMO_RECEIVER_PATH)}</code>), fired for every conversion on the offer. Newest first, the last ${KEEP_POSTBACKS}, kept in memory.${deliveries ? ` Crumb's side of it, every attempt: ${link(deliveries, 'postback_deliveries.json')}.` : ''}</p>
${rows ? `<table><thead><tr><th>Received (UTC)</th><th>Method</th><th>URL</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : '<p><b>None yet.</b> Walk the journey from the <a href="/demo/">demo page</a>, then reload this one.</p>'}`,
    );
  });

  app.get(at('/demo.js'), (c) => c.body(DEMO_JS, 200, { 'Content-Type': 'application/javascript; charset=utf-8' }));
  app.get(at('/demo.css'), (c) => c.body(DEMO_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  return app;
}

/** An engagement event of the offer, fired on every view of the page (demo.js loads it once d.js
 * has found the reqid): the pixel a landing page pastes. Nothing when the offer has no active one. */
function eventPixel(c: Context<Env>, offer: Offer, event: OfferEvent | undefined): string {
  if (event?.status !== 'active') return '';
  const src = `${c.get('tracking')}/p.ashx?f=img&o=${offer.offer_id}&e=${event.event_id}`;
  return `<p class="aside" id="event" data-pixel="${html(src)}">Engagement event ${event.event_id} (${html(event.event_name)}): fired on every view of this page, recorded once per click.</p>`;
}

/** form#ckm_form as a CAKE landing page has it: posts natively to /d.ashx with the offer id, an
 * (empty) ckm_request_id that d.js fills, and ckm_bp=1 so the session post redirects the browser
 * to the thank-you page; the second button posts it by AJAX instead (ckm('post'), demo.js). */
function leadForm(c: Context<Env>, offer: Offer): string {
  return `<form id="ckm_form" action="${html(c.get('tracking'))}/d.ashx" method="post">
<input type="hidden" name="ckm_offer_id" value="${offer.offer_id}">
<input type="hidden" name="ckm_request_id" value="">
<input type="hidden" name="ckm_bp" value="1">
${offer.fields.map(fieldInput).join('\n')}
<p class="buttons"><button type="submit" id="submit">Get my quote</button>
<button type="button" id="ajax-post">Get my quote (AJAX post)</button></p>
<p id="ajax-answer" class="answer" role="status"></p>
<p id="reqid-status" class="reqid">d.js has not run yet.</p>
</form>`;
}

const INPUT_TYPES: Record<OfferField['type'], string> = { text: 'text', number: 'number', email: 'email', phone: 'tel', zip: 'text', date: 'date', select: '' };
/** CAKE's standard field names (PROTOCOL.md 4) and what browsers fill into them. */
const AUTOCOMPLETE: Record<string, string> = {
  first_name: 'given-name',
  last_name: 'family-name',
  email_address: 'email',
  phone_home: 'tel',
  phone_work: 'work tel',
  phone_cell: 'mobile tel',
  address: 'address-line1',
  address_2: 'address-line2',
  city: 'address-level2',
  state: 'address-level1',
  zip_code: 'postal-code',
  country: 'country',
};

function fieldInput(field: OfferField): string {
  const name = html(field.name);
  const label = html(field.name.charAt(0).toUpperCase() + field.name.slice(1).replace(/_/g, ' '));
  const attrs = [`id="f-${name}"`, `name="${name}"`];
  if (field.required) attrs.push('required');
  if (AUTOCOMPLETE[field.name]) attrs.push(`autocomplete="${AUTOCOMPLETE[field.name]}"`);
  let control: string;
  if (field.type === 'select') {
    const options = (field.options ?? []).map((o) => `<option>${html(o)}</option>`).join('');
    control = `<select ${attrs.join(' ')}><option value="">Choose…</option>${options}</select>`;
  } else {
    attrs.push(`type="${INPUT_TYPES[field.type]}"`);
    if (field.max_length) attrs.push(`maxlength="${field.max_length}"`);
    if (field.type === 'zip') attrs.push('inputmode="numeric"');
    control = `<input ${attrs.join(' ')}>`;
  }
  return `<label for="f-${name}">${label}${field.required ? ' <span class="req">*</span>' : ''}</label>${control}`;
}

/** conversions.json needs a date range: yesterday to tomorrow (UTC) holds today everywhere. */
function reportDates(): Record<string, string> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  return { start_date: day(-1), end_date: day(1) };
}

/** The pages' own script (not d.js): shows what d.js did, posts by AJAX when asked, and lists the
 * postbacks the affiliate's server received. Writes text only (textContent), never HTML. */
const DEMO_JS = `(function () {
  var $ = function (id) { return document.getElementById(id); };
  var form = $('ckm_form'), status = $('reqid-status'), ajax = $('ajax-post'), answer = $('ajax-answer'), log = $('postbacks'), event = $('event');
  // The engagement event, once per view of this page, with the reqid d.js found (else the pixel
  // falls back to the tracking-domain cookie): once d.js has run, the real ckm in the stub's place.
  var fired = false;
  var fireEvent = function () {
    if (fired || !event || !window.ckm || String(window.ckm).indexOf('ckm.q') >= 0) return;
    fired = true;
    var field = form && form.querySelector('[name=ckm_request_id]');
    new Image().src = event.getAttribute('data-pixel') + (field && field.value ? '&r=' + encodeURIComponent(field.value) : '');
  };
  if (form && status) {
    var show = function () {
      var field = form.querySelector('[name=ckm_request_id]');
      status.textContent = field && field.value
        ? 'd.js filled ckm_request_id: ' + field.value
        : 'ckm_request_id is empty: no reqid in the URL, from a click pixel or in storage (the post will use the tracking cookie, else the internal affiliate).';
    };
    show();
    fireEvent();
    setInterval(function () { show(); fireEvent(); }, 250);
  }
  if (form && ajax) {
    ajax.addEventListener('click', function () {
      if (!form.reportValidity()) return;
      ajax.disabled = true;
      answer.textContent = 'Posting…';
      ckm('post', form, function (a) {
        ajax.disabled = false;
        if (a && a.code === 0 && /^https?:\\/\\//.test(a.redirect || '')) return location.assign(a.redirect);
        answer.textContent = a && a.code === 0 ? 'Lead ' + a.leadid + ' accepted.' : 'Not accepted: ' + JSON.stringify(a);
      });
    });
  }
  if (log) {
    var tries = 0;
    var poll = function () {
      fetch('${DEMO_ROOT}/postbacks.json').then(function (r) { return r.json(); }).then(function (body) {
        var list = (body.received || []).slice(0, 5);
        // Engagement events post back too, before the order does: keep looking for a minute.
        if (++tries < 60) setTimeout(poll, 1000);
        if (!list.length) return;
        log.textContent = '';
        list.forEach(function (p) {
          var li = document.createElement('li');
          li.textContent = p.at.replace('T', ' ').slice(0, 19) + ' UTC  ' + p.method + ' ' + p.url;
          log.appendChild(li);
        });
      }).catch(function () {});
    };
    poll();
  }
})();
`;

const DEMO_CSS = `body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #f5f6f8; }
header { padding: 10px 24px; background: #1d2330; color: #fff; font-size: 14px; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
main { max-width: 720px; margin: 24px auto; padding: 24px 32px; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { margin-top: 0; font-size: 26px; }
h2 { font-size: 19px; }
.note { padding: 8px 12px; background: #eef4ff; border-left: 3px solid #3d6fd8; }
form { display: grid; grid-template-columns: 10em 1fr; gap: 10px 12px; align-items: center; margin: 20px 0; }
label { font-weight: 600; }
.req { color: #c0392b; }
input, select { font: inherit; padding: 6px 8px; border: 1px solid #b8bfcc; border-radius: 4px; }
.buttons, .answer, .reqid { grid-column: 1 / 3; margin: 0; }
button { font: inherit; padding: 8px 16px; margin-right: 8px; border: 0; border-radius: 4px; background: #2f7d32; color: #fff; cursor: pointer; }
button#ajax-post { background: #3d6fd8; }
.reqid { font-size: 13px; color: #556; font-family: ui-monospace, Menlo, Consolas, monospace; }
.aside { font-size: 14px; color: #556; }
.log { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #dde; vertical-align: top; }
td code { word-break: break-all; }
code { font-size: 90%; }
`;
