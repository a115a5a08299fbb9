// GET /offers/{offer_id}/posting-doc: the offer's posting document (PROTOCOL.md 4), as an HTML page
// a person reads and copies from, or as JSON (Accept: application/json, or the .json suffix).
// Everything shown is escaped with html(), the network file's text included.
import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppDeps } from '../app.js';
import { html, isHttps, parseId } from '../http.js';
import { postingDoc, type PostingDoc } from '../leads/posting-doc.js';

export function postingDocRoutes(deps: AppDeps) {
  const app = new Hono();
  // A page of ours on the tracking domain: no scripts at all, styles inline only.
  app.use(
    '/offers/*',
    secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], baseUri: ["'none'"], formAction: ["'none'"] } }),
  );

  const answer = (c: Context, json: boolean) => {
    const text = c.req.param('offer_id') ?? '';
    const offer_id = parseId(text);
    const offer = offer_id === null ? undefined : deps.network.offers.get(offer_id);
    if (!offer) {
      const message = `There is no offer ${text} in this network: check the offer id in the link.`;
      return json ? c.json({ message }, 404) : c.html(page('Offer not found', `<p>${html(message)}</p>`), 404);
    }
    const doc = postingDoc(offer, trackingBase(deps, c));
    c.header('Cache-Control', 'no-cache');
    return json ? c.json(doc) : c.html(renderDoc(doc));
  };

  app.get('/offers/:offer_id/posting-doc.json', (c) => answer(c, true));
  app.get('/offers/:offer_id/posting-doc', (c) => answer(c, (c.req.header('accept') ?? '').includes('application/json')));
  return app;
}

/** The origin posts go to: the tracking domain this page was asked on (a configured, active one;
 * else the default), never the Host header as sent. */
function trackingBase(deps: AppDeps, c: Context): string {
  const { network } = deps;
  let domain = network.domainFor(c.req.header('host'));
  if (domain.domain_status !== 'active') {
    domain = network.tracking_domains.find((d) => d.is_default && d.domain_status === 'active') ??
      network.tracking_domains.find((d) => d.domain_status === 'active') ??
      domain;
  }
  return `${isHttps(c) ? 'https' : 'http'}://${domain.domain}`;
}

function renderDoc(doc: PostingDoc): string {
  const code = (text: string) => `<pre><code>${html(text)}</code></pre>`;
  const fieldRows = doc.fields
    .map(
      (f) =>
        `<tr><td><code>${html(f.name)}</code></td><td>${html(f.type)}</td><td>${f.required ? '<strong>required</strong>' : 'optional'}</td>` +
        `<td>${f.max_length}</td><td>${html(f.format)}</td><td><code>${html(f.sample)}</code></td></tr>`,
    )
    .join('\n');
  const keyRows = doc.post_keys
    .map((k) => `<tr><td><code>${html(k.name)}</code></td><td>${html(k.used_by)}</td><td>${html(k.meaning)}</td></tr>`)
    .join('\n');
  const methods = doc.methods
    .map(
      (m) => `<section id="${html(m.id)}">
<h3>${html(m.name)}</h3>
<p>${html(m.when)}</p>
<dl>
<dt>Request</dt><dd><code>${html(m.request)}</code></dd>
<dt>Keys</dt><dd>${m.keys.map((k) => `<code>${html(k)}</code>`).join(', ')}</dd>
<dt>Credit</dt><dd>${html(m.attribution)}</dd>
<dt>Answer</dt><dd>${html(m.answer)}</dd>
</dl>
${code(m.example)}
</section>`,
    )
    .join('\n');
  const errors = doc.answers.errors.map((e) => `<tr><td><code>${html(e.name)}</code></td><td>${html(e.meaning)}</td></tr>`).join('\n');
  const duplicates = doc.duplicate_days
    ? `The same email posted to this offer again within ${doc.duplicate_days} day${doc.duplicate_days === 1 ? '' : 's'} is answered <code>Duplicate Lead</code>.`
    : 'This offer does not check for duplicate leads.';
  const fieldNote = doc.field_list
    ? 'Other fields are ignored.'
    : 'This offer has no field list: it stores any fields posted (the ones below are examples), up to 50, each at most 1000 characters.';

  const body = `<h1>Posting document: ${html(doc.offer_name)} <small>(offer ${doc.offer_id})</small></h1>
${doc.offer_status === 'active' ? '' : `<p class="warn">This offer is ${html(doc.offer_status)}: it does not take leads now.</p>`}
<p>Post leads to <code>${html(doc.post_url)}</code>. ${duplicates} This document as JSON: <a href="posting-doc.json">posting-doc.json</a>.</p>

<h2>Fields</h2>
<p>${html(fieldNote)}</p>
<table><thead><tr><th>Name</th><th>Type</th><th>Required</th><th>Max length</th><th>Format</th><th>Sample</th></tr></thead>
<tbody>
${fieldRows}
</tbody></table>

<h2>Post keys</h2>
<table><thead><tr><th>Name</th><th>Used by</th><th>Meaning</th></tr></thead>
<tbody>
${keyRows}
</tbody></table>

<h2>Methods</h2>
${methods}

<h2>Samples</h2>
<h3>Post string (session post)</h3>
${code(doc.sample_post_string)}
<h3>JSON body</h3>
${code(JSON.stringify(doc.sample_json_body, null, 2))}
<h3>XML body</h3>
${code(doc.sample_xml_body)}

<h2>Updating a lead</h2>
<p>${html(doc.lead_update.when)}</p>
<p>Keys: ${doc.lead_update.keys.map((k) => `<code>${html(k)}</code>`).join(', ')}.</p>
<ul>${doc.lead_update.rules.map((r) => `<li>${html(r)}</li>`).join('')}</ul>
<h3>Post string (server post)</h3>
${code(doc.lead_update.sample_post_string)}
<h3>Post string (session post, flagging the lead for resale)</h3>
${code(doc.lead_update.sample_session_post_string)}

<h2>Events</h2>
${
  doc.events.length
    ? `<p>Besides the lead, this offer records these events, each with its own pay. By default a click is counted once per event: firing an event again for the same click (a page viewed twice) is answered as a duplicate and pays nothing more.</p>
<table><thead><tr><th>Event id</th><th>Name</th><th>Counted</th></tr></thead>
<tbody>
${doc.events.map((e) => `<tr><td><code>${e.event_id}</code></td><td>${html(e.event_name)}</td><td>${e.once_per_click ? 'once per click' : 'every time'}</td></tr>`).join('\n')}
</tbody></table>
${doc.events.map((e) => `<h3>${html(e.event_name)}: pixel, and server to server</h3>\n${code(e.pixel)}\n${code(e.server)}`).join('\n')}`
    : '<p>This offer records no events besides its conversion.</p>'
}

<h2>Testing</h2>
<ul>${doc.test_methods.map((t) => `<li>${html(t)}</li>`).join('')}</ul>

<h2>Answers</h2>
<h3>Success (XML)</h3>
${code(doc.answers.success_xml)}
<h3>Error (XML)</h3>
${code(doc.answers.error_xml)}
<h3>Success (JSON)</h3>
${code(doc.answers.success_json)}
<h3>Error (JSON)</h3>
${code(doc.answers.error_json)}
<h3>Redirect</h3>
<p>${html(doc.answers.redirect)}</p>
<h3>Errors</h3>
<p>An error answers <code>code</code> 1 with one or more of these names; <code>fields</code> says which field failed and how to fix it.
A body that cannot be read at all (malformed JSON or XML, too large, an unknown Content-Type) answers <code>Validation Failed</code> with a 4xx status.</p>
<table><thead><tr><th>Error</th><th>When</th></tr></thead>
<tbody>
${errors}
</tbody></table>`;
  return page(`Posting document: ${doc.offer_name}`, body);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { background: #f5f5f5; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
dt { font-weight: 600; } dd { margin: 0 0 .4rem 1rem; }
section { border-top: 1px solid #eee; margin-top: 1rem; }
.warn { background: #fff3cd; padding: .5rem; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
