// GET /api/openapi.json and /api/docs (PROTOCOL.md 12): the document covers every route the app
// serves under /api/2/ (and nothing it does not), its examples pass the schemas the calls validate
// with, and the reference page renders it with nothing fetched from elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../../server/api/openapi.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call } from '../support/keys.js';
import { API_KEY, HOST } from '../support/network.js';

let t: TestApp;
let doc: any;
beforeAll(async () => {
  t = makeApp();
  const res = await t.app.request(`http://${HOST}/api/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  doc = await res.json();
});
afterAll(() => t.close());

const served = () =>
  [...new Set(t.app.routes.filter((r) => r.path.startsWith('/api/2/') && r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path}`))].sort();
const documented = () => Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)).sort();

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document with the API key scheme', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.api_key).toEqual({ type: 'apiKey', in: 'query', name: 'api_key' });
  });

  it('documents every route the app serves under /api/2/, and only those', () => {
    expect(served().length).toBeGreaterThan(30);
    expect(documented()).toEqual(served());
  });

  it('names each operation once, and answers each with the envelope', () => {
    const ops = Object.values(doc.paths as Record<string, Record<string, any>>).flatMap((o) => Object.values(o));
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of ops) expect(op.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Success' });
  });

  it("gives each call's parameters as the schema that checks them", () => {
    const clicks = doc.paths['/api/2/click.json'].get;
    const start = clicks.parameters.find((p: any) => p.name === 'start_date');
    expect(start).toMatchObject({ in: 'query', schema: { type: 'string', pattern: expect.any(String) } });
    const erase = doc.paths['/api/2/lead.json'].delete;
    expect(erase['x-roles']).toEqual(['admin']);
    expect(erase.parameters.map((p: any) => p.name)).toEqual(['email_address', 'lead_id']);
    const status = doc.paths['/api/2/conversion.json'].put.requestBody.content['application/json'].schema;
    expect(status.required).toEqual(['conversion_id', 'conversion_status']);
    expect(status.properties.conversion_status.enum).toEqual(['approved', 'pending', 'rejected', 'reversed']);
    const settings = doc.paths['/api/2/network.json'].put.requestBody.content['application/json'].schema;
    expect(Object.keys(settings.properties)).toEqual(expect.arrayContaining(['retention_days', 'anonymize_ip', 'reqid_keys']));
    expect(doc.paths['/api/2/click.json'].get['x-roles']).toEqual(['admin', 'advertiser', 'affiliate']);
  });

  it('has examples that pass the schemas the calls validate with', () => {
    let checked = 0;
    for (const op of operations()) {
      if (op.params) {
        expect(op.example, `${op.method} ${op.path} has an example`).toBeDefined();
        const result = op.params.safeParse(op.example);
        expect(result.success, `${op.method} ${op.path}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
        checked++;
      }
      if (op.body) {
        const result = op.body.safeParse(op.bodyExample);
        expect(result.success, `${op.method} ${op.path}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('has examples a server takes: each listing example answers Success', async () => {
    // GET conversion.json records a conversion (its example names a click no test made).
    for (const op of operations().filter((o) => o.method === 'get' && o.example && o.path !== '/conversion.json')) {
      const res = await call(t, 'GET', op.path.slice(1), API_KEY, op.example!);
      expect(res.status, `${op.path}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });
});

describe('GET /api/docs', () => {
  it('renders every call, under a CSP that allows only its own stylesheet, linking nothing elsewhere', async () => {
    const res = await t.app.request(`http://${HOST}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    const html = await res.text();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(path);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toContain('<script');
    const css = await t.app.request(`http://${HOST}/api/docs.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
  });
});
