// Finding the reqid: the landing URL, the JS click pixel (either load order), first-party
// storage, in that precedence; junk never taken. PROTOCOL.md sections 1 and 3.
import { describe, expect, it } from 'vitest';
import { fields, LANDING, openPage, OTHER_REQID, queueStub, REQID, stored } from './page.js';

const FORM = '<form id="ckm_form"><input name="email"></form>';

describe('the reqid from the landing URL', () => {
  for (const param of ['reqid', 'ckm_request_id', 'request_id', 'req_id']) {
    it(`is read from ${param}`, async () => {
      const page = await openPage({ url: `${LANDING}?${param}=${REQID}`, html: FORM });
      expect(fields(page)).toEqual([REQID]);
    });
  }

  it('is read from parameters named on the script tag (data-params)', async () => {
    const page = await openPage({ url: `${LANDING}?clickid=${REQID}`, html: FORM, config: { params: 'cid clickid' } });
    expect(fields(page)).toEqual([REQID]);
  });

  it('takes the parameters in order: reqid before ckm_request_id before request_id before req_id', async () => {
    const page = await openPage({ url: `${LANDING}?req_id=${OTHER_REQID}&reqid=${REQID}`, html: FORM });
    expect(fields(page)).toEqual([REQID]);
  });

  it('strips surrounding double quotes', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=%22${REQID}%22`, html: FORM });
    expect(fields(page)).toEqual([REQID]);
  });

  it('ignores what is not a reqid, and takes the next parameter that is one', async () => {
    const junk = ['%3Cscript%3E', 'a'.repeat(65), 'has%20space', ''];
    for (const value of junk) {
      const page = await openPage({ url: `${LANDING}?reqid=${value}`, html: FORM });
      expect(fields(page)).toEqual([]);
      expect(stored(page)).toBeNull();
    }
    const next = await openPage({ url: `${LANDING}?reqid=%3Cx%3E&req_id=${REQID}`, html: FORM });
    expect(fields(next)).toEqual([REQID]);
  });

  it('is kept in first-party storage, so the next page of the funnel has it', async () => {
    const landing = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    const next = await landing.reload({ url: 'https://lp.example.com/step-2', html: FORM });
    expect(fields(next)).toEqual([REQID]);
  });

  it('replaces a stored reqid: a new click', async () => {
    const first = await openPage({ url: `${LANDING}?reqid=${OTHER_REQID}` });
    const second = await first.reload({ url: `${LANDING}?reqid=${REQID}`, html: FORM });
    expect(fields(second)).toEqual([REQID]);
    const third = await second.reload({ url: 'https://lp.example.com/step-2' });
    expect(stored(third)).toMatch(new RegExp(`^${REQID}/`));
  });
});

describe('the reqid from the JS click pixel', () => {
  it('is read from its global when the pixel ran first', async () => {
    const page = await openPage({ html: FORM, before: (win) => ((win as any).ckm_request_id = REQID) });
    expect(fields(page)).toEqual([REQID]);
  });

  it("is taken from its ckm('reqid', …) call when the pixel runs after the script", async () => {
    const page = await openPage({ html: FORM });
    expect(fields(page)).toEqual([]);
    page.ckm('reqid', REQID);
    expect(fields(page)).toEqual([REQID]);
    expect(stored(page)).toMatch(new RegExp(`^${REQID}/`));
  });

  it('is taken from the queue when the pixel called the stub before the script loaded', async () => {
    const page = await openPage({ html: FORM, before: (win) => queueStub(win)('reqid', REQID) });
    expect(fields(page)).toEqual([REQID]);
  });

  it('accepts the quoted form and ignores an empty or junk one', async () => {
    const page = await openPage({ html: FORM });
    page.ckm('reqid', '');
    page.ckm('reqid', 'no good!');
    page.ckm('reqid', undefined);
    expect(fields(page)).toEqual([]);
    page.ckm('reqid', `"${REQID}"`);
    expect(fields(page)).toEqual([REQID]);
  });

  it('replaces a stored reqid', async () => {
    const first = await openPage({ url: `${LANDING}?reqid=${OTHER_REQID}` });
    const second = await first.reload({ url: 'https://lp.example.com/step-2', html: FORM, before: (win) => ((win as any).ckm_request_id = REQID) });
    expect(fields(second)).toEqual([REQID]);
  });

  it('does not replace a reqid of the landing URL, in either load order', async () => {
    const pixelFirst = await openPage({ url: `${LANDING}?reqid=${REQID}`, html: FORM, before: (win) => ((win as any).ckm_request_id = OTHER_REQID) });
    expect(fields(pixelFirst)).toEqual([REQID]);
    pixelFirst.ckm('reqid', OTHER_REQID);
    expect(fields(pixelFirst)).toEqual([REQID]);
    expect(stored(pixelFirst)).toMatch(new RegExp(`^${REQID}/`));
  });
});

describe('the reqid from storage', () => {
  it('is used when neither the URL nor the pixel has one', async () => {
    const first = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    const second = await first.reload({ url: 'https://lp.example.com/step-2', html: FORM });
    expect(fields(second)).toEqual([REQID]);
  });

  it('is not used once its days are over', async () => {
    const page = await openPage({
      html: FORM,
      before: (win) => win.localStorage.setItem('ckm_request_id', `${REQID}/${Date.now() - 1000}/`),
    });
    expect(fields(page)).toEqual([]);
  });

  it('is not used when the value under its name is not a record of the script (another script wrote it)', async () => {
    const page = await openPage({
      html: FORM,
      before: (win) => {
        win.document.cookie = `ckm_request_id=${OTHER_REQID}; path=/`;
        win.localStorage.setItem('ckm_request_id', '<b>junk</b>');
      },
    });
    expect(fields(page)).toEqual([]);
  });
});
