// How long a network change takes to apply (issue 13): an affiliate and its campaign created through
// the API, then a tracking link for them. Timed on each network size: the two answers (each change
// is checked against the whole network and written as a new version before it answers), and when
// the link is attributed on every instance: at once on the one that made the change, after its next
// poll of the version on the others (PostgreSQL).
import { fmt, median } from './report.js';

export interface ChangeSample {
  /** Milliseconds to answer POST affiliates.json, then POST campaigns.json. */
  affiliate: number;
  campaign: number;
  /** Per instance, milliseconds from the campaign's answer to the first attributed click there. */
  live: number[];
}

export interface ChangeTarget {
  urls: string[];
  apiKey: string;
  /** An offer of the network and a creative of it: the new campaign's tracking link. */
  offer: number;
  creative: number;
  /** How long another instance may take to have the change before the run fails (default 10 s). */
  liveWithinMs?: number;
}

async function post(url: string, path: string, apiKey: string, fields: Record<string, string | number>) {
  const body = new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)]));
  const started = performance.now();
  const res = await fetch(`${url}/api/2/${path}?api_key=${apiKey}`, { method: 'POST', body });
  const answer = (await res.json()) as Record<string, unknown> & { request_status?: string };
  const ms = performance.now() - started;
  if (res.status !== 200 || answer.request_status !== 'Success') throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
  return { answer, ms };
}

/** Whether a tracking link for the affiliate is attributed there (its landing page names it). */
async function attributed(url: string, affiliate: number, creative: number): Promise<boolean> {
  const res = await fetch(`${url}/?a=${affiliate}&c=${creative}&s1=change`, { redirect: 'manual' });
  await res.arrayBuffer();
  return res.status === 302 && (res.headers.get('location') ?? '').includes(`aff=${affiliate}&`);
}

async function liveAfter(url: string, affiliate: number, creative: number, since: number, within: number): Promise<number> {
  for (;;) {
    if (await attributed(url, affiliate, creative)) return performance.now() - since;
    if (performance.now() - since > within) throw new Error(`a new campaign was not live on ${url} after ${within} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function timeChanges(target: ChangeTarget, count: number, label: string): Promise<ChangeSample[]> {
  const samples: ChangeSample[] = [];
  const [first] = target.urls;
  if (!first) throw new Error('timeChanges needs a Crumb URL');
  for (let i = 0; i < count; i++) {
    const affiliate = await post(first, 'affiliates.json', target.apiKey, { affiliate_name: `Bench change ${label} ${i + 1}` });
    const affiliate_id = (affiliate.answer.affiliate as { affiliate_id: number }).affiliate_id;
    const campaign = await post(first, 'campaigns.json', target.apiKey, { affiliate_id, offer_id: target.offer });
    const answered = performance.now();
    // The instance that made the change must have it for the very next request.
    if (!(await attributed(first, affiliate_id, target.creative))) throw new Error(`a campaign created on ${first} was not live there at once`);
    const live = [0, ...(await Promise.all(target.urls.slice(1).map((url) => liveAfter(url, affiliate_id, target.creative, answered, target.liveWithinMs ?? 10_000))))];
    samples.push({ affiliate: affiliate.ms, campaign: campaign.ms, live });
  }
  return samples;
}

const ms = (x: number) => fmt(x, x < 10 ? 1 : 0);

/** One table row per network size: medians and the slowest of the samples. */
export interface ChangeRun {
  network: string;
  instances: number;
  samples: ChangeSample[];
}

export function changeReport(runs: ChangeRun[]): string {
  const lines = [
    '| network | instances | changes | affiliate created, median / slowest ms | campaign created, median / slowest ms | live on the other instances, median / slowest ms |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const { network, instances, samples } of runs) {
    const a = samples.map((s) => s.affiliate);
    const c = samples.map((s) => s.campaign);
    const others = samples.flatMap((s) => s.live.slice(1));
    const live = others.length ? `${ms(median(others))} / ${ms(Math.max(...others))}` : 'one instance: at once';
    lines.push(`| ${network} | ${instances} | ${samples.length} | ${ms(median(a))} / ${ms(Math.max(...a))} | ${ms(median(c))} / ${ms(Math.max(...c))} | ${live} |`);
  }
  return lines.join('\n');
}
