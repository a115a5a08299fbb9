// The OpenAPI 3.1 document of the v2 API (PROTOCOL.md 12), GET /api/openapi.json, built from the
// zod schemas the handlers validate with (z.toJSONSchema), so that what it says a call takes is
// what the call checks. Every route the app serves under /api/2/ is listed here (a test holds the
// app's routes against it); its examples are checked against the same schemas.
//
// Parameters are read from the query string and from a form or JSON body alike (params.ts), so a
// GET or DELETE lists them as query parameters and a POST or PUT as a body of either type. Answers
// are the envelope of section 7: `request_status` Success with the call's fields, or Failure with
// `message` (and `errors` naming each bad parameter).
import { z } from 'zod';
import { rolesFor } from '../auth.js';
import { ENTITIES, ENTITY_KINDS, networkFileSchema, settingsSchema } from '../network.js';
import { clickParams } from './clicks.js';
import * as conversions from './conversions.js';
import * as keys from './keys.js';
import { erasureParams, leadParams } from './leads.js';
import { changeParams, entityIdParams, entityListParams } from './network.js';
import * as postbacks from './postbacks.js';
import { summaryParams } from './reports.js';

type Method = 'get' | 'post' | 'put' | 'delete';

/** One call of the API, as documented. */
export interface Operation {
  method: Method;
  /** Under /api/2, such as /click.json. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** The parameters the handler checks (parseParams). */
  params?: z.ZodObject;
  /** A JSON body the handler checks as a whole (entities, settings, a network file). */
  body?: z.ZodType;
  /** Parameters of a call that work, checked against `params` by the tests. */
  example?: Record<string, string>;
  /** A body that works, checked against `body`. */
  bodyExample?: unknown;
}

const TODAY = '2026-11-21';
const REQID = '0PGcuVn0Q2Ckq5W5u1fGEC4x7XUMqrRY';

/** Every call of the v2 API. */
export function operations(): Operation[] {
  const ops: Operation[] = [
    {
      method: 'get',
      path: '/click.json',
      tag: 'Reports',
      summary: 'Clicks, in time order',
      description: 'At most 31 days a call; page with start_after (the previous page\'s next_start_after). click_id reads one click.',
      params: clickParams,
      example: { start_date: '2026-11-01', end_date: TODAY, affiliate_id: '67890', row_limit: '100' },
    },
    {
      method: 'get',
      path: '/reports/summary.json',
      tag: 'Reports',
      summary: 'Summary report: clicks, conversions and money grouped by day, hour, offer, affiliate, campaign, creative, advertiser, country or a sub id',
      description:
        'At most 366 days a call; days and hours are cut in time_zone (default: the network\'s). format=csv answers the same columns as CSV. Affiliate keys get their own rows, with payout and without revenue, profit or margin.',
      params: summaryParams,
      example: { start_date: '2026-11-01', end_date: TODAY, group_by: 'offer', time_zone: 'America/New_York', sort_field: 'clicks', sort_descending: 'true' },
    },
    {
      method: 'get',
      path: '/leads.json',
      tag: 'Reports',
      summary: 'Leads, with their fields',
      description: 'At most 92 days a call; test leads only with include_tests=true. Advertiser keys see their offers\' leads.',
      params: leadParams,
      example: { start_date: '2026-11-01', end_date: TODAY, offer_id: '12345' },
    },
    {
      method: 'delete',
      path: '/lead.json',
      tag: 'Privacy',
      summary: "Erase a person's data",
      description:
        'Removes the personal fields of every lead with this email (or of this lead and every lead with its email) and anonymises the addresses of their leads, clicks and conversions. Conversions and their money are kept. Answers what changed; asking again is harmless.',
      params: erasureParams,
      example: { email_address: 'jane@example.com' },
    },
    {
      method: 'get',
      path: '/conversion.json',
      tag: 'Conversions',
      summary: 'Record a server-to-server conversion for a click',
      params: conversions.recordParams,
      example: { click_id: REQID, offer_id: '12345', unique_id: 'ORDER-1001', amount: '49.90' },
    },
    {
      method: 'post',
      path: '/conversion.json',
      tag: 'Conversions',
      summary: 'Record a server-to-server conversion for a click (as GET)',
      params: conversions.recordParams,
      example: { click_id: REQID, offer_id: '12345', event_id: '2', unique_id: 'ORDER-1002' },
    },
    {
      method: 'put',
      path: '/conversion.json',
      tag: 'Conversions',
      summary: "Change a conversion's status",
      description: 'Fires the approval or rejection postbacks it causes. The money counted follows the status.',
      params: conversions.statusParams,
      example: { conversion_id: '1001', conversion_status: 'approved' },
    },
    {
      method: 'get',
      path: '/conversions.json',
      tag: 'Reports',
      summary: 'The conversion report',
      description: 'At most 366 days a call; page with start_after.',
      params: conversions.reportParams,
      example: { start_date: '2026-11-01', end_date: TODAY, conversion_status: 'approved', sort_field: 'conversion_date' },
    },
    {
      method: 'post',
      path: '/affiliate_postback.json',
      tag: 'Postbacks',
      summary: 'Create an affiliate postback',
      params: postbacks.createParams,
      example: { affiliate_id: '67890', offer_id: '0', postback_url: 'https://affiliate.example/pb?click=#reqid#&payout=#price#' },
    },
    { method: 'get', path: '/affiliate_postback.json', tag: 'Postbacks', summary: 'List affiliate postbacks', params: postbacks.listParams, example: { affiliate_id: '67890' } },
    {
      method: 'put',
      path: '/affiliate_postback.json',
      tag: 'Postbacks',
      summary: 'Change an affiliate postback (only the fields sent)',
      description: 'Deactivating a postback cancels its pending deliveries.',
      params: postbacks.updateParams,
      example: { postback_id: '7', postback_status: 'inactive' },
    },
    { method: 'delete', path: '/affiliate_postback.json', tag: 'Postbacks', summary: 'Delete an affiliate postback', params: postbacks.idParams, example: { postback_id: '7' } },
    {
      method: 'post',
      path: '/affiliate_postback_test.json',
      tag: 'Postbacks',
      summary: 'Send a server postback once with sample macros (a test)',
      description:
        'Every macro filled with a sample value (reqid TEST…, money 0.00, addresses 192.0.2.x, sub ids test; the postback\'s own affiliate and offer), sent once through the same sender and address rules as a delivery. Answers postback_test: postback_id, url, delivered, status_code, latency_ms, error (a short class, never the body). Creates no conversion and no delivery, and is not in the delivery log. Inactive postbacks can be tested; browser postbacks cannot. At most 4 tests in flight at once (429 past that).',
      params: postbacks.testParams,
      example: { postback_id: '7' },
    },
    {
      method: 'get',
      path: '/postback_deliveries.json',
      tag: 'Postbacks',
      summary: 'The postback outbox and every attempt',
      params: postbacks.deliveryParams,
      example: { status: 'failed', row_limit: '50' },
    },
    {
      method: 'post',
      path: '/postback_deliveries.json',
      tag: 'Postbacks',
      summary: 'Re-send a failed or cancelled delivery (once)',
      params: postbacks.resendParams,
      example: { delivery_id: '42' },
    },
    {
      method: 'post',
      path: '/api_keys.json',
      tag: 'Keys',
      summary: 'Create an API key (shown once)',
      params: keys.createParams,
      example: { role: 'affiliate', affiliate_id: '67890', label: 'reporting' },
    },
    { method: 'get', path: '/api_keys.json', tag: 'Keys', summary: 'List API keys (never the key itself)', params: keys.listParams, example: { status: 'active' } },
    { method: 'delete', path: '/api_keys.json', tag: 'Keys', summary: 'Revoke an API key', params: keys.idParams, example: { key_id: '3' } },
    { method: 'get', path: '/network.json', tag: 'Network', summary: 'Export the whole network (the network file\'s shape, without secrets)' },
    {
      method: 'put',
      path: '/network.json',
      tag: 'Network',
      summary: "Change the network's settings (only the fields sent)",
      description: 'Also how retention (retention_days), IP anonymisation (anonymize_ip) and request-id key rotation (reqid_keys) are set.',
      body: settingsSchema.partial(),
      bodyExample: {
        retention_days: { clicks: 395, delivery_attempts: 90, lead_fields: 730 },
        anonymize_ip: true,
        reqid_keys: [
          { key_id: '2026-12', secret: 'a-new-request-id-key-of-32-characters-or-more', status: 'current' },
          { key_id: 'base', status: 'retired' },
        ],
      },
    },
    {
      method: 'post',
      path: '/network.json',
      tag: 'Network',
      summary: 'Import a network file (an upsert, as --config at start)',
      body: networkFileSchema,
      bodyExample: {
        network: { name: 'Example Network', internal_affiliate_id: 1 },
        api_keys: ['an-admin-key-of-the-network'],
        tracking_domains: [{ tracking_domain_id: 1, domain: 'track.example.com', is_default: true }],
        affiliates: [{ affiliate_id: 1, affiliate_name: 'House' }],
        advertisers: [],
        offers: [],
        creatives: [],
        campaigns: [],
      },
    },
    {
      method: 'get',
      path: '/changes.json',
      tag: 'Network',
      summary: 'The change log of the network',
      params: changeParams,
      example: { entity: 'offers', start_date: '2026-11-01', end_date: TODAY },
    },
  ];
  for (const kind of ENTITY_KINDS) {
    const { schema, key, singular } = ENTITIES[kind];
    const name = singular.replace('_', ' ');
    const sample = ENTITY_EXAMPLES[kind];
    ops.push(
      { method: 'get', path: `/${kind}.json`, tag: 'Network', summary: `List ${kind.replace('_', ' ')}, or read one by ${key}`, params: entityListParams(kind), example: { row_limit: '100' } },
      { method: 'post', path: `/${kind}.json`, tag: 'Network', summary: `Create a ${name}`, body: schema, bodyExample: sample },
      {
        method: 'put',
        path: `/${kind}.json`,
        tag: 'Network',
        summary: `Change a ${name} (${key} and the fields sent)`,
        body: (schema as z.ZodObject).partial().required({ [key]: true } as Record<string, true> as never),
        bodyExample: { [key]: (sample as Record<string, unknown>)[key], [ENTITIES[kind].status]: 'inactive' },
      },
      {
        method: 'delete',
        path: `/${kind}.json`,
        tag: 'Network',
        summary: `Delete a ${name} without history (else deactivate it)`,
        params: entityIdParams(kind),
        example: { [key]: String((sample as Record<string, unknown>)[key]) },
      },
    );
  }
  return ops;
}

const ENTITY_EXAMPLES: Record<(typeof ENTITY_KINDS)[number], unknown> = {
  advertisers: { advertiser_id: 5, advertiser_name: 'Acme Solar' },
  affiliates: { affiliate_id: 67890, affiliate_name: 'Partner Media' },
  offers: { offer_id: 12345, offer_name: 'Solar quotes', advertiser_id: 5, offer_url: 'https://lp.example.com/?r=#reqid#', price_format: 'CPL', payout: 18.5, revenue: 25 },
  creatives: { creative_id: 1057, offer_id: 12345, creative_name: 'Banner 300x250' },
  campaigns: { campaign_id: 3870, affiliate_id: 67890, offer_id: 12345, ckm_key: 'Scrfdo7ZpJMNS89tiWtQq' },
  tracking_domains: { tracking_domain_id: 2, domain: 'go.example.com' },
};

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** The OpenAPI 3.1 document of every /api/2/ call. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations()) {
    const roles = rolesFor(op.method.toUpperCase(), op.path);
    const operation: Record<string, unknown> = {
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, `Keys: ${roles.join(', ')}.`].filter(Boolean).join('\n\n'),
      operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      'x-roles': roles,
      responses: {
        '200': { description: 'Success', content: { 'application/json': { schema: { $ref: '#/components/schemas/Success' } } } },
        '400': { description: 'A parameter is missing or wrong: errors name it', content: { 'application/json': { schema: { $ref: '#/components/schemas/Failure' } } } },
        '401': { description: 'No api_key, or not a key of this network', content: { 'application/json': { schema: { $ref: '#/components/schemas/Failure' } } } },
        '403': { description: "Outside this key's scope", content: { 'application/json': { schema: { $ref: '#/components/schemas/Failure' } } } },
      },
    };
    if (op.params) {
      const schema = jsonSchema(op.params) as { properties: Record<string, unknown>; required?: string[] };
      if (op.method === 'get' || op.method === 'delete') {
        operation.parameters = Object.entries(schema.properties).map(([name, s]) => ({
          name,
          in: 'query',
          required: schema.required?.includes(name) ?? false,
          schema: s,
          ...(op.example?.[name] !== undefined ? { example: op.example[name] } : {}),
        }));
      } else {
        operation.requestBody = {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema, ...(op.example ? { example: op.example } : {}) },
            'application/json': { schema, ...(op.example ? { example: op.example } : {}) },
          },
        };
      }
    }
    if (op.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(op.body), ...(op.bodyExample ? { example: op.bodyExample } : {}) } } };
    }
    (paths[`/api/2${op.path}`] ??= {})[op.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Crumb v2 API',
      version: '2',
      description:
        "The JSON API of a Crumb network (PROTOCOL.md 7, 9, 10, 12). Every call takes an API key as the api_key parameter (query, form or JSON body). Parameters may be sent in the query string or in a form or JSON body alike.",
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ api_key: [] }],
    tags: ['Reports', 'Conversions', 'Postbacks', 'Network', 'Keys', 'Privacy'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { api_key: { type: 'apiKey', in: 'query', name: 'api_key' } },
      schemas: {
        Success: {
          type: 'object',
          required: ['request_status'],
          properties: { request_status: { const: 'Success' } },
          additionalProperties: true,
        },
        Failure: {
          type: 'object',
          required: ['request_status', 'message'],
          properties: {
            request_status: { const: 'Failure' },
            message: { type: 'string', description: 'What went wrong and how to fix it' },
            errors: {
              type: 'array',
              items: { type: 'object', required: ['parameter', 'message'], properties: { parameter: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
