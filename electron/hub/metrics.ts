import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for one hub. A registry per hub keeps several hubs in one process apart (tests). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relaydesk_process_' });
  return {
    registry,
    published: new Counter({ name: 'relaydesk_events_published_total', help: 'Events committed to the log', labelNames: ['domain'], registers: [registry] }),
    duplicates: new Counter({ name: 'relaydesk_events_duplicate_total', help: 'Publishes answered from an existing idempotency key', registers: [registry] }),
    delivered: new Counter({ name: 'relaydesk_deliveries_total', help: 'Events written to SSE connections', registers: [registry] }),
    rejected: new Counter({ name: 'relaydesk_requests_rejected_total', help: 'Requests answered with 4xx/5xx', labelNames: ['status'], registers: [registry] }),
    slowDisconnects: new Counter({ name: 'relaydesk_slow_consumer_disconnects_total', help: 'Connections closed because they could not keep up', registers: [registry] }),
    snapshots: new Counter({
      name: 'relaydesk_snapshots_total',
      help: 'snapshot=1 requests by outcome: built, shared (served by an identical request\'s build), skipped (client gone before its turn)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    connections: new Gauge({ name: 'relaydesk_connections', help: 'Open SSE connections', registers: [registry] }),
    headSeq: new Gauge({ name: 'relaydesk_log_head_seq', help: 'Newest sequence number in the log', registers: [registry] }),
    oldestSeq: new Gauge({ name: 'relaydesk_log_oldest_seq', help: 'Oldest retained sequence number', registers: [registry] }),
    logEvents: new Gauge({ name: 'relaydesk_log_events', help: 'Events retained in the log', registers: [registry] }),
    logBytes: new Gauge({ name: 'relaydesk_log_bytes', help: 'Size of the SQLite database and WAL', registers: [registry] }),
    flushSeconds: new Histogram({
      name: 'relaydesk_delivery_flush_seconds',
      help: 'Time to write one flush of committed events to every matching SSE connection',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
    deliveryLag: new Histogram({
      name: 'relaydesk_delivery_lag_seconds',
      help: 'Time from commit to the last socket write of a flush, for its oldest event',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'relaydesk_publish_commit_seconds',
      help: 'Time from request received to durable commit',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Events per second over a sliding window of one-second buckets, for /v1/stats. */
export class RateMeter {
  private buckets: number[];
  private current = 0;
  private second = Math.floor(Date.now() / 1000);
  total = 0;

  constructor(private readonly windowS = 10) {
    this.buckets = new Array(windowS).fill(0);
  }

  add(n: number): void {
    this.roll();
    this.buckets[this.current] = this.buckets[this.current]! + n;
    this.total += n;
  }

  perSecond(): number {
    this.roll();
    // The current second is partial; average the complete ones.
    let sum = 0;
    for (let i = 1; i < this.windowS; i++) sum += this.buckets[(this.current - i + this.windowS) % this.windowS]!;
    return sum / (this.windowS - 1);
  }

  private roll(): void {
    const now = Math.floor(Date.now() / 1000);
    const steps = Math.min(now - this.second, this.windowS);
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % this.windowS;
      this.buckets[this.current] = 0;
    }
    this.second = now;
  }
}
