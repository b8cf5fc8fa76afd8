import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Histogram, Registry } from "prom-client";

declare module "fastify" {
  interface FastifyInstance {
    metricsRegistry: Registry;
  }
}

/**
 * Prometheus metrics: the request latency histogram here, registered on the registry the relayer
 * exports (queue depth, relay outcomes) so /metrics serves one page; indexer lag is a gauge
 * computed at scrape time from the ledger's indexed head (routes/health).
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { registry }: { registry?: Registry | undefined }) => {
    const metricsRegistry = registry ?? new Registry();
    app.decorate("metricsRegistry", metricsRegistry);
    const latency =
      (metricsRegistry.getSingleMetric("stablerail_http_request_duration_seconds") as Histogram<string> | undefined) ??
      new Histogram({
        name: "stablerail_http_request_duration_seconds",
        help: "HTTP request latency by method, route and status",
        labelNames: ["method", "route", "status"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [metricsRegistry],
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
