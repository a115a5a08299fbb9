// track.asmx (CAKE-CLASSIC-API.md 2.3): UpdateConversion (and v6's UpdateConversionEvents) change a
// conversion's status through changeStatus, the function PUT /api/2/conversion.json uses (same
// scope, same approval and rejection postbacks), and what it earns (payout set or added to,
// received as received_option says) with the status, in the same transaction, counted while it is
// approved; a sale amount is not changed. MassConversionInsert records conversions for a campaign
// through recordConversion, the one place a conversion's money, status and postbacks are decided.
import { outOfScope } from '../auth.js';
import { changeStatus, recordConversion } from '../conversions/record.js';
import type { ConversionStatus } from '../store/types.js';
import { ClassicError, amountCents, dateParam, flag, idFilter, num, str, type ClassicCall, type Method } from './call.js';
import { plainDoc } from './doc.js';

const DISPOSITIONS: Record<string, ConversionStatus | null> = {
  no_change: null,
  approved: 'approved',
  pending: 'pending',
  rejected: 'rejected',
  returned: 'reversed',
};

function updateConversion(root: string): Method {
  return {
    v2: 'PUT /conversion.json',
    root,
    list: false,
    versions: [1, 6],
    async run(call) {
      const p = call.params;
      const { deps } = call;
      const conversion_id = idFilter(p, 'conversion_id');
      if (conversion_id === undefined) {
        throw new ClassicError('conversion_id is required: Crumb finds the conversion by its conversion_id (not by transaction_id or request_session_id)');
      }
      const row = (await deps.store.listConversions({ conversion_id, scope: call.scope, include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 1 })).rows[0];
      if (!row) {
        if (await deps.store.getConversion(conversion_id)) throw outOfScope(call.key, `Invalid conversion_id: conversion ${conversion_id} is outside this key's scope`);
        throw new ClassicError(`Invalid conversion_id: there is no conversion ${conversion_id}`);
      }
      const offer_id = idFilter(p, 'offer_id');
      if (offer_id !== undefined && offer_id !== row.offer_id) throw new ClassicError(`Invalid offer_id: conversion ${conversion_id} is of offer ${row.offer_id}`);
      const dispositionText = (str(p, 'disposition_type') ?? 'no_change').toLowerCase();
      if (!(dispositionText in DISPOSITIONS)) throw new ClassicError(`Invalid disposition_type: "${dispositionText}" is not one of ${Object.keys(DISPOSITIONS).join(', ')}`);
      // What it earns: payout set or added to (add_to_existing_payout); received as CAKE's
      // received_option says. Empty or -1: no change.
      const payout = amountCents(p, 'payout');
      const add = flag(p, 'add_to_existing_payout') ?? false;
      let payout_cents = row.computed_payout_cents;
      if (payout !== undefined && payout !== -100) payout_cents = add ? payout_cents + payout : payout;
      const option = (str(p, 'received_option') ?? 'no_change').toLowerCase();
      const received = amountCents(p, 'received') ?? 0;
      let revenue_cents = row.computed_revenue_cents;
      if (option === 'total_revenue') revenue_cents = received;
      else if (option === 'additional_revenue') revenue_cents += received;
      else if (option === 'total_sale_amount' || option === 'additional_sale_amount') {
        if (!(option === 'additional_sale_amount' && received === 0)) {
          throw new ClassicError('Crumb does not change a recorded sale amount: send received_option=total_revenue or additional_revenue to change the revenue; nothing was changed');
        }
      } else if (option !== 'no_change') {
        throw new ClassicError(`Invalid received_option: "${option}" is not one of total_revenue, additional_revenue, total_sale_amount, additional_sale_amount, no_change`);
      }
      if (payout_cents < 0 || revenue_cents < 0) throw new ClassicError('The payout and revenue may not fall below 0; nothing was changed');
      const status = DISPOSITIONS[dispositionText];
      // The money and the disposition in one transaction: both or neither, and a conversion
      // approved by this call counts the new money.
      const money = payout_cents !== row.computed_payout_cents || revenue_cents !== row.computed_revenue_cents ? { payout_cents, revenue_cents } : undefined;
      if (money || (status && status !== row.status)) {
        const changed = await changeStatus(deps, conversion_id, status ?? row.status, call.scope, money);
        if (!changed) throw new ClassicError(`Invalid conversion_id: there is no conversion ${conversion_id}`);
      }
      return plainDoc(root, 'Conversion Updated');
    },
  };
}

const MAX_INSERT = 1000;

/** Conversions without a click for a campaign (an affiliate's offline sales): admin keys only, as
 * they credit an affiliate with no click to check. */
const massConversionInsert: Method = {
  v2: 'admin',
  root: 'mass_conversion_insert_response',
  list: false,
  versions: [1, 3],
  async run(call: ClassicCall) {
    const p = call.params;
    const { deps } = call;
    const network = deps.network;
    const campaign_id = idFilter(p, 'campaign_id');
    if (campaign_id === undefined) throw new ClassicError('campaign_id is required: the campaign names the affiliate and the offer');
    const campaign = network.campaigns.get(campaign_id);
    if (!campaign) throw new ClassicError(`Invalid Campaign: there is no campaign ${campaign_id}`);
    const affiliate_id = idFilter(p, 'affiliate_id');
    if (affiliate_id !== undefined && affiliate_id !== campaign.affiliate_id) throw new ClassicError(`Invalid Affiliate: campaign ${campaign_id} is affiliate ${campaign.affiliate_id}'s`);
    const offer = network.offers.get(campaign.offer_id)!;
    const total = num(p, 'total_to_insert') ?? 1;
    if (total < 1 || total > MAX_INSERT) throw new ClassicError(`Invalid total_to_insert: ${total} is not between 1 and ${MAX_INSERT}`);
    const ids = (str(p, 'transaction_ids') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    if (ids.length > total) throw new ClassicError(`transaction_ids lists ${ids.length} ids for ${total} conversions (total_to_insert)`);
    const at = dateParam(p, 'conversion_date', network.time_zone) ?? deps.clock();
    if (at > deps.clock() + 86_400_000) throw new ClassicError('conversion_date is in the future');
    const payout = amountCents(p, 'payout');
    const revenue = amountCents(p, 'received');
    let duplicates = 0;
    for (let i = 0; i < total; i++) {
      const result = await recordConversion(deps, {
        offer,
        click: null,
        affiliate_id: campaign.affiliate_id,
        at,
        payout_cents: payout,
        revenue_cents: revenue,
        transaction_id: ids[i] ?? null,
        source: 'api',
        ip: null,
      });
      if (result.duplicate) duplicates++;
    }
    return plainDoc('mass_conversion_insert_response', duplicates ? `Conversions Inserted (${total - duplicates}; ${duplicates} repeated a transaction id recorded before)` : 'Conversions Inserted');
  },
};

export const trackMethods: Record<string, Method> = {
  UpdateConversion: updateConversion('conversion_update_response'),
  UpdateConversionEvents: updateConversion('conversion_update_response'),
  MassConversionInsert: massConversionInsert,
};
