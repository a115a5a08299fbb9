// The one global: calls queued on the stub before the script loaded are replayed in order, then
// `ckm` is the real function; nothing else is added to window; nothing throws into the page.
import { describe, expect, it } from 'vitest';
import { BASE, LANDING, openPage, queueStub, REQID } from './page.js';

describe('the ckm queue', () => {
  it('replays the calls made before the script loaded, in order', async () => {
    const answers: unknown[] = [];
    const page = await openPage({
      html: '<form id="ckm_form"></form>',
      before: (win) => {
        const ckm = queueStub(win);
        ckm('convert', { offer_id: 1 });
        ckm('reqid', REQID);
        ckm('convert', { offer_id: 2 });
        ckm('post', { ckm_offer_id: '3' }, (answer: unknown) => answers.push(answer));
      },
    });
    // The first conversion ran before the pixel's reqid call, the second after it.
    expect(page.images.map((url) => Object.fromEntries(new URL(url).searchParams))).toEqual([
      { f: 'img', o: '1' },
      { f: 'img', o: '2', r: REQID },
    ]);
    expect(JSON.parse(page.posts[0]!.init.body as string)).toEqual({ ckm_offer_id: '3', ckm_request_id: REQID });
    expect(answers).toHaveLength(1);
  });

  it('replaces the stub with the real function, which runs calls at once', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}`, before: (win) => queueStub(win)('convert', { offer_id: 1 }) });
    const ckm = (page.win as any).ckm;
    expect(ckm.q).toBeUndefined();
    ckm('convert', { offer_id: 2 });
    expect(page.images).toEqual([`${BASE}/p.ashx?f=img&o=1&r=${REQID}`, `${BASE}/p.ashx?f=img&o=2&r=${REQID}`]);
  });

  it('adds nothing to window but ckm', async () => {
    let before: string[] = [];
    const page = await openPage({
      url: `${LANDING}?reqid=${REQID}`,
      html: '<form id="ckm_form"></form>',
      before: (win) => (before = Object.getOwnPropertyNames(win)),
    });
    page.ckm('convert', { offer_id: 1 });
    await new Promise((resolve) => page.ckm('post', { ckm_offer_id: '1' }, resolve));
    expect(Object.getOwnPropertyNames(page.win).filter((name) => !before.includes(name))).toEqual(['ckm']);
  });

  it('ignores unknown commands and bad arguments without throwing into the page', async () => {
    const page = await openPage();
    const ckm = (page.win as any).ckm;
    expect(() => {
      ckm('nonsense', 1, 2);
      ckm('post');
      ckm('post', null);
      ckm('convert', null);
      ckm('reqid', { toString: () => { throw new Error('hostile'); } });
      ckm();
    }).not.toThrow();
  });
});
