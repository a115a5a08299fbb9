// The built dist/d.js itself (what /d.js serves), loaded by <script src> into happy-dom pages
// that run their scripts: the server is the script's own origin, lead posts and conversion
// pixels are recorded, storage carries over to a reload.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Window } from 'happy-dom';
import { afterEach, describe, expect, it } from 'vitest';
import { clickPixelScript } from '../../server/routes/click.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const TRACK = 'https://track.example.com';
const LANDING = 'https://lp.example.com/quote';
const REQID = 'Hk3vQ9xT2mPq8LrZ0aBcDe';
const ANSWER = { code: 0, msg: 'success', leadid: '0000002A', price: 18, redirect: 'https://lp.example.com/thanks?lead=0000002A' };

interface Post {
  url: string;
  contentType: string | null;
  credentials: string;
  body: unknown;
}

interface BundlePage {
  win: Window;
  /** Every URL the page fetched or tried to, d.js itself included. */
  requests: string[];
  /** Errors that reached the page (uncaught exceptions of its scripts). */
  errors: string[];
  images: string[];
  posts: Post[];
  /** The same page again in a new window with this one's cookies and localStorage. */
  reload(): Promise<BundlePage>;
}

const open: Window[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((win) => win.happyDOM.close()));
});

async function load(url: string, html: string, from?: Window): Promise<BundlePage> {
  const posts: Post[] = [];
  const images: string[] = [];
  const requests: string[] = [];
  const errors: string[] = [];
  const win = new Window({
    url,
    settings: {
      enableJavaScriptEvaluation: true,
      suppressInsecureJavaScriptEnvironmentWarning: true,
      fetch: {
        // d.js from dist/, as the server serves it, on the tracking domain and on a CDN.
        virtualServers: [
          { url: `${TRACK}/`, directory: DIST },
          { url: 'https://cdn.example.net/', directory: DIST },
        ],
        interceptor: {
          async beforeAsyncRequest({ request, window }) {
            requests.push(request.url);
            if (!request.url.startsWith(`${TRACK}/`) || !request.url.endsWith('/d.ashx')) return;
            posts.push({
              url: request.url,
              contentType: request.headers.get('content-type'),
              credentials: request.credentials,
              body: JSON.parse(await request.text()),
            });
            return new window.Response(JSON.stringify(ANSWER), {
              headers: {
                'Content-Type': 'application/json; charset=utf-8',
                'Access-Control-Allow-Origin': new URL(url).origin,
                'Access-Control-Allow-Credentials': 'true',
              },
            });
          },
        },
      },
    },
  });
  open.push(win);
  win.addEventListener('error', (event: any) => errors.push(String(event.error ?? event.message)));
  (win as any).Image = class {
    set src(value: string) {
      images.push(value);
    }
  };
  if (from) {
    for (const pair of from.document.cookie.split('; ').filter(Boolean)) win.document.cookie = `${pair}; path=/`;
    for (let i = 0; i < from.localStorage.length; i++) win.localStorage.setItem(from.localStorage.key(i)!, from.localStorage.getItem(from.localStorage.key(i)!)!);
  }
  win.document.write(html);
  await win.happyDOM.waitUntilComplete();
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { win, images, posts, requests, errors, reload: () => load(url, html, win) };
}

const STUB = `<script>window.ckm = window.ckm || function () { (ckm.q = ckm.q || []).push(arguments) };</script>`;
const D_JS = `<script async src="${TRACK}/d.js"></script>`;

describe('dist/d.js in a landing page', () => {
  it('fills form#ckm_form with the reqid of the landing URL and keeps it', async () => {
    const page = await load(`${LANDING}?reqid=${REQID}`, `${D_JS}<form id="ckm_form"><input name="email"></form>`);
    const field = page.win.document.querySelector('#ckm_form [name=ckm_request_id]') as any;
    expect(field?.type).toBe('hidden');
    expect(field?.value).toBe(REQID);
    expect(page.win.document.cookie).toContain(`ckm_request_id=${REQID}/`);
    expect(page.win.localStorage.getItem('ckm_request_id')).toMatch(new RegExp(`^${REQID}/`));
  });

  it('replays the queue in order and posts and converts against its own origin', async () => {
    const page = await load(
      `${LANDING}?reqid=${REQID}`,
      `${STUB}<script>
        ckm('convert', { offer_id: 12345, transaction_id: 'T-1', amount: 10 });
        ckm('post', { ckm_offer_id: '12345', email: 'jane@example.com' }, function (answer) { window.__answer = answer; });
      </script>${D_JS}`,
    );
    expect(page.images).toEqual([`${TRACK}/p.ashx?f=img&o=12345&t=T-1&r=${REQID}&p=10`]);
    expect(page.posts).toEqual([
      {
        url: `${TRACK}/d.ashx`,
        contentType: 'text/plain;charset=UTF-8',
        credentials: 'include',
        body: { ckm_offer_id: '12345', email: 'jane@example.com', ckm_request_id: REQID },
      },
    ]);
    expect((page.win as any).__answer).toEqual(ANSWER);
    expect((page.win as any).ckm.q).toBeUndefined();
  });

  it('takes the reqid of the JS click pixel, whichever script runs first', async () => {
    const pixel = `<script>${clickPixelScript(REQID)}</script>`;
    const fieldOf = (page: BundlePage) => (page.win.document.querySelector('[name=ckm_request_id]') as any)?.value;

    // The pixel first, on a page with the queue stub: its ckm('reqid', …) call waits in the queue.
    const queued = await load(LANDING, `${STUB}${pixel}${D_JS}<form id="ckm_form"></form>`);
    expect(fieldOf(queued)).toBe(REQID);

    // The pixel first, no stub: its global. (happy-dom keeps a script's top-level var local to
    // that script; a browser makes it a property of window, as this page does by hand.)
    const global = await load(LANDING, `<script>window.ckm_request_id = ${JSON.stringify(REQID)}</script>${D_JS}<form id="ckm_form"></form>`);
    expect(fieldOf(global)).toBe(REQID);

    // d.js first: the pixel's ckm('reqid', …) call reaches it.
    const scriptFirst = await load(LANDING, `${D_JS}<form id="ckm_form"></form>`);
    expect(fieldOf(scriptFirst)).toBeUndefined();
    const late = scriptFirst.win.document.createElement('script');
    late.textContent = clickPixelScript(REQID);
    scriptFirst.win.document.body.append(late);
    expect(fieldOf(scriptFirst)).toBe(REQID);
  });

  it('uses data-base as the server, wherever the script came from', async () => {
    const page = await load(
      `${LANDING}?reqid=${REQID}`,
      `<script async src="https://cdn.example.net/d.js" data-base="${TRACK}/" data-offer_id="12345"></script>`,
    );
    expect(page.images).toEqual([`${TRACK}/p.ashx?f=img&o=12345&r=${REQID}`]);
  });

  it('fires the conversion of its data attributes once, not again on a reload', async () => {
    const thanks = `<script async src="${TRACK}/d.js" data-offer_id="12345" data-event_id="2" data-transaction_id="A-77" data-amount="49.90" data-payout="4"></script>`;
    const page = await load(`https://lp.example.com/thanks?reqid=${REQID}`, thanks);
    expect(page.images).toEqual([`${TRACK}/p.ashx?f=img&o=12345&e=2&t=A-77&r=${REQID}&p=49.90&ap=4`]);
    const reloaded = await page.reload();
    expect(reloaded.images).toEqual([]);
  });

  it('adds nothing to window but ckm', async () => {
    const page = await load(`${LANDING}?reqid=${REQID}`, '<form data-ckm></form>');
    const before = Object.getOwnPropertyNames(page.win);
    const script = page.win.document.createElement('script');
    script.src = `${TRACK}/d.js`;
    page.win.document.head.append(script);
    await page.win.happyDOM.waitUntilComplete();
    expect(page.win.document.querySelector('[name=ckm_request_id]')).not.toBeNull();
    expect(Object.getOwnPropertyNames(page.win).filter((name) => !before.includes(name))).toEqual(['ckm']);
  });

  it('is one closed function (nothing declared at the top level of the page)', () => {
    const code = readFileSync(`${DIST}d.js`, 'utf8');
    expect(code.startsWith('(()=>{')).toBe(true);
    expect(code.trimEnd().endsWith('})();')).toBe(true);
  });

  it('pasted inline without data-base never throws: it fills forms from the URL and storage, and only what needs the server answers an error', async () => {
    const inline = `<script>${readFileSync(`${DIST}d.js`, 'utf8')}</script>`;
    const page = await load(
      `${LANDING}?reqid=${REQID}`,
      `${STUB}<form id="ckm_form"><input name="email"></form>${inline}
      <script>
        ckm('post', { ckm_offer_id: '12345', email: 'jane@example.com' }, function (answer) { window.__answer = answer; });
        ckm('convert', { offer_id: 12345, transaction_id: 'T-9' });
        window.__ran = true;
      </script>`,
    );
    expect(page.errors).toEqual([]);
    expect((page.win as any).__ran).toBe(true);
    expect((page.win.document.querySelector('#ckm_form [name=ckm_request_id]') as any)?.value).toBe(REQID);
    expect(page.win.localStorage.getItem('ckm_request_id')).toMatch(new RegExp(`^${REQID}/`));
    // The post answers an error to its callback; nothing was sent anywhere (the page's own site
    // included), and the pixel's URL is one no browser loads.
    expect((page.win as any).__answer).toEqual({ code: 1, msg: 'error', errors: ['Network Error'] });
    expect(page.posts).toEqual([]);
    expect(page.requests.filter((r) => !r.startsWith('x:'))).toEqual([]);
    expect(page.images.every((src) => src.startsWith('x:/p.ashx?'))).toBe(true);

    // The next page of the funnel, the same inline script, no reqid in its URL: from storage.
    const next = await load(LANDING, `<form id="ckm_form"></form>${inline}`, page.win);
    expect(next.errors).toEqual([]);
    expect((next.win.document.querySelector('#ckm_form [name=ckm_request_id]') as any)?.value).toBe(REQID);
  });
});
