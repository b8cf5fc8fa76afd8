import { Counter, Gauge, Histogram, type Registry } from "prom-client";

import type { RelayQueue } from "./queue.ts";

export type RelayerMetrics = {
  outcomes: Counter<"kind" | "outcome">;
  latency: Histogram<"kind">;
  keyBalance: Gauge<"relayer">;
  lowBalance: Gauge<"relayer">;
  queueDepth: Gauge<"queue" | "state">;
  /** Age of each held key's oldest sent-but-unmined transaction (0: none); above RELAYER_STUCK_KEY_SECONDS the key is stuck. */
  keyOldestUnmined: Gauge<"relayer">;
  /** Relays whose block left the chain and that were sent back to follow the same transaction. */
  reorgs: Counter;
  /** Recorded transactions broadcast again (or re-signed) because the node no longer held them. */
  rebroadcasts: Counter<"relayer">;
};

/**
 * Registers the relayer's metrics on `registry` (the one the API's /metrics serves). Queue depth
 * is collected from BullMQ when scraped, when a queue is given.
 */
export function createRelayerMetrics(registry: Registry, queue?: RelayQueue): RelayerMetrics {
  const existing = registry.getSingleMetric("stablerail_relay_outcomes_total");
  if (existing) {
    return {
      outcomes: existing as RelayerMetrics["outcomes"],
      latency: registry.getSingleMetric("stablerail_relay_latency_seconds") as RelayerMetrics["latency"],
      keyBalance: registry.getSingleMetric("stablerail_relayer_key_balance_ether") as RelayerMetrics["keyBalance"],
      lowBalance: registry.getSingleMetric("stablerail_relayer_key_low_balance") as RelayerMetrics["lowBalance"],
      queueDepth: registry.getSingleMetric("stablerail_relay_queue_depth") as RelayerMetrics["queueDepth"],
      keyOldestUnmined: registry.getSingleMetric(
        "stablerail_relayer_key_oldest_unmined_seconds",
      ) as RelayerMetrics["keyOldestUnmined"],
      reorgs: registry.getSingleMetric("stablerail_relay_reorgs_total") as RelayerMetrics["reorgs"],
      rebroadcasts: registry.getSingleMetric("stablerail_relayer_rebroadcasts_total") as RelayerMetrics["rebroadcasts"],
    };
  }
  return {
    outcomes: new Counter({
      name: "stablerail_relay_outcomes_total",
      help: "Relays that ended, by kind and outcome (confirmed, failed, expired, cancelled, dead)",
      labelNames: ["kind", "outcome"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "stablerail_relay_latency_seconds",
      help: "Time from enqueue to confirmation of a relay",
      labelNames: ["kind"],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    keyBalance: new Gauge({
      name: "stablerail_relayer_key_balance_ether",
      help: "Native balance of each relayer key (ether; for alerting only)",
      labelNames: ["relayer"],
      registers: [registry],
    }),
    lowBalance: new Gauge({
      name: "stablerail_relayer_key_low_balance",
      help: "1 when a relayer key holds less than RELAYER_LOW_BALANCE_WEI",
      labelNames: ["relayer"],
      registers: [registry],
    }),
    keyOldestUnmined: new Gauge({
      name: "stablerail_relayer_key_oldest_unmined_seconds",
      help: "Age of each held relayer key's oldest sent-but-unmined transaction (0 when none); a key above RELAYER_STUCK_KEY_SECONDS is stuck",
      labelNames: ["relayer"],
      registers: [registry],
    }),
    reorgs: new Counter({
      name: "stablerail_relay_reorgs_total",
      help: "Relays whose block left the chain before it was final; each follows the same signed transaction again",
      registers: [registry],
    }),
    rebroadcasts: new Counter({
      name: "stablerail_relayer_rebroadcasts_total",
      help: "Recorded transactions broadcast again or re-signed at their nonce because the node did not hold them",
      labelNames: ["relayer"],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "stablerail_relay_queue_depth",
      help: "Jobs in the relay queues by state",
      labelNames: ["queue", "state"],
      registers: [registry],
      async collect() {
        if (!queue) return;
        for (const q of [queue.transfers, queue.operator]) {
          const counts = await q.getJobCounts("waiting", "active", "delayed", "failed");
          for (const [state, count] of Object.entries(counts)) this.set({ queue: q.name, state }, count);
        }
      },
    }),
  };
}
