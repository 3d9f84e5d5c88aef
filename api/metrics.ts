import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NetworkFigures, NetworkReport } from '../db/network-reports';
import { ApiError } from './errors';

/** The network report's figures as gauges, read at each scrape; `cooperative="network"` for the whole network. */
function networkGauges(registry: Registry, report: () => Promise<NetworkReport>): void {
  const figures: Array<[keyof NetworkFigures, string, string]> = [
    ['decisions', 'network_decisions', 'Proposals decided'],
    ['rejected', 'network_decisions_rejected', 'Proposals rejected'],
    ['quorumRate', 'network_quorum_rate', "Share of tallies that met the cooperative's quorum"],
    ['rejectionRate', 'network_rejection_rate', 'Share of decisions rejected'],
    ['events', 'network_events_recorded', 'Economic events recorded (governance events included)'],
    ['bookings', 'network_bookings', 'Bookings of shared resources'],
    ['confirmedBookings', 'network_bookings_confirmed', 'Bookings confirmed'],
  ];
  // One read of the report per scrape, shared by every gauge (a scrape collects them all at once).
  let pending: Promise<void> | undefined;
  const fillOnce = () => (pending ??= fill().finally(() => (pending = undefined)));
  const fill = async () => {
    // A scrape while the database is away still answers, with the process and HTTP figures.
    const r = await report().catch(() => undefined);
    if (!r) return;
    for (const { field, gauge } of gauges) {
      gauge.reset();
      for (const [cooperative, f] of [['network', r.network] as const, ...r.cooperatives.map((c) => [c.slug || c.cooperativeId, c] as const)]) {
        const value = f[field];
        if (typeof value === 'number') gauge.set({ cooperative }, value);
      }
    }
  };
  const gauges = figures.map(([field, name, help]) => ({ field, gauge: new Gauge({ name, help, labelNames: ['cooperative'] as const, registers: [registry], collect: fillOnce }) }));
}

/**
 * Prometheus metrics for one API instance: default process metrics, per-route HTTP figures and the
 * network's report. With `token`, the endpoint answers only a scraper that presents it as a bearer token:
 * the report's figures are per cooperative, which the API shows otherwise to network-wide operators only.
 */
export function createMetrics(report?: () => Promise<NetworkReport>, token?: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  if (report) networkGauges(registry, report);

  const middleware: RequestHandler = (req, res, next) => {
    const stop = duration.startTimer();
    res.on('finish', () => {
      // The matched route pattern, never the raw path, keeps label cardinality bounded.
      const labels = { method: req.method, route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched', status: String(res.statusCode) };
      requests.inc(labels);
      stop(labels);
    });
    next();
  };

  const expected = token === undefined ? undefined : createHash('sha256').update(`Bearer ${token}`).digest();
  const endpoint: RequestHandler = async (req, res, next) => {
    // Compared as digests: equal lengths, in constant time.
    if (expected && !timingSafeEqual(expected, createHash('sha256').update(req.headers.authorization ?? '').digest())) {
      next(new ApiError('UNAUTHENTICATED', 'The metrics endpoint needs its bearer token (API_METRICS_TOKEN)'));
      return;
    }
    res.type(registry.contentType).send(await registry.metrics());
  };

  return { registry, middleware, endpoint };
}
