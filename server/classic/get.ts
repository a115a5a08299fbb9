// get.asmx (CAKE-CLASSIC-API.md 2.4): the lookups clients read before anything else. Crumb has one
// currency and no verticals, so it answers the fixed values of a network that has one currency
// and one default vertical (README, "CAKE's classic API"), rather than an error that stops a client.
// Advertisers v1 is the network's advertisers, read as GET /api/2/advertisers.json reads them.
import { visibleEntities } from '../api/network.js';
import type { Advertiser } from '../network.js';
import { type Method } from './call.js';
import { CURRENCY, group, int, list, listDoc, ns2, text } from './doc.js';
import { VERTICAL } from './shapes.js';

const verticals: Method = {
  v2: 'GET /offers.json',
  root: 'vertical_response',
  list: true,
  versions: [1, 2],
  run(call) {
    const item = (name: string) => group(name, [int('vertical_id', VERTICAL.vertical_id), text('vertical_name', VERTICAL.vertical_name)]);
    // v1 has no envelope (ArrayOfVertical); v2 the usual list answer.
    if (call.version === 1) return { kind: 'array', root: 'ArrayOfVertical', items: [item('Vertical')] };
    return listDoc('vertical_response', 1, list('verticals', [item('vertical')]));
  },
};

const currencies: Method = {
  v2: 'GET /offers.json',
  root: 'currencies_response',
  list: true,
  versions: [1, 2],
  run() {
    const currency = group('currency', [
      ns2(int('currency_id', CURRENCY.currency_id)),
      ns2(text('currency_symbol', CURRENCY.currency_symbol)),
      ns2(text('currency_name', CURRENCY.currency_name)),
      ns2(text('currency_abbr', CURRENCY.currency_abbr)),
    ]);
    return listDoc('currencies_response', 1, list('currencies', [currency]));
  },
};

const advertisers: Method = {
  v2: 'GET /advertisers.json',
  root: 'ArrayOfAdvertiser',
  list: false,
  versions: [1, 1],
  run(call) {
    const all = (visibleEntities(call.deps.network, 'advertisers', call.key, call.scope) as Advertiser[]).sort((a, b) => a.advertiser_id - b.advertiser_id);
    return {
      kind: 'array',
      root: 'ArrayOfAdvertiser',
      items: all.map((a) => group('Advertiser', [int('advertiser_id', a.advertiser_id), text('advertiser_name', a.advertiser_name)])),
    };
  },
};

/** Crumb has no user logins: no user name and password lead to a key. CAKE answers an empty
 * string for credentials it does not know, which clients (PY) read as "bad credentials". */
const getApiKey: Method = {
  v2: 'GET /offers.json',
  root: 'string',
  list: false,
  versions: [1, 1],
  keyless: true,
  run() {
    return { kind: 'string', value: '' };
  },
};

export const getMethods: Record<string, Method> = { Verticals: verticals, Currencies: currencies, Advertisers: advertisers, GetAPIKey: getApiKey };
