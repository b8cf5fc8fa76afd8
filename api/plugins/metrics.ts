import { timingSafeEqual } from "node:crypto";

import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Gauge, Histogram, Registry } from "prom-client";

import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { listStuckKeys } from "../../relayer/index.ts";

declare module "fastify" {
  interface FastifyInstance {
    metricsRegistry: Registry;
    /** Whether `presented` (the X-Metrics-Token header) is API_METRICS_TOKEN (compared in constant time). */
    isMetricsToken: (presented: string | undefined) => boolean;
  }
}

/**
 * Prometheus metrics: the request latency histogram here, registered on the registry the relayer
 * exports (queue depth, relay outcomes, stuck keys of its own process) so /metrics serves one
 * page; and two gauges computed at scrape time from the facts every process records — the
 * indexer's lag (chain head minus the ledger's indexed head) and the age of each relayer key's
 * oldest unmined transaction — so they are true whichever process runs the indexer and workers.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { registry }: { registry?: Registry | undefined }) => {
    const metricsRegistry = registry ?? new Registry();
    app.decorate("metricsRegistry", metricsRegistry);
    const { services } = app;
    const token = services.settings.metricsToken;
    app.decorate("isMetricsToken", (presented: string | undefined) => {
      if (!token || typeof presented !== "string") return false;
      const [a, b] = [Buffer.from(presented), Buffer.from(token)];
      return a.length === b.length && timingSafeEqual(a, b);
    });
    const latency =
      (metricsRegistry.getSingleMetric("stablerail_http_request_duration_seconds") as Histogram<string> | undefined) ??
      new Histogram({
        name: "stablerail_http_request_duration_seconds",
        help: "HTTP request latency by method, route and status",
        labelNames: ["method", "route", "status"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [metricsRegistry],
      });
    if (!metricsRegistry.getSingleMetric("stablerail_indexer_lag_blocks"))
      new Gauge({
        name: "stablerail_indexer_lag_blocks",
        help: "Blocks between the chain head and the ledger's indexed head (INDEXER_CONFIRMATIONS of it is by design)",
        registers: [metricsRegistry],
        async collect() {
          try {
            const [head, indexed] = await Promise.all([
              services.publicClient.getBlockNumber({ cacheTime: 0 }),
              getIndexedHead(services.database, { chainId: services.chainId }),
            ]);
            this.set(Number(head - (indexed?.number ?? 0n)));
          } catch {
            // Unreachable chain or database: leave the last value; /ready reports the outage.
          }
        },
      });
    if (!metricsRegistry.getSingleMetric("stablerail_relayer_keys_stuck"))
      new Gauge({
        name: "stablerail_relayer_keys_stuck",
        help: "Relayer keys with a transaction sent more than API_READY_STUCK_KEY_SECONDS ago that has not mined (from the relayer's records)",
        registers: [metricsRegistry],
        async collect() {
          try {
            const stuck = await listStuckKeys(services.database, {
              olderThanSeconds: services.settings.readyStuckKeySeconds,
            });
            this.set(stuck.length);
          } catch {
            // The database is down: /ready reports it.
          }
        },
      });
    app.addHook("onResponse", async (request, reply) => {
      latency.observe(
        { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: "metrics" },
);
