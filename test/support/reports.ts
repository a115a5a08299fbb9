// Writing clicks and conversions straight into a store for the summary report tests, as the click
// path and conversion.json would have written them, at times the test chooses.
import { reqids, webCryptoMac } from '../../server/reqid.js';
import type { ClickRecord, ConversionRow, NewConversion, Store } from '../../server/store/types.js';
import { SECRET } from './network.js';

const ids = reqids(webCryptoMac(SECRET));

export async function click(store: Store, at: number, change: Partial<ClickRecord> = {}): Promise<ClickRecord> {
  const row: ClickRecord = {
    reqid: await ids.mint(at),
    click_time: at,
    affiliate_id: 67890,
    offer_id: 12345,
    campaign_id: 3870,
    creative_id: 1057,
    s1: null,
    s2: null,
    s3: null,
    s4: null,
    s5: null,
    ip: '198.51.100.7',
    country: 'US',
    user_agent: 'test',
    referrer: null,
    tracking_domain_id: 1,
    visitor_id: null,
    disposition: 'redirect',
    ...change,
  };
  await store.recordClick(row);
  return row;
}

/** A conversion of `of`: the money counted is the computed money while approved and not a test. */
export async function convert(
  store: Store,
  of: ClickRecord,
  at: number,
  change: Partial<NewConversion> & { payout?: number; revenue?: number } = {},
): Promise<ConversionRow> {
  const { payout = 0, revenue = 0, ...rest } = change;
  const status = rest.status ?? 'approved';
  const is_test = rest.is_test ?? false;
  const counts = status === 'approved' && !is_test;
  const conversion: NewConversion = {
    offer_id: of.offer_id!,
    advertiser_id: of.offer_id === 666 ? 6 : 5,
    affiliate_id: of.affiliate_id!,
    campaign_id: of.campaign_id,
    creative_id: of.creative_id,
    reqid: of.reqid,
    lead_id: null,
    event_id: 0,
    conversion_time: at,
    click_time: of.click_time,
    payout_cents: counts ? payout : 0,
    revenue_cents: counts ? revenue : 0,
    computed_payout_cents: payout,
    computed_revenue_cents: revenue,
    amount_cents: null,
    status,
    scrub_reason: null,
    dedupe_key: null,
    once_per_click: false,
    transaction_id: null,
    unique_id: null,
    order_id: null,
    adv1: null,
    adv2: null,
    adv3: null,
    adv4: null,
    adv5: null,
    s1: of.s1,
    s2: of.s2,
    s3: of.s3,
    s4: of.s4,
    s5: of.s5,
    source: 'api',
    ip: null,
    is_test,
    ...rest,
  };
  const made = await store.insertConversion(conversion, () => []);
  return made.conversion;
}
