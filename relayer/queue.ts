import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";

import type { RelayJob } from "./jobs/relay-job.ts";

/**
 * The relay queues. Two BullMQ queues under one prefix: `relay-transfers` (any relayer key may
 * send these) and `relay-operator` (escrow and payout jobs, which only the operator key may
 * send — `terms.operator` / PAYOUT_ROLE — so only the worker holding that key's lease consumes it).
 */
export const TRANSFER_QUEUE = "relay-transfers";
export const OPERATOR_QUEUE = "relay-operator";

/** Default job options: retries with exponential backoff (BullMQ adds jitter), bounded history. */
export const relayJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 500, jitter: 0.5 },
  removeOnComplete: { count: 10_000, age: 24 * 3600 },
  removeOnFail: { count: 50_000, age: 7 * 24 * 3600 },
};

export type RelayQueue = {
  transfers: Queue<RelayJob>;
  operator: Queue<RelayJob>;
  prefix: string;
  /** Closes both queues and, when this factory opened it, the connection. */
  close: () => Promise<void>;
};

export type CreateRelayQueueParameters = {
  /** A redis:// URL (a fail-fast producer connection is opened) or an ioredis connection to reuse. */
  redis: string | Redis;
  prefix: string;
  /** Overrides of {@link relayJobOptions} for the jobs this producer adds (tests use fewer, faster attempts). */
  jobOptions?: Partial<JobsOptions> | undefined;
};

/**
 * Opens the producer side of the relay queues. The connection has `enableOfflineQueue: false`
 * and one retry per request, so an HTTP handler fails at once when Redis is down (the API maps
 * that to 503) instead of hanging.
 * @example
 * const queue = createRelayQueue({ redis: "redis://127.0.0.1:6379", prefix: "stablerail" });
 */
export function createRelayQueue({ redis, prefix, jobOptions }: CreateRelayQueueParameters): RelayQueue {
  const owned = typeof redis === "string";
  const connection = owned ? new Redis(redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : redis;
  // Without a listener a dropped connection's 'error' event would crash the process.
  if (owned) connection.on("error", () => undefined);
  const options = { connection, prefix, defaultJobOptions: { ...relayJobOptions, ...jobOptions } };
  const transfers = new Queue<RelayJob>(TRANSFER_QUEUE, options);
  const operator = new Queue<RelayJob>(OPERATOR_QUEUE, options);
  for (const queue of [transfers, operator]) queue.on("error", () => undefined);
  return {
    transfers,
    operator,
    prefix,
    close: async () => {
      await Promise.all([transfers.close(), operator.close()]);
      if (owned) connection.disconnect();
    },
  };
}
