// Operations on the Node entry as `npm start` runs it: the log it writes (level flag, JSON or
// readable, nothing secret), and health and metrics on a real port.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDbPath } from '../support/app.js';
import { form } from '../support/leads.js';
import { API_KEY, CAMPAIGN, CREATIVE, AFF, HOST, POST_KEY, testNetworkFile } from '../support/network.js';
import { runEntry, startServer, type ServerProcess } from '../support/process.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

const PERSON = { first_name: 'Philomena', last_name: 'Thistlewood', email: 'philo.thistle@mailbox.example', phone: '+44 20 7946 0958', zip: '90210' };

function networkFile(): string {
  const file = `${tempDbPath()}.json`;
  writeFileSync(file, JSON.stringify(testNetworkFile()));
  return file;
}

/** What the server printed after its banner: its log. */
function logLines(output: string): string[] {
  return output.split('\n').filter((line) => line && !line.startsWith('Crumb is listening') && !line.startsWith('  '));
}

const get = (path: string, init: RequestInit = {}) => fetch(`${server!.url}${path}`, { redirect: 'manual', ...init, headers: { host: HOST, ...init.headers } });

async function settled(predicate: () => boolean) {
  for (let i = 0; i < 100 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the log of a server process', () => {
  it('writes JSON lines (its output is not a terminal) with --log-level debug, a line per request, nothing secret', async () => {
    server = await startServer(['--config', networkFile(), '--db', tempDbPath(), '--log-level', 'debug']);
    await get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=${encodeURIComponent(PERSON.email)}`);
    await get(`/d.ashx?${form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...PERSON })}`);
    await get(`/api/2/leads.json?api_key=${API_KEY}`);
    await get('/metrics', { headers: { authorization: `Bearer ${API_KEY}` } });
    await get('/healthz');
    await settled(() => logLines(server!.output()).length >= 5);

    const output = server.output();
    for (const secret of [API_KEY, POST_KEY, ...Object.values(PERSON)]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(encodeURIComponent(secret));
    }
    const records = logLines(output).map((line) => JSON.parse(line));
    expect(records.map((r) => `${r.level} ${r.route} ${r.status}`)).toEqual([
      'debug / 302',
      'debug /d.ashx 200',
      'info /api/2/leads.json 200',
      'debug /metrics 200',
      'debug /healthz 200',
    ]);
    for (const r of records) {
      expect(r.instance).toMatch(/^.+:\d+$/);
      expect(r.msg).toBe('request');
      expect(typeof r.ms).toBe('number');
    }
  });

  it('logs API calls but no clicks at the default level, and only warnings with CRUMB_LOG_LEVEL=warn', async () => {
    server = await startServer(['--config', networkFile(), '--db', tempDbPath()]);
    await get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    await get(`/api/2/click.json?api_key=${API_KEY}`);
    await settled(() => logLines(server!.output()).length >= 1);
    expect(logLines(server.output()).map((l) => JSON.parse(l).route)).toEqual(['/api/2/click.json']);
    await server.stop('SIGKILL');

    server = await startServer(['--config', networkFile(), '--db', tempDbPath()], { env: { CRUMB_LOG_LEVEL: 'warn' } });
    await get(`/api/2/click.json?api_key=${API_KEY}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logLines(server.output())).toEqual([]);
  });

  it('writes readable lines with --log-format pretty', async () => {
    server = await startServer(['--config', networkFile(), '--db', tempDbPath(), '--log-format', 'pretty']);
    await get(`/api/2/click.json?api_key=${API_KEY}&row_limit=2`);
    await settled(() => logLines(server!.output()).length >= 1);
    expect(logLines(server.output())).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/api\/2\/click\.json\?api_key=\[redacted\]&row_limit=2 200 [\d.]+ ms$/)]);
  });

  it('logs its shutdown as a line of its own', async () => {
    server = await startServer(['--config', networkFile(), '--db', tempDbPath()]);
    expect(await server.stop('SIGTERM')).toBe(0);
    const [line] = logLines(server.output()).map((l) => JSON.parse(l));
    expect(line).toMatchObject({ level: 'info', signal: 'SIGTERM', msg: 'SIGTERM: finishing requests in flight, then closing the store' });
  });

  it('refuses an unknown level or format, naming the choices', async () => {
    const level = await runEntry(['--log-level', 'loud', '--port', '0']);
    expect(level.code).toBe(1);
    expect(level.output).toContain('--log-level must be one of trace, debug, info, warn, error, fatal, silent, not loud');
    const format = await runEntry(['--log-format', 'xml', '--port', '0']);
    expect(format.code).toBe(1);
    expect(format.output).toContain('--log-format must be json or pretty, not xml');
  });
});

describe('health and metrics of a server process', () => {
  it('answers /healthz and /readyz, and /metrics only with a key', async () => {
    server = await startServer(['--config', networkFile(), '--db', tempDbPath()]);
    expect(await (await get('/healthz')).text()).toBe('ok\n');
    expect(await (await get('/readyz')).text()).toBe('ready\n');
    expect((await get('/metrics')).status).toBe(401);
    await get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const metrics = await (await get(`/metrics?api_key=${API_KEY}`)).text();
    expect(metrics).toContain('crumb_clicks_recorded_total{attributed="true"} 1');
    expect(metrics).toContain('crumb_http_requests_total{route="/",status="302"} 1');
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \S+$/m);
  });
});
