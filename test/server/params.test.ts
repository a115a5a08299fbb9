import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { BadParams, readParams } from '../../server/params.js';

const app = new Hono();
app.all('/echo', async (c) => {
  try {
    return c.json(await readParams(c));
  } catch (error) {
    if (error instanceof BadParams) return c.json({ errors: error.errors }, 400);
    throw error;
  }
});

const post = (body: string, type: string, query = '') =>
  app.request(`http://x/echo${query}`, { method: 'POST', body, headers: { 'content-type': type } });

describe('readParams', () => {
  it('merges the query string with a form body, the query winning a key in both', async () => {
    const res = await post('a=body&b=2', 'application/x-www-form-urlencoded', '?a=query&c=3');
    expect(await res.json()).toEqual({ a: 'query', b: '2', c: '3' });
  });

  it('merges the query string with a JSON body the same way', async () => {
    const res = await post(JSON.stringify({ a: 'body', b: 2, t: true, n: null }), 'application/json', '?a=query');
    expect(await res.json()).toEqual({ a: 'query', b: '2', t: 'true' });
  });

  it('reads a text/plain body that holds JSON (sendBeacon, d.js)', async () => {
    const res = await post('{"ckm_offer_id":"12345"}', 'text/plain;charset=UTF-8');
    expect(await res.json()).toEqual({ ckm_offer_id: '12345' });
  });

  it("takes keys named like Object's own properties as data", async () => {
    const res = await post('constructor=c&toString=t&__proto__=p', 'application/x-www-form-urlencoded', '?hasOwnProperty=h');
    // (JSON.parse: in an object literal, __proto__ would set the prototype instead of a key.)
    expect(await res.json()).toEqual(JSON.parse('{"hasOwnProperty":"h","constructor":"c","toString":"t","__proto__":"p"}'));
  });

  it('takes the first of a repeated form key', async () => {
    const res = await post('a=1&a=2', 'application/x-www-form-urlencoded');
    expect(await res.json()).toEqual({ a: '1' });
  });

  it('names the problem with a body that is not a JSON object', async () => {
    for (const [body, message] of [
      ['{"a":', 'is not valid JSON'],
      ['[1,2]', 'must be a JSON object of parameter names to values'],
      ['{"a":{"b":1}}', 'must be a single value, not an object or list'],
    ]) {
      const res = await post(body!, 'application/json');
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).errors[0].message).toBe(message);
    }
  });

  it('refuses a content type it cannot read with 415', async () => {
    const res = await post('x', 'application/octet-stream');
    expect(res.status).toBe(415);
  });
});
