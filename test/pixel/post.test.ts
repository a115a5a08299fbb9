// ckm('post', form or fields, callback): the AJAX lead post to /d.ashx (PROTOCOL.md section 4).
import { describe, expect, it } from 'vitest';
import { BASE, LANDING, openPage, REQID, SUCCESS, type Page } from './page.js';

const post = (page: Page, data: unknown) => new Promise<any>((resolve) => page.ckm('post', data, resolve));
const bodyOf = (page: Page, i = 0) => JSON.parse(page.posts[i]!.init.body as string);

describe("ckm('post')", () => {
  it('posts the fields as JSON, as a CORS simple request that survives leaving the page', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    await post(page, { ckm_offer_id: '12345', email: 'jane@example.com' });
    expect(page.posts).toHaveLength(1);
    const { url, init } = page.posts[0]!;
    expect(url).toBe(`${BASE}/d.ashx`);
    expect(init).toMatchObject({ method: 'POST', credentials: 'include', keepalive: true });
    // What the browser sends: a string body goes as text/plain;charset=UTF-8 (no preflight).
    const request = new Request(url, init);
    expect(request.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(bodyOf(page)).toEqual({ ckm_offer_id: '12345', email: 'jane@example.com', ckm_request_id: REQID });
  });

  it('hands the callback the parsed success answer', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    expect(await post(page, { ckm_offer_id: '12345' })).toEqual(SUCCESS);
  });

  it('posts every field of a form element, as strings, with the reqid from its field', async () => {
    const page = await openPage({
      url: `${LANDING}?reqid=${REQID}`,
      html: `<form id="ckm_form"><input type="hidden" name="ckm_offer_id" value="12345">
        <input name="first_name" value="Jane"><input name="age" value="42">
        <select name="coverage"><option>basic</option><option selected>full</option></select></form>`,
    });
    await post(page, page.doc.querySelector('form'));
    expect(bodyOf(page)).toEqual({ ckm_offer_id: '12345', first_name: 'Jane', age: '42', coverage: 'full', ckm_request_id: REQID });
  });

  it("keeps a ckm_request_id the page gave, and sends it empty while there is none (the server reads that as none)", async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    await post(page, { ckm_offer_id: '1', ckm_request_id: 'page-given' });
    expect(bodyOf(page).ckm_request_id).toBe('page-given');
    const anonymous = await openPage();
    await post(anonymous, { ckm_offer_id: '1' });
    expect(bodyOf(anonymous)).toEqual({ ckm_offer_id: '1', ckm_request_id: '' });
  });

  it('hands the callback the per-field errors', async () => {
    const errors = { code: 1, msg: 'error', errors: ['Validation Failed'], fields: { email: 'is not an email address' } };
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}`, answer: () => Response.json(errors, { status: 400 }) });
    expect(await post(page, { ckm_offer_id: '12345', email: 'nope' })).toEqual(errors);
  });

  it('hands the callback an error of the same shape when the network fails', async () => {
    const page = await openPage({
      answer: () => {
        throw new TypeError('Failed to fetch');
      },
    });
    expect(await post(page, { ckm_offer_id: '12345' })).toEqual({ code: 1, msg: 'error', errors: ['Network Error'] });
  });

  it('hands the callback the same error when the answer is not JSON', async () => {
    const page = await openPage({ answer: () => new Response('<html>502 Bad Gateway</html>', { status: 502 }) });
    expect(await post(page, { ckm_offer_id: '12345' })).toEqual({ code: 1, msg: 'error', errors: ['Network Error'] });
  });

  it('does not reload the page, and needs no callback', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    const href = page.win.location.href;
    page.ckm('post', { ckm_offer_id: '12345' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(page.posts).toHaveLength(1);
    expect(page.win.location.href).toBe(href);
  });
});
