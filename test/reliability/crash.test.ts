// Crash (issue 9, item 1): session posts (/d.ashx, on an offer that pays per lead, so each lead is a
// conversion with a postback in the outbox) and server-to-server conversions (/api/2/conversion.json)
// at full speed against the built server, `kill -9` in the middle, restart on the same database:
//   - every request that got a success answer is in the store, by its id (lead ids and conversion
//     ids from the answers);
//   - nothing is half-written: every lead of the per-lead offer has its conversion, every
//     conversion its outbox row (a server postback is configured), every outbox row its conversion;
//   - the restarted server answers at once (its first requests, sent the moment it listens, succeed);
//   - clients that got no answer retry with the same email / unique_id: each is stored exactly
//     once (the retry is a duplicate when the first attempt was committed before the kill).
// For SQLite (group commit, WAL) and for PostgreSQL.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tempDbPath } from '../support/app.js';
import { describePostgres } from '../support/pg.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { AFF, API_KEY, CREATIVE, HOST, OFFER, REPEAT } from '../support/network.js';
import { allConversions, allDeliveries, allLeads, report, writeNetworkFile } from './support.js';

/** Requests in flight at once. */
const CONCURRENCY = 48;
/** Acknowledged requests before each kill. */
const KILL_AFTER = 800;
/** Kill and restart this many times. */
const CYCLES = 3;
/** The kill comes at the latest this long after the load started. */
const KILL_BY_MS = 15_000;

let server: ServerProcess | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
  await receiver?.close();
  receiver = undefined;
});

type Kind = 'lead' | 'conversion';

interface Outcome {
  kind: Kind;
  /** The email (lead) or unique_id (conversion): what the client retries with. */
  key: string;
  /** The lead id or conversion id the server answered, when it answered success. */
  id?: string;
  /** The server refused it (an answer that is not a success). */
  refused?: string;
  /** No answer: the connection failed (the kill). */
  failed?: string;
  status?: number;
}

async function click(base: string, creative: number): Promise<string> {
  const res = await fetch(`${base}/?a=${AFF.partner}&c=${creative}&s1=crash`, { redirect: 'manual', headers: { host: HOST } });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`click on creative ${creative}: ${res.status}`);
  return new URL(location).searchParams.get('reqid')!;
}

/** One session post or one conversion; never throws. */
async function send(base: string, kind: Kind, key: string, reqid: string): Promise<Outcome> {
  try {
    if (kind === 'lead') {
      const body = new URLSearchParams({ ckm_offer_id: String(OFFER.cpl), ckm_request_id: reqid, first_name: 'Crash', email: key });
      const res = await fetch(`${base}/d.ashx`, { method: 'POST', body, headers: { host: HOST } });
      const text = await res.text();
      const leadid = /<code>0<\/code>.*<leadid>(\w+)<\/leadid>/.exec(text)?.[1];
      return leadid ? { kind, key, id: leadid, status: res.status } : { kind, key, refused: text, status: res.status };
    }
    const query = new URLSearchParams({ api_key: API_KEY, click_id: reqid, offer_id: String(REPEAT.offer), unique_id: key });
    const res = await fetch(`${base}/api/2/conversion.json?${query}`);
    const text = await res.text();
    const answer = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {};
    return answer.request_status === 'Success'
      ? { kind, key, id: String(answer.conversion.conversion_id), refused: answer.duplicate ? 'duplicate' : undefined, status: res.status }
      : { kind, key, refused: text, status: res.status };
  } catch (error) {
    return { kind, key, failed: String((error as Error).cause ?? error) };
  }
}

async function crashAndRestart(label: string, db: string) {
  receiver = await startReceiver();
  const config = writeNetworkFile();
  server = await startServer(['--config', config, '--db', db]);
  let base = server.url;

  // A server postback for the partner on every offer: each conversion has an outbox row.
  const pb = await fetch(`${base}/api/2/affiliate_postback.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_url: `${receiver.base}/pb?c={conversion_id}&l=#leadid#` }),
  });
  expect(pb.status).toBe(200);
  const leadClicks = await Promise.all(Array.from({ length: 8 }, () => click(base, CREATIVE.cpl)));
  // Many conversions per click: on an offer that counts every one (allow_duplicates).
  const conversionClicks = await Promise.all(Array.from({ length: 8 }, () => click(base, REPEAT.creative)));
  const clickFor = (kind: Kind, i: number) => (kind === 'lead' ? leadClicks : conversionClicks)[i % 8]!;

  const outcomes: Outcome[] = [];
  const retries: { retry: Outcome; storedBefore: boolean }[] = [];
  const run = Date.now().toString(36);
  let n = 0;

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    // Full speed: CONCURRENCY clients, half posting leads, half conversions, until the kill.
    const cycleOutcomes: Outcome[] = [];
    let acknowledged = 0;
    let killed = false;
    const target = server!;
    const kill = () => {
      if (killed) return;
      killed = true;
      target.proc.kill('SIGKILL');
    };
    const killTimer = setTimeout(kill, KILL_BY_MS);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        const kind: Kind = worker % 2 ? 'lead' : 'conversion';
        while (!killed) {
          const i = n++;
          const key = kind === 'lead' ? `crash-${run}-${i}@example.com` : `crash-${run}-${i}`;
          const outcome = await send(base, kind, key, clickFor(kind, i));
          cycleOutcomes.push(outcome);
          if (outcome.id && ++acknowledged >= KILL_AFTER) kill();
        }
      }),
    );
    clearTimeout(killTimer);
    await target.stop('SIGKILL');
    expect(target.proc.signalCode).toBe('SIGKILL');
    outcomes.push(...cycleOutcomes);
    const unanswered = cycleOutcomes.filter((o) => o.failed);
    expect(unanswered.length, 'the kill came while requests were in flight').toBeGreaterThan(0);

    // Restart on the same database; its first requests go out the moment it listens.
    server = await startServer(['--config', config, '--db', db]);
    base = server.url;
    const [firstLead, firstConversion] = await Promise.all([
      send(base, 'lead', `crash-${run}-restart${cycle}@example.com`, leadClicks[0]!),
      send(base, 'conversion', `crash-${run}-restart${cycle}`, conversionClicks[0]!),
    ]);
    expect(firstLead.id, JSON.stringify(firstLead)).toBeDefined();
    expect(firstConversion.id, JSON.stringify(firstConversion)).toBeDefined();
    expect(firstConversion.refused).toBeUndefined();
    outcomes.push(firstLead, firstConversion);

    // Clients without an answer retry with the same email / unique_id.
    const leads = new Set((await allLeads(base)).map((l) => l.email as string));
    const conversions = new Set((await allConversions(base)).map((c) => c.unique_id as string));
    for (const o of unanswered) {
      const storedBefore = (o.kind === 'lead' ? leads : conversions).has(o.key);
      retries.push({ retry: await send(base, o.kind, o.key, clickFor(o.kind, 0)), storedBefore });
    }
  }

  const answered = outcomes.filter((o) => o.id);
  const unanswered = outcomes.filter((o) => o.failed);
  const refused = outcomes.filter((o) => !o.id && !o.failed);
  const fiveXX = [...outcomes, ...retries.map((r) => r.retry)].filter((o) => (o.status ?? 0) >= 500).length;
  expect(refused, 'nothing was refused under load').toEqual([]);
  expect(fiveXX).toBe(0);
  expect(answered.length).toBeGreaterThanOrEqual(CYCLES * Math.min(KILL_AFTER, 100));

  // Every acknowledged request is in the store, by the id it was answered with.
  const leads = await allLeads(base);
  const conversions = await allConversions(base);
  const deliveries = await allDeliveries(base);
  const leadById = new Map(leads.map((l) => [l.lead_id as string, l]));
  const conversionById = new Map(conversions.map((c) => [String(c.conversion_id), c]));
  const lost = answered.filter((o) => !(o.kind === 'lead' ? leadById.has(o.id!) : conversionById.has(o.id!)));
  expect(lost, 'acknowledged but not stored').toEqual([]);
  for (const o of answered.filter((o) => o.kind === 'lead')) expect(leadById.get(o.id!)!.email).toBe(o.key);
  for (const o of answered.filter((o) => o.kind === 'conversion')) expect(conversionById.get(o.id!)!.unique_id).toBe(o.key);

  // Nothing half-written, among everything stored (answered or not).
  const deliveriesOf = new Map<number, any[]>();
  for (const d of deliveries) deliveriesOf.set(d.conversion_id, [...(deliveriesOf.get(d.conversion_id) ?? []), d]);
  const leadIds = new Set(leads.map((l) => parseInt(l.lead_id, 16)));
  const halfWritten: string[] = [];
  for (const lead of leads) {
    const conversion = lead.conversion_id === null ? undefined : conversionById.get(String(lead.conversion_id));
    if (!conversion || conversion.lead_id !== parseInt(lead.lead_id, 16)) halfWritten.push(`lead ${lead.lead_id} without its conversion`);
  }
  for (const conversion of conversions) {
    if (conversion.lead_id !== null && !leadIds.has(conversion.lead_id)) halfWritten.push(`conversion ${conversion.conversion_id} of a lead that is not stored`);
    const rows = (deliveriesOf.get(conversion.conversion_id) ?? []).length;
    if (rows !== 1) halfWritten.push(`conversion ${conversion.conversion_id} with ${rows} outbox rows`);
  }
  for (const d of deliveries) if (!conversionById.has(String(d.conversion_id))) halfWritten.push(`outbox row ${d.delivery_id} without its conversion`);
  expect(halfWritten).toEqual([]);

  // A retry is a duplicate exactly when the first attempt was committed before the kill.
  for (const { retry, storedBefore } of retries) {
    if (retry.kind === 'lead') {
      if (storedBefore) expect(retry.refused ?? '', `retry of ${retry.key}`).toContain('Duplicate Lead');
      else expect(retry.id, `retry of ${retry.key}: ${retry.refused}`).toBeDefined();
    } else {
      expect(retry.id, `retry of ${retry.key}: ${retry.refused}`).toBeDefined();
      expect(retry.refused === 'duplicate', `retry of ${retry.key}`).toBe(storedBefore);
    }
  }
  // Each email and unique_id sent is stored exactly once.
  const emails = leads.map((l) => l.email as string);
  const uniqueIds = conversions.filter((c) => c.unique_id !== null).map((c) => c.unique_id as string);
  const duplicatesKept = emails.length - new Set(emails).size + (uniqueIds.length - new Set(uniqueIds).size);
  expect(duplicatesKept).toBe(0);
  const stored = new Set([...emails, ...uniqueIds]);
  const neverStored = [...new Set(outcomes.map((o) => o.key))].filter((key) => !stored.has(key));
  expect(neverStored, 'sent, retried, and still not stored').toEqual([]);

  report(`crash, kill -9 under load (${label})`, {
    'requests sent': outcomes.length + retries.length,
    acknowledged: answered.length,
    'faults injected': `${CYCLES} kill -9`,
    'in flight at the kills (no answer)': unanswered.length,
    'acknowledged but lost': lost.length,
    'half-written': halfWritten.length,
    '5xx': fiveXX,
    'retries that found their first attempt committed': retries.filter((r) => r.storedBefore).length,
    'duplicates kept': duplicatesKept,
  });
}

describe('crash: kill -9 under load, restart (SQLite)', () => {
  it('keeps every acknowledged lead and conversion, writes nothing by halves, and answers at once after the restart', async () => {
    await crashAndRestart('SQLite', tempDbPath());
  }, 120_000);
});

describePostgres('crash: kill -9 under load, restart (PostgreSQL)', (schemas) => {
  afterAll(() => schemas.dropAll());
  it('keeps every acknowledged lead and conversion, writes nothing by halves, and answers at once after the restart', async () => {
    await crashAndRestart('PostgreSQL', await schemas.create('crash'));
  }, 120_000);
});
