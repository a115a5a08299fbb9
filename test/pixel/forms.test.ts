// Lead forms: the ckm_request_id fields of form#ckm_form and of opted-in forms carry the reqid,
// for forms present at load or added later, and for a reqid that arrives later.
import { describe, expect, it } from 'vitest';
import { fields, LANDING, openPage, OTHER_REQID, REQID, settle } from './page.js';

const WITH_REQID = `${LANDING}?reqid=${REQID}`;

describe('form#ckm_form', () => {
  it('gets a hidden ckm_request_id input when it has none', async () => {
    const page = await openPage({ url: WITH_REQID, html: '<form id="ckm_form"><input name="email"></form>' });
    const input = page.doc.querySelector('#ckm_form [name=ckm_request_id]') as any;
    expect(input.type).toBe('hidden');
    expect(input.value).toBe(REQID);
    expect(page.doc.querySelectorAll('#ckm_form input')).toHaveLength(2);
  });

  it('has every empty ckm_request_id field filled, and no input added', async () => {
    const page = await openPage({
      url: WITH_REQID,
      html: '<form id="ckm_form"><input type="hidden" name="ckm_request_id"><input type="text" name="ckm_request_id" value=""></form>',
    });
    expect(fields(page)).toEqual([REQID, REQID]);
  });

  it('keeps a value the page set itself', async () => {
    const page = await openPage({ url: WITH_REQID, html: `<form id="ckm_form"><input type="hidden" name="ckm_request_id" value="${OTHER_REQID}"></form>` });
    expect(fields(page)).toEqual([OTHER_REQID]);
  });

  it('is left alone while no reqid is known', async () => {
    const page = await openPage({ html: '<form id="ckm_form"><input name="email"></form>' });
    expect(page.doc.querySelectorAll('#ckm_form input')).toHaveLength(1);
  });
});

describe('other forms', () => {
  it('get the reqid when they opt in with data-ckm', async () => {
    const page = await openPage({ url: WITH_REQID, html: '<form data-ckm><input name="email"></form><form id="ckm_form"></form>' });
    expect(fields(page)).toEqual([REQID, REQID]);
  });

  it('are left alone otherwise, even with a ckm_request_id field', async () => {
    const page = await openPage({ url: WITH_REQID, html: '<form id="search"><input name="ckm_request_id"></form><form></form>' });
    expect(fields(page)).toEqual(['']);
    expect(page.doc.querySelectorAll('input')).toHaveLength(1);
  });
});

describe('later', () => {
  it('a form added after the script ran is filled', async () => {
    const page = await openPage({ url: WITH_REQID });
    page.doc.body.insertAdjacentHTML('beforeend', '<div><form id="ckm_form"><input name="email"></form></div>');
    const nested = page.doc.createElement('form');
    nested.setAttribute('data-ckm', '');
    nested.innerHTML = '<input name="ckm_request_id">';
    page.doc.querySelector('div')!.append(nested);
    await settle();
    expect(fields(page)).toEqual([REQID, REQID]);
  });

  it('a reqid that arrives after load (the JS click pixel, async) fills the forms', async () => {
    const page = await openPage({ html: '<form id="ckm_form"></form><form data-ckm><input name="ckm_request_id"></form>' });
    expect(fields(page)).toEqual(['']);
    page.ckm('reqid', REQID);
    expect(fields(page)).toEqual([REQID, REQID]);
  });

  it('a reqid that replaces another updates the fields the script filled, not the page’s own', async () => {
    const first = await openPage({ url: WITH_REQID });
    const page = await first.reload({
      url: 'https://lp.example.com/step-2',
      html: '<form id="ckm_form"><input name="ckm_request_id"></form><form data-ckm><input name="ckm_request_id" value="page-own-value"></form>',
    });
    expect(fields(page)).toEqual([REQID, 'page-own-value']);
    page.ckm('reqid', OTHER_REQID);
    expect(fields(page)).toEqual([OTHER_REQID, 'page-own-value']);
  });
});
