// addedit.asmx (CAKE-CLASSIC-API.md 2.4): Offer, Campaign, Affiliate, Creative. `*_id=0` creates,
// another id changes that entity; on a change, empty parameters, `-1` for numbers and `0` for
// ids leave the field as it is (CAKE's sentinels). The writes are those of POST and PUT
// /api/2/{kind}.json (createWrite, updateWrite: the same schemas and rules), made through
// changeNetwork: checked against the whole network, versioned, live on every instance.
import { createWrite, updateWrite } from '../api/network.js';
import { keySource } from '../auth.js';
import type { Campaign, EntityKind, Network, Offer } from '../network.js';
import { changeNetwork } from '../network/change.js';
import type { NetworkWrite } from '../store/types.js';
import { ClassicError, amountCents, num, str, type ClassicCall, type Method } from './call.js';
import { bool, group, int, plainDoc } from './doc.js';
import { MEDIA_TYPE } from './shapes.js';

/** A number parameter of an edit: undefined (no change) when absent, empty or -1. */
function setting(p: Record<string, string>, name: string): number | undefined {
  const v = num(p, name);
  return v === undefined || v === -1 ? undefined : v;
}

/** An id parameter of an edit: undefined (no change) when absent, empty, 0 or -1. */
function idSetting(p: Record<string, string>, name: string): number | undefined {
  const v = setting(p, name);
  return v === 0 ? undefined : v;
}

function amount(p: Record<string, string>, name: string): number | undefined {
  const cents = amountCents(p, name);
  return cents === undefined || cents === -100 ? undefined : cents / 100;
}

/** Only the fields given: what an edit changes. */
function given(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Crumb's status from CAKE's status id: 1 active; 2 (inactive), 3 (pending) and 4 (an offer's
 * inactive) inactive. */
function statusOf(id: number | undefined, inactive: number[]): 'active' | 'inactive' | undefined {
  if (id === undefined) return undefined;
  return inactive.includes(id) ? 'inactive' : 'active';
}

/** Creates (`id` undefined) or changes one entity, plus what else the change writes; answers the
 * entity's id and whether it was created. */
async function save(
  call: ClassicCall,
  kind: EntityKind,
  id: number | undefined,
  fields: Record<string, unknown>,
  also: (network: Network, id: number) => NetworkWrite[] = () => [],
): Promise<{ id: number; created: boolean }> {
  let saved = id ?? 0;
  await changeNetwork(
    call.deps.store,
    call.deps.live,
    (current) => {
      const write = id === undefined ? createWrite(current, kind, fields) : updateWrite(current, kind, id, fields);
      saved = write.id;
      return [write, ...(id === undefined ? also(current, write.id) : [])];
    },
    { source: `${keySource(call.key)} (classic API)` },
    () => ({ entity: kind, id: saved }),
  );
  return { id: saved, created: id === undefined };
}

/** The entity to change (its id given and not 0), refusing an id that names none. */
function editing(call: ClassicCall, kind: EntityKind, idKey: string, label: string): number | undefined {
  const id = num(call.params, idKey) ?? 0;
  if (id < 0) throw new ClassicError(`Invalid ${label}: ${idKey} ${id} (0 creates one)`);
  if (id === 0) return undefined;
  if (!(call.deps.network.state[kind] as Map<number, unknown>).has(id)) throw new ClassicError(`Invalid ${label}: there is no ${label.toLowerCase()} ${id} (send ${idKey}=0 to create one)`);
  return id;
}

const offer: Method = {
  v2: 'POST /offers.json',
  root: 'offer_addedit_response',
  list: false,
  versions: [1, 6],
  async run(call) {
    const p = call.params;
    const network = call.deps.network;
    const id = editing(call, 'offers', 'offer_id', 'Offer');
    const before = id === undefined ? undefined : network.offers.get(id);
    const format = idSetting(p, 'price_format_id');
    if (format !== undefined && format !== 1 && format !== 5) throw new ClassicError(`Invalid price_format_id: ${format} (Crumb pays per action, 1 CPA, or a share of the sale, 5 RevShare)`);
    const price_format: Offer['price_format'] | undefined =
      format === undefined ? undefined : format === 5 ? 'RevShare' : before?.price_format === 'CPL' ? 'CPL' : 'CPA';
    const advertiser_id = idSetting(p, 'advertiser_id');
    if (advertiser_id !== undefined && !network.advertisers.has(advertiser_id)) throw new ClassicError(`Invalid Advertiser: there is no advertiser ${advertiser_id}`);
    const fields = given({
      offer_name: str(p, 'offer_name'),
      advertiser_id,
      status: statusOf(idSetting(p, 'offer_status_id'), [4]),
      price_format,
      payout: amount(p, 'payout'),
      revenue: amount(p, 'received'),
      offer_url: str(p, 'offer_link'),
      thank_you_url: str(p, 'thankyou_link'),
      cookie_days: idSetting(p, 'click_cookie_days'),
    });
    if (id === undefined) {
      for (const [name, field] of [['offer_name', 'offer_name'], ['advertiser_id', 'advertiser_id'], ['offer_link', 'offer_url']] as const) {
        if (fields[field] === undefined) throw new ClassicError(`${name} is required to create an offer`);
      }
    }
    // A new offer comes with a creative, as CAKE's does: its tracking link works at once.
    let creativeId: number | undefined;
    const saved = await save(call, 'offers', id, fields, (current, offer_id) => {
      const creative = createWrite(current, 'creatives', { offer_id, creative_name: `${String(fields.offer_name)} link` });
      creativeId = creative.id;
      return [creative];
    });
    const now = call.deps.network;
    const creative = creativeId ?? [...now.creatives.values()].find((c) => c.offer_id === saved.id)?.creative_id;
    return plainDoc('offer_addedit_response', `Offer ${saved.id} ${saved.created ? 'Created' : 'Updated'}`, [
      group('success_info', [int('offer_id', saved.id), int('offer_contract_id', saved.id), int('campaign_id', 0), int('creative_id', creative ?? 0)]),
    ]);
  },
};

const campaign: Method = {
  v2: 'POST /campaigns.json',
  root: 'campaign_addedit_response',
  list: false,
  versions: [1, 4],
  async run(call) {
    const p = call.params;
    const network = call.deps.network;
    const id = editing(call, 'campaigns', 'campaign_id', 'Campaign');
    const before: Campaign | undefined = id === undefined ? undefined : network.campaigns.get(id);
    const affiliate_id = idSetting(p, 'affiliate_id');
    if (affiliate_id !== undefined && !network.affiliates.has(affiliate_id)) throw new ClassicError('Invalid Affiliate');
    const offer_id = idSetting(p, 'offer_id');
    if (offer_id !== undefined && !network.offers.has(offer_id)) throw new ClassicError('Invalid Offer');
    if (id === undefined && affiliate_id === undefined) throw new ClassicError('Invalid Affiliate: affiliate_id is required to create a campaign');
    if (id === undefined && offer_id === undefined) throw new ClassicError('Invalid Offer: offer_id is required to create a campaign');
    const contract = idSetting(p, 'offer_contract_id');
    const offerOf = offer_id ?? before?.offer_id;
    if (contract !== undefined && contract !== offerOf) throw new ClassicError(`Invalid Offer Contract: offer ${offerOf} has one contract, ${offerOf}`);
    if (str(p, 'postback_url')) {
      throw new ClassicError('postback_url is not set through addedit Campaign in Crumb: set it with the affiliate API\'s SetPostbackURL or POST /api/2/affiliate_postback.json');
    }
    // payout with payout_update_option: change (or none given) sets it, remove goes back to the offer's.
    const option = (str(p, 'payout_update_option') ?? 'change').toLowerCase();
    const payout = option === 'remove' ? null : option === 'do_not_change' ? undefined : amount(p, 'payout');
    const fields = given({ affiliate_id, offer_id, status: statusOf(idSetting(p, 'account_status_id'), [2, 3]), payout: payout ?? undefined });
    // Removing the campaign's own payout (the key present, undefined): the offer's applies.
    if (payout === null) fields.payout = undefined;
    const saved = await save(call, 'campaigns', id, fields);
    const after = call.deps.network.campaigns.get(saved.id)!;
    return plainDoc('campaign_addedit_response', `Campaign ${saved.id} ${saved.created ? 'Created' : 'Updated'}`, [
      group('success_info', [
        int('campaign_id', saved.id),
        int('affiliate_id', after.affiliate_id),
        int('offer_id', after.offer_id),
        int('offer_contract_id', after.offer_id),
        int('media_type_id', MEDIA_TYPE.media_type_id),
        bool('original', true),
      ]),
    ]);
  },
};

const affiliate: Method = {
  v2: 'POST /affiliates.json',
  root: 'affiliate_addedit_response',
  list: false,
  versions: [1, 3],
  async run(call) {
    const p = call.params;
    const id = editing(call, 'affiliates', 'affiliate_id', 'Affiliate');
    const fields = given({ affiliate_name: str(p, 'affiliate_name'), status: statusOf(idSetting(p, 'account_status_id'), [2, 3]) });
    if (id === undefined && fields.affiliate_name === undefined) throw new ClassicError('affiliate_name is required to create an affiliate');
    const saved = await save(call, 'affiliates', id, fields);
    return plainDoc('affiliate_addedit_response', `Affiliate ${saved.id} ${saved.created ? 'Created' : 'Updated'}`, [int('affiliate_id', saved.id)]);
  },
};

const creative: Method = {
  v2: 'POST /creatives.json',
  root: 'creative_addedit_response',
  list: false,
  versions: [1, 2],
  async run(call) {
    const p = call.params;
    const id = editing(call, 'creatives', 'creative_id', 'Creative');
    const offer_id = idSetting(p, 'offer_id');
    if (offer_id !== undefined && !call.deps.network.offers.has(offer_id)) throw new ClassicError('Invalid Offer');
    if (id === undefined && offer_id === undefined) throw new ClassicError('Invalid Offer: offer_id is required to create a creative');
    const fields = given({
      offer_id,
      creative_name: str(p, 'creative_name'),
      offer_url: str(p, 'offer_link'),
      status: statusOf(idSetting(p, 'creative_status_id'), [2, 3, 4]),
    });
    const saved = await save(call, 'creatives', id, fields);
    return plainDoc('creative_addedit_response', `Creative ${saved.id} ${saved.created ? 'Created' : 'Updated'}`, [int('creative_id', saved.id)]);
  },
};

export const addeditMethods: Record<string, Method> = { Offer: offer, Campaign: campaign, Affiliate: affiliate, Creative: creative };
