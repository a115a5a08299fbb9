// A dead affiliate server (issue 9, item 3): the affiliate's postback endpoint is down for about a
// minute (refusing connections, and for a moment accepting them and never answering) while
// conversions arrive through every door (conversion.json, the p.ashx server pixel, a lead of an
// offer that pays per lead), and the tracker is killed (kill -9) with postbacks in flight and
// restarted in between. With the dispatcher's real schedule (first retry ~5 s, then ×3: ~15 s,
// ~45 s, each ±10%; an attempt cut by a crash is made again when its 40 s lease runs out), once the
// endpoint is back:
//   - every conversion's postback is delivered, at least once;
//   - by its conversion id, each is counted once: the affiliate sees exactly the conversions the
//     tracker acknowledged, none twice as different ids, none it never acknowledged;
//   - the delivery log (/api/2/postback_deliveries.json) shows the failed attempts, made by both
//     processes (before the kill and after the restart), then the one that got through; the
//     postbacks in flight at the kill reached the affiliate twice, and are counted once;
//   - an advertiser resending conversions during the outage adds no postback.
// Bounded: about a minute and a half.
import { afterEach, describe, expect, it } from 'vitest';
import { tempDbPath } from '../support/app.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { eventually, startReceiver, type Receiver } from '../support/receiver.js';
import { AFF, API_KEY, CREATIVE, HOST, OFFER, REPEAT } from '../support/network.js';
import { allConversions, allDeliveries, allLeads, report, writeNetworkFile } from './support.js';

/** How long the affiliate's server is down, from before the first conversion. Chosen against the
 * real schedule: the first batch's third retry (~65 s) must come after it, the hung batch's
 * second attempt after its lease (~46 s + 5 s) before it. */
const OUTAGE_MS = 56_000;
/** Conversions per door and batch: refused before the kill, hung at the kill, after the restart. */
const PER_DOOR = 6;
const HUNG_PER_DOOR = 2;

let server: ServerProcess | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
  await receiver?.close();
  receiver = undefined;
});

const parseDate = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`);

async function click(base: string, creative: number): Promise<string> {
  const res = await fetch(`${base}/?a=${AFF.partner}&c=${creative}&s1=dead`, { redirect: 'manual', headers: { host: HOST } });
  return new URL(res.headers.get('location')!).searchParams.get('reqid')!;
}

/** `count` conversions through each door; answers the acknowledged conversion ids and the
 * unique ids sent to conversion.json (for resending). */
async function batch(base: string, name: string, clicks: { lead: string; cpl: string }, count = PER_DOOR) {
  const ids: number[] = [];
  const uniqueIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const unique_id = `${name}-api-${i}`;
    const api = (await (
      await fetch(`${base}/api/2/conversion.json?${new URLSearchParams({ api_key: API_KEY, click_id: clicks.lead, offer_id: String(REPEAT.offer), unique_id })}`)
    ).json()) as any;
    expect(api).toMatchObject({ request_status: 'Success', duplicate: false });
    ids.push(api.conversion.conversion_id);
    uniqueIds.push(unique_id);

    const pixel = await fetch(`${base}/p.ashx?o=${REPEAT.offer}&r=${clicks.lead}&f=pb&t=${name}-px-${i}`, { headers: { host: HOST } });
    expect(await pixel.text()).toContain('<msg>SUCCESS</msg>');
    ids.push(Number(/^recorded conversion (\d+)/.exec(pixel.headers.get('x-crumb-result') ?? '')![1]));

    const lead = await fetch(`${base}/d.ashx`, {
      method: 'POST',
      headers: { host: HOST },
      body: new URLSearchParams({ ckm_offer_id: String(OFFER.cpl), ckm_request_id: clicks.cpl, first_name: 'Dead', email: `${name}-${i}@example.com` }),
    });
    const leadid = /<leadid>(\w+)<\/leadid>/.exec(await lead.text())![1]!;
    const leads = (await (await fetch(`${base}/api/2/leads.json?api_key=${API_KEY}&lead_id=${leadid}`)).json()) as any;
    ids.push(leads.response.leads[0].conversion_id);
  }
  return { ids, uniqueIds };
}

describe('a dead affiliate server', () => {
  it('gets every postback once it is back, each conversion at least once and by its id counted once, with the failed attempts in the delivery log', async () => {
    receiver = await startReceiver();
    await receiver.down();
    const downAt = Date.now();
    const db = tempDbPath();
    const config = writeNetworkFile();
    server = await startServer(['--config', config, '--db', db]);
    let base = server.url;

    const pb = await fetch(`${base}/api/2/affiliate_postback.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_url: `${receiver.base}/pb?c={conversion_id}&l=#leadid#&t=#tid#` }),
    });
    expect(pb.status).toBe(200);
    // Many conversions of one click: on an offer that counts every one (allow_duplicates).
    const clicks = { lead: await click(base, REPEAT.creative), cpl: await click(base, CREATIVE.cpl) };

    // Down (connection refused): the first batch's postbacks fail and are retried (~5 s later).
    const first = await batch(base, 'refused', clicks);
    await eventually(
      async () => {
        const rows = await allDeliveries(base);
        return rows.length === first.ids.length && rows.every((d) => d.attempts >= 2) ? rows : undefined;
      },
      30_000,
      'two failed attempts of every postback of the first batch',
    );

    // Then it accepts connections and never answers: the second batch's attempts hang, and the
    // tracker is killed (kill -9) with them in flight. The affiliate did get those requests.
    receiver.hang(true);
    await receiver.up();
    // Fewer than the dispatcher's limit per host (8 of its 32 concurrent attempts), so that all of
    // them are in flight.
    const hung = await batch(base, 'hung', clicks, HUNG_PER_DOOR);
    await receiver.waitFor(hung.ids.length, 15_000);
    await server.stop('SIGKILL');
    const killedAt = Date.now();
    receiver.hang(false);
    await receiver.down();
    const seenBeforeKill = receiver.requests.length;

    // Restarted on the same database, the tracker keeps taking conversions.
    server = await startServer(['--config', config, '--db', db]);
    const restartedAt = Date.now();
    base = server.url;
    const second = await batch(base, 'restarted', clicks);
    // The advertiser resends the first batch's conversions: duplicates, no new postback.
    for (const unique_id of first.uniqueIds) {
      const again = (await (
        await fetch(`${base}/api/2/conversion.json?${new URLSearchParams({ api_key: API_KEY, click_id: clicks.lead, offer_id: String(REPEAT.offer), unique_id })}`)
      ).json()) as any;
      expect(again.duplicate).toBe(true);
    }
    const acknowledged = [...first.ids, ...hung.ids, ...second.ids];
    expect(new Set(acknowledged).size).toBe(acknowledged.length);

    // Down for about a minute in all (the hung moment included), then back for good.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + OUTAGE_MS - Date.now())));
    expect(receiver.requests.length, 'nothing reached the affiliate while it was down').toBe(seenBeforeKill);
    await receiver.up();
    const upAt = Date.now();

    // Back up: each postback's next retry gets through (the hung ones once their lease ran out).
    const deliveries = await eventually(
      async () => {
        const rows = await allDeliveries(base);
        return rows.length === acknowledged.length && rows.every((d) => d.status === 'delivered') ? rows : undefined;
      },
      60_000,
      'every postback delivered after the outage',
    );

    // One outbox row per acknowledged conversion, and only for those.
    const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
    expect(sorted(deliveries.map((d) => d.conversion_id))).toEqual(sorted(acknowledged));
    const conversions = await allConversions(base);
    expect(sorted(conversions.map((c) => c.conversion_id))).toEqual(sorted(acknowledged));
    expect((await allLeads(base)).length).toBe(2 * PER_DOOR + HUNG_PER_DOOR);

    // The affiliate's side: every conversion at least once; counted by id, exactly the acknowledged ones.
    const received = receiver.requests.map((r) => Number(r.query.c));
    const counted = new Set(received);
    expect(sorted([...counted])).toEqual(sorted(acknowledged));
    for (const id of acknowledged) expect(received.filter((c) => c === id).length).toBeGreaterThanOrEqual(1);
    // The hung ones reached it twice: once before the kill (no answer ever logged), once after.
    for (const id of hung.ids) expect(received.filter((c) => c === id).length).toBe(2);
    for (const r of receiver.requests) expect(r.headers['user-agent']).toBe('Crumb-Postback/1');

    // The log: failed attempts (connection refused), then one that got a 200, for every postback.
    type Logged = { attempted_date: string; status_code: number | null; error: string | null };
    const sinceSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
    let failedAttempts = 0;
    for (const d of deliveries) {
      const log = d.attempt_log as Logged[];
      expect(log.length).toBe(d.attempts);
      const last = log.at(-1)!;
      expect(last).toMatchObject({ status_code: 200, error: null });
      expect(parseDate(last.attempted_date)).toBeGreaterThanOrEqual(sinceSecond(upAt));
      const failed = log.slice(0, -1);
      expect(failed.length).toBeGreaterThanOrEqual(1);
      for (const a of failed) {
        expect(a.status_code).toBeNull();
        expect(a.error).toBe('connection refused');
        expect(parseDate(a.attempted_date)).toBeLessThanOrEqual(upAt);
      }
      failedAttempts += failed.length;
    }
    const logOf = (ids: number[]) => deliveries.filter((d) => ids.includes(d.conversion_id)).map((d) => d.attempt_log as Logged[]);
    // The first batch was retried by both processes: before the kill and after the restart.
    for (const log of logOf(first.ids)) {
      const times = log.filter((a) => a.status_code === null).map((a) => parseDate(a.attempted_date));
      expect(times.some((t) => t <= killedAt)).toBe(true);
      expect(times.some((t) => t >= sinceSecond(restartedAt))).toBe(true);
    }
    // An attempt cut short by the kill is not in the log (it has no outcome); it was made again.
    for (const log of logOf(hung.ids)) {
      for (const a of log) expect(parseDate(a.attempted_date)).toBeGreaterThanOrEqual(sinceSecond(restartedAt));
    }

    report('dead affiliate server (SQLite, real retry schedule)', {
      'conversions sent': acknowledged.length + first.uniqueIds.length,
      'conversions acknowledged': acknowledged.length,
      'resent duplicates (no postback)': first.uniqueIds.length,
      'faults injected': `receiver down ${Math.round((upAt - downAt) / 1000)} s (refusing, then hanging), 1 kill -9 of the tracker with ${hung.ids.length} attempts in flight`,
      'failed attempts logged': failedAttempts,
      'postbacks delivered': deliveries.filter((d) => d.status === 'delivered').length,
      'postbacks undelivered': deliveries.filter((d) => d.status !== 'delivered').length,
      'requests at the affiliate': received.length,
      'repeat deliveries (at least once)': received.length - counted.size,
      'conversions counted by id': counted.size,
      'duplicates kept': conversions.length - new Set(conversions.map((c) => c.unique_id ?? c.transaction_id ?? c.lead_id)).size,
    });
  }, 180_000);
});
