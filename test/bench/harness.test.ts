// The benchmark harness (bench/): that its networks are ones Crumb accepts, that wrk's requests are
// filled from the templates and traffic and every success's id is read from the answers, and that
// the report says when the load generator was the limit. The bench is the measurement: nothing
// here asserts a rate or a latency.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { load, wrkVersion, type LoadResult } from '../../bench/load.js';
import { largeNetwork, smallNetwork } from '../../bench/network.js';
import { PATHS } from '../../bench/paths.js';
import { roundOrder } from '../../bench/order.js';
import { report, type Row } from '../../bench/report.js';
import { sqliteStore } from '../../bench/sqlite.js';
import { loadNetwork } from '../../server/network.js';
import { openSqliteStore } from '../../server/store/sqlite.js';

describe('the bench networks', () => {
  it('are valid network files, the large one at the size it claims', () => {
    const small = loadNetwork(smallNetwork().file);
    expect(small.offers.size).toBe(1);
    const large = loadNetwork(largeNetwork().file);
    expect([large.offers.size, large.affiliates.size, large.campaigns.size]).toEqual([10_000, 10_000, 50_000]);
  });

  it('spread the traffic over every campaign, each pair a link Crumb attributes', () => {
    const { file, pairs } = largeNetwork();
    const network = loadNetwork(file);
    const campaigns = new Set(
      pairs.map(({ a, c, offer }) => {
        expect(network.creatives.get(c)!.offer_id).toBe(offer);
        return network.campaignFor(a, offer)!.campaign_id;
      }),
    );
    expect(campaigns.size).toBe(50_000);
  });
});

const hasWrk = wrkVersion() !== null;
if (!hasWrk) console.warn('test/bench: wrk is not installed (apt-get install -y wrk): the load generator tests are skipped');

describe.skipIf(!hasWrk)('the load generator (wrk with bench/wrk.lua)', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(null)));
    server = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A server on 127.0.0.1 that keeps every request it got, answering each with `answer`. */
  async function serve(answer: (n: number, url: string, body: string) => { status: number; headers?: Record<string, string>; body?: string }) {
    const requests: { url: string; body: string }[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests.push({ url: req.url!, body });
        const a = answer(requests.length, req.url!, body);
        res.writeHead(a.status, a.headers);
        res.end(a.body);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, requests };
  }

  const ids = (x: LoadResult) => x.idFiles.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));

  it('fills the click template from the traffic and reads the reqid of every 302, counting the rest as failed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'crumb-harness-'));
    const given: string[] = [];
    const { url, requests } = await serve((n) => {
      if (n % 7 === 0) return { status: 500, body: 'broken on purpose' };
      const reqid = `r${String(n).padStart(31, '0')}`;
      given.push(reqid);
      return { status: 302, headers: { Location: `https://lp.example.com/?reqid=${reqid}&x=1` } };
    });
    writeFileSync(join(dir, 'traffic'), 'a c\n11 21\n12 22\n');
    const x = await load({ urls: [url], path: PATHS.click, data: join(dir, 'traffic'), connections: 4, seconds: 1, seq: 0, ids: join(dir, 'ids'), serverPids: [process.pid], dir });

    expect(requests.length).toBeGreaterThan(10);
    expect(new Set(requests.map((r) => r.url))).toEqual(new Set(['/?a=11&c=21&s1=bench', '/?a=12&c=22&s1=bench']));
    // Every success's id is written, and only ids the server gave; every other answer is failed.
    const written = ids(x);
    expect(written.length).toBe(x.answered);
    expect(x.answered).toBeGreaterThan(0);
    // A set, not arrayContaining: that compares every pair, minutes for the tens of thousands of
    // requests a quiet machine answers in a second.
    const issued = new Set(given);
    expect(written.filter((id) => !issued.has(id))).toEqual([]);
    expect(x.failed).toBeGreaterThan(0);
    expect(x.failure).toBe('500 broken on purpose');
    expect(x.answered + x.failed).toBe(x.requests);
  });

  it('posts the lead template with a new {n} and its hash {h} in every email, and reads the leadid only from a success', async () => {
    dir = mkdtempSync(join(tmpdir(), 'crumb-harness-'));
    const { url, requests } = await serve((n, _url, body) => {
      const form = new URLSearchParams(body);
      const ok = n % 5 !== 0 && form.get('ckm_request_id') === 'R1' && form.get('ckm_offer_id') === '77';
      const leadid = n.toString(16).toUpperCase();
      return ok
        ? { status: 200, body: `<result><code>0</code><msg>success</msg><leadid>${leadid}</leadid></result>` }
        : { status: 200, body: `<result><code>1</code><leadid>${leadid}</leadid></result>` };
    });
    writeFileSync(join(dir, 'traffic'), 'reqid offer\nR1 77\n');
    // A start as large as the bench's (a multiple of 10^9): n times the hash's multiplier passes 2^53.
    const seq = 3_000_000_000;
    const x = await load({ urls: [url], path: PATHS.lead, data: join(dir, 'traffic'), connections: 2, seconds: 1, seq, ids: join(dir, 'ids'), serverPids: [], dir });

    const forms = requests.map((r) => new URLSearchParams(r.body));
    expect(forms.every((f) => [...f.keys()].length === 12 && f.get('first_name') === 'Ada' && f.get('coverage') === 'full')).toBe(true);
    const emails = forms.map((f) => f.get('email')!);
    expect(new Set(emails).size).toBe(emails.length);
    expect(emails.every((e) => /^[0-9a-f]{8}\.\d+@bench\.example$/.test(e) && Number(/\.(\d+)@/.exec(e)![1]) > seq)).toBe(true);
    // {h} is n times 2654435761 modulo 2^32, exactly: no bits lost to a double's precision.
    const numbered = emails.map((e) => ({ n: BigInt(/\.(\d+)@/.exec(e)![1]!), h: e.slice(0, 8) })).sort((a, b) => Number(a.n - b.n));
    expect(numbered.every(({ n, h }) => h === ((n * 2654435761n) % 2n ** 32n).toString(16).padStart(8, '0'))).toBe(true);
    // In no order: fifty consecutive leads (a commit's worth) spread over the whole range, no two
    // on neighbouring values, as real emails fall on pages all over an email index.
    expect(numbered.length).toBeGreaterThan(50);
    const batch = numbered.slice(0, 50).map(({ h }) => parseInt(h, 16) / 2 ** 32).sort((a, b) => a - b);
    expect(batch[49]! - batch[0]!).toBeGreaterThan(0.9);
    expect(Math.min(...batch.slice(1).map((v, i) => v - batch[i]!))).toBeGreaterThan(0.001);
    // A refusal (code 1) carries a leadid too: it must not count.
    expect(ids(x).length).toBe(x.answered);
    expect(x.failed).toBeGreaterThan(0);
    expect(x.failure).toMatch(/^200 <result><code>1<\/code>/);
  });

  it('leaves the answers unread without an ids file, counting only statuses of 400 and more', async () => {
    dir = mkdtempSync(join(tmpdir(), 'crumb-harness-'));
    const { url } = await serve((n) => (n % 4 === 0 ? { status: 503 } : { status: 302, headers: { Location: '/x' } }));
    writeFileSync(join(dir, 'traffic'), 'a c\n11 21\n');
    const x = await load({ urls: [url], path: PATHS.click, data: join(dir, 'traffic'), connections: 2, seconds: 1, seq: 0, ids: null, serverPids: [], dir });
    expect(x.idFiles).toEqual([]);
    expect(x.failed).toBeGreaterThan(0);
    expect(x.answered + x.failed).toBe(x.requests);
  });

  it('stops with the reason when a template names a value the traffic lacks', async () => {
    dir = mkdtempSync(join(tmpdir(), 'crumb-harness-'));
    const { url } = await serve(() => ({ status: 200 }));
    writeFileSync(join(dir, 'traffic'), 'reqid\nR1\n');
    await expect(load({ urls: [url], path: PATHS.pixel, data: join(dir, 'traffic'), connections: 1, seconds: 1, seq: 0, ids: null, serverPids: [], dir })).rejects.toThrow(
      'the template names {offer}, which the traffic file has no column for',
    );
  });
});

describe('the store check', () => {
  it('finds an answered reqid that is not in the store, and counts only the bench clicks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crumb-harness-'));
    try {
      const store = openSqliteStore({ path: join(dir, 'crumb.db') });
      const click = (reqid: string, s1: string) => ({
        reqid,
        click_time: Date.now(),
        affiliate_id: 67890,
        offer_id: 12345,
        campaign_id: 3870,
        creative_id: 1057,
        s1,
        s2: null,
        s3: null,
        s4: null,
        s5: null,
        ip: '127.0.0.1',
        country: null,
        user_agent: null,
        referrer: null,
        tracking_domain_id: 1,
        visitor_id: null,
        disposition: 'redirect',
      });
      await store.recordClick(click('A'.repeat(32), 'bench'));
      await store.recordClick(click('B'.repeat(32), 'bench'));
      await store.recordClick(click('C'.repeat(32), 'pool'));
      await store.close();
      const check = await sqliteStore(dir).verify('click', ['A'.repeat(32), 'B'.repeat(32), 'D'.repeat(32)], 3);
      expect(check).toEqual({ stored: 2, missing: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the report', () => {
  const result = (rps: number, loadCpu: number): LoadResult => ({
    rps,
    p50: 1,
    p99: 2,
    max: 3,
    requests: rps,
    answered: rps,
    failed: 0,
    failure: null,
    errors: 0,
    idFiles: [],
    seconds: 1,
    loadCpu,
    serverCpu: 1,
    dbCpu: null,
  });
  const row = (bareCpu: number): Row => ({
    path: PATHS.click,
    network: 'small',
    instances: 1,
    crumb: [result(10_000, 0.4), result(12_000, 0.4), result(11_000, 0.4)],
    bare: [result(20_000, 0.5), result(20_000, bareCpu), result(20_000, 0.5)],
    hono: [result(16_000, 0.5), result(16_000, 0.5), result(16_000, 0.5)],
    rss: [100],
    answered: 33_000,
    idsWritten: 33_000,
    stored: 33_050,
    missing: 0,
    failed: 0,
    errors: 0,
    failure: null,
  });
  const info = { started: new Date(), wrk: 'wrk 4.1.0', store: 'sqlite' as const, connections: 50, rounds: 3, duration: 10, smoke: false };

  it('quotes the median of the per-round ratios to both baselines', () => {
    const text = report([row(0.5)], info);
    expect(text).toContain('| 0.50, 0.60, 0.55 | **0.55** | **0.69** |');
  });

  it('flags a round where the generator was above 90 % of its core, and says what that does to the ratio', () => {
    expect(report([row(0.5)], info)).toContain('In no round was the load generator above 90 % of its core');
    const text = report([row(0.95)], info);
    expect(text).toContain('**⚠ The load generator was above 90 % of its core** in click bare round 2 (95%)');
    expect(text).toContain("the generator's ceiling, not the baseline server's");
    expect(text).toContain('| 95% ⚠ / 50% / 40% |');
  });
});

describe('the Crumb the benchmark runs', () => {
  it('is started with the node flags npm start gives it', async () => {
    const { CRUMB_NODE_FLAGS } = await import('../../bench/processes.js');
    const start: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start;
    expect(CRUMB_NODE_FLAGS.length).toBeGreaterThan(0);
    expect(start).toContain(`node ${CRUMB_NODE_FLAGS.join(' ')} dist/server/node.js`);
  });
});

describe('the order of the servers in a round', () => {
  /** How often each server ran right after each other one, and in each position, over `rounds`. */
  const tally = (n: number, rounds: number) => {
    const after = new Map<string, number>();
    const at = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      const order = roundOrder(n, r);
      expect([...order].sort()).toEqual([...Array(n).keys()]);
      order.forEach((t, i) => {
        at.set(`${t}@${i}`, (at.get(`${t}@${i}`) ?? 0) + 1);
        if (i > 0) after.set(`${order[i - 1]}>${t}`, (after.get(`${order[i - 1]}>${t}`) ?? 0) + 1);
      });
    }
    return { after, at };
  };

  it('runs each server right after every other one equally often, and in every position (four servers, four rounds)', () => {
    const { after, at } = tally(4, 4);
    expect(after.size).toBe(12);
    expect(new Set(after.values())).toEqual(new Set([1]));
    expect(at.size).toBe(16);
  });

  it('balances an odd count over twice as many rounds', () => {
    const { after, at } = tally(3, 6);
    expect(after.size).toBe(6);
    expect(new Set(after.values())).toEqual(new Set([2]));
    expect(new Set(at.values())).toEqual(new Set([2]));
  });

  it('puts the large network after the small one as often as before it in the default three rounds', () => {
    // bare, Hono, small, large: the comparison the plain rotation biased.
    const { after } = tally(4, 3);
    expect(after.get('2>3')).toBe(1);
    expect(after.get('3>2')).toBe(1);
  });
});
