// The dispatcher's drain(): what a runtime without a long-lived process (the Worker's waitUntil and
// Cron trigger, server/worker.ts) calls instead of start(): the same claims, attempts, backoff and
// log, bounded per call, to a real receiver on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { targetsOf } from '../../server/postbacks/address.js';
import { createDispatcher } from '../../server/postbacks/dispatcher.js';
import type { DeliveriesFor } from '../../server/store/types.js';
import { makeApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let receiver: Receiver | undefined;
let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  await receiver?.close();
});

function conversion(unique_id: string) {
  return {
    offer_id: 12345, advertiser_id: 5, affiliate_id: 67890, campaign_id: null, creative_id: null, reqid: null, lead_id: null,
    event_id: 0, conversion_time: Date.now(), click_time: null, payout_cents: 1800, revenue_cents: 2200, computed_payout_cents: 1800, computed_revenue_cents: 2200, amount_cents: null,
    status: 'approved' as const, scrub_reason: null, dedupe_key: unique_id, once_per_click: false, transaction_id: null, unique_id, order_id: null,
    adv1: null, adv2: null, adv3: null, adv4: null, adv5: null, s1: null, s2: null, s3: null, s4: null, s5: null, source: 'api' as const, ip: null, is_test: false,
  };
}

describe('dispatcher drain', () => {
  it('attempts what is due, at most the limit per call, and leaves retries to the call after they fall due', async () => {
    receiver = await startReceiver();
    receiver.answer(500);
    app = makeApp();
    const to = (base: string): DeliveriesFor => (row) => [{ postback_id: 1, conversion_id: row.conversion_id, fire_on: 'conversion', url: `${base}/pb?id=${row.conversion_id}` }];
    for (let i = 0; i < 5; i++) await app.store.insertConversion(conversion(`D-${i}`), to(receiver.base));

    // Due times are the database's clock's: a retry falls due after a real (short) backoff.
    const backoff = 400;
    const dispatcher = createDispatcher({ store: app.store, targets: () => targetsOf(app!.network.current), concurrency: 2, retryDelay: (failed) => failed * backoff });
    expect(await dispatcher.drain(3)).toBe(3);
    expect(receiver.requests).toHaveLength(3);
    expect(await dispatcher.drain()).toBe(2);
    expect(receiver.requests).toHaveLength(5);

    // The first attempt got a 500: pending, due again after the backoff, and nothing is due before.
    const { rows } = await app.store.listDeliveries({ status: 'pending', offset: 0, limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]!).toMatchObject({ attempts: 1, last_error: 'HTTP 500' });
    expect(rows[0]!.next_attempt_at).toBeGreaterThan(Date.now());
    expect(await dispatcher.drain()).toBe(0);
    await new Promise((r) => setTimeout(r, backoff + 100));
    expect(await dispatcher.drain()).toBe(1);
    const all = await app.store.listDeliveries({ offset: 0, limit: 10 });
    expect(all.rows.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
    expect(all.rows.find((d) => d.attempts === 2)?.attempt_log.map((a) => a.status_code)).toEqual([500, 200]);
  });
});
