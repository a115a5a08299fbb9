// The metrics of one server process, for GET /metrics (Prometheus text format, through prom-client).
//
// Cost on the hot paths: a request adds one counter increment and one histogram observation, a
// committed write one more of each; all on label sets fixed when first seen, so each is an array
// increment. prom-client's own label children hash their labels on every call (about 0.3 µs for a
// counter increment and 0.6 µs for a histogram observation on this machine, against a click's 65 µs
// of CPU), so the counters and histograms here are small objects of ours registered in prom-client's
// registry with a get(), the way prom-client's cluster aggregation registers metrics; prom-client
// still writes the exposition, runs the gauges and collects the process metrics (CPU, memory, event
// loop delay, GC).
//
// Gauges that describe the database (postbacks pending, the outbox's oldest row) are read from the
// store when scraped, so every instance on one PostgreSQL database reports the same figures.
import { collectDefaultMetrics, Gauge, Registry, type Metric } from 'prom-client';
import { RETENTION_KINDS, type RetentionKind, type Store } from '../store/types.js';
import type { AppMetrics } from './index.js';
import { WRITES, type StoreObserver, type Write } from './observe.js';

/** Seconds. Sub-millisecond at the bottom: a click is answered in well under one. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;

/** A counter; `child(labels)` is its series for those labels, made once and kept. */
class Counter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series: { labels: Labels; value: number }[] = [];
  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }
  child(labels: Labels = {}) {
    const series = { labels, value: 0 };
    this.series.push(series);
    return {
      inc(by = 1) {
        series.value += by;
      },
    };
  }
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.series.map((s) => ({ ...s })) };
  }
}

/** A histogram with fixed buckets; `child(labels)` as for Counter. */
class Histogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: { labels: Labels; counts: Float64Array; sum: number; count: number }[] = [];
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }
  child(labels: Labels = {}) {
    const series = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
    this.series.push(series);
    const bounds = this.buckets;
    return {
      observe(value: number) {
        series.sum += value;
        series.count++;
        // Counted in the first bucket that holds it; the exposition adds them up (le is cumulative).
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            series.counts[i]!++;
            return;
          }
        }
      },
    };
  }
  async get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const s of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export interface NodeMetrics extends AppMetrics {
  /** Counts what the store commits; hand it to observeStore(). */
  readonly storeObserver: StoreObserver;
  readonly registry: Registry;
}

export interface MetricsOptions {
  /** The store the scrape-time gauges read (the unobserved one: a scrape is not a write). */
  store: Store;
  clock?: () => number;
  /** Process metrics (CPU, memory, event loop, GC) too; on by default. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): NodeMetrics {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  // ---- requests
  const requests = new Counter('crumb_http_requests_total', 'HTTP requests answered, by route (the pattern that answered) and status.', registry);
  const durations = new Histogram('crumb_http_request_duration_seconds', 'Time from a request to its answer, by route.', LATENCY_BUCKETS, registry);
  type Route = { duration: ReturnType<Histogram['child']>; byStatus: ReturnType<Counter['child']>[] };
  const routes = new Map<string, Route>();

  // ---- what was recorded
  const clicks = new Counter('crumb_clicks_recorded_total', 'Clicks committed; attributed="false" for refused links (recorded with why).', registry);
  const clicksBy = { true: clicks.child({ attributed: 'true' }), false: clicks.child({ attributed: 'false' }) };
  const leads = new Counter('crumb_leads_recorded_total', 'Leads committed (duplicates are not recorded: see crumb_duplicates_total).', registry).child();
  const conversions = new Counter('crumb_conversions_recorded_total', 'Conversions committed, by source (pixel, api, lead: an offer paying per lead).', registry);
  const conversionsBy = { pixel: conversions.child({ source: 'pixel' }), api: conversions.child({ source: 'api' }), lead: conversions.child({ source: 'lead' }) };
  const duplicates = new Counter('crumb_duplicates_total', 'Leads and conversions refused as duplicates of earlier ones.', registry);
  const duplicatesBy = { lead: duplicates.child({ kind: 'lead' }), conversion: duplicates.child({ kind: 'conversion' }) };

  // ---- postbacks, as this process's dispatcher delivered them
  const delivered = new Counter('crumb_postbacks_delivered_total', 'Postback attempts the affiliate server answered with 2xx.', registry).child();
  const retried = new Counter('crumb_postbacks_retried_total', 'Postback attempts that failed and will be retried.', registry).child();
  const failed = new Counter('crumb_postbacks_failed_total', 'Postbacks given up after their last attempt failed.', registry).child();

  // ---- retention and erasure
  const retention = new Counter('crumb_retention_removed_total', 'Rows the retention job removed (clicks, delivery_attempts) or stripped of personal fields (lead_fields), by kind.', registry);
  const retentionBy = Object.fromEntries(RETENTION_KINDS.map((k) => [k, retention.child({ kind: k })])) as Record<RetentionKind, ReturnType<Counter['child']>>;

  // ---- the store
  const writeSeconds = new Histogram(
    'crumb_store_write_seconds',
    'Time from a write handed to the store until it committed (group commit: queueing included), by write.',
    LATENCY_BUCKETS,
    registry,
  );
  const writeBy = Object.fromEntries(WRITES.map((w) => [w, writeSeconds.child({ write: w })])) as Record<Write, ReturnType<Histogram['child']>>;
  const writeFailures = new Counter('crumb_store_write_failures_total', 'Writes the store failed (nothing of them was kept).', registry);
  const writeFailuresBy = Object.fromEntries(WRITES.map((w) => [w, writeFailures.child({ write: w })])) as Record<Write, ReturnType<Counter['child']>>;
  let waiting = 0;
  new Gauge({
    name: 'crumb_store_writes_waiting',
    help: 'Writes handed to the store and not yet committed: the depth of the write queue.',
    registers: [registry],
    collect() {
      this.set(waiting);
    },
  });
  const up = new Gauge({ name: 'crumb_store_up', help: '1 when the store answered the scrape-time queries, 0 when it did not.', registers: [registry] });
  const pending = new Gauge({ name: 'crumb_postbacks_pending', help: 'Postback deliveries not yet delivered nor given up, in the whole database.', registers: [registry] });
  const due = new Gauge({ name: 'crumb_postbacks_due', help: 'Pending deliveries due now and not being attempted: the dispatchers are behind when it stays above 0.', registers: [registry] });
  const oldest = new Gauge({
    name: 'crumb_postbacks_oldest_pending_seconds',
    help: 'Age of the oldest pending delivery (the outbox age): how long its conversion has waited for its postback.',
    registers: [registry],
  });

  return {
    registry,
    request(route, status, seconds) {
      let r = routes.get(route);
      if (!r) {
        r = { duration: durations.child({ route }), byStatus: [] };
        routes.set(route, r);
      }
      (r.byStatus[status] ??= requests.child({ route, status: String(status) })).inc();
      r.duration.observe(seconds);
    },
    storeObserver: {
      begin() {
        waiting++;
      },
      end(write, seconds, ok) {
        waiting--;
        if (ok) writeBy[write].observe(seconds);
        else writeFailuresBy[write].inc();
      },
      click(click) {
        (click.affiliate_id === null ? clicksBy.false : clicksBy.true).inc();
      },
      lead(result) {
        if (result.duplicate) return duplicatesBy.lead.inc();
        leads.inc();
        if (result.conversion) conversionsBy.lead.inc();
      },
      conversion(result) {
        if (result.duplicate) return duplicatesBy.conversion.inc();
        conversionsBy[result.conversion.source].inc();
      },
      retained(kind, rows) {
        retentionBy[kind].inc(rows);
      },
      attempt(_, outcome) {
        if (outcome.delivered) delivered.inc();
        else if (outcome.retry_in_ms === null) failed.inc();
        else retried.inc();
      },
    },
    async expose() {
      try {
        const now = clock();
        const outbox = await store.outboxStats(now);
        pending.set(outbox.pending);
        due.set(outbox.due);
        oldest.set(outbox.oldest_created_at === null ? 0 : Math.max(0, (now - outbox.oldest_created_at) / 1000));
        up.set(1);
      } catch {
        // The scrape still answers (process metrics, counters); the store's figures are unknown.
        for (const g of [pending, due, oldest]) g.set(Number.NaN);
        up.set(0);
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
