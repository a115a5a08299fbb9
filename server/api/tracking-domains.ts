// GET /api/2/tracking_domains.json: the network file's tracking domains (PROTOCOL.md 7).
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { enumParam, idParam, parseParams, withoutEmpty } from '../params.js';
import { success, type Api } from './index.js';

const domainParams = z.object({
  tracking_domain_id: idParam.optional(),
  domain_status: enumParam(['active', 'inactive']).optional(),
});

export function trackingDomainApi(api: Api, deps: AppDeps) {
  api.get('/tracking_domains.json', (c) => {
    const p = parseParams(domainParams, withoutEmpty(c.get('params')));
    const domains = deps.network.tracking_domains.filter(
      (d) =>
        (p.tracking_domain_id === undefined || d.tracking_domain_id === p.tracking_domain_id) &&
        (p.domain_status === undefined || d.domain_status === p.domain_status),
    );
    // The domain served for any other host: the one marked default, else the first.
    const fallback = deps.network.domainFor(undefined);
    return success(c, {
      total_rows: domains.length,
      tracking_domains: domains.map((d) => ({
        tracking_domain_id: d.tracking_domain_id,
        domain: d.domain,
        domain_status: d.domain_status,
        is_default: d === fallback,
      })),
    });
  });
}
