import type { Queue } from "bullmq";
import type { Hex } from "viem";

import type { Database } from "../lib/db/database.ts";
import { cancelRelay } from "./cancel-relay.ts";
import { retryRelay, type ChainReads } from "./dead-letters.ts";
import { enqueueRelay } from "./enqueue-relay.ts";
import { getRelay, getRelays } from "./get-relay.ts";
import { listOpenRelayIds } from "./list-open-relays.ts";
import { createGroupCommit } from "./group-commit.ts";
import { recordQueuedRelays, type QueuedRelay } from "./record-transition.ts";
import { sumUnminedRelays } from "./sum-unmined-relays.ts";
import { createRelayQueue, type RelayQueue } from "./queue.ts";
import type { RelayRequestInput } from "./jobs/relay-request.ts";
import type { Relay, RelayStatus } from "./relay-status.ts";

/**
 * What the other services need from the relayer: queue a relay request and read its status. The
 * request is the relayer's own job schema (jobs/relay-request.ts) — one schema on both sides of
 * the queue. In the API only the money door (submitMoneyMovement) calls `enqueueRelay`.
 */
export type RelayGatewayRequest = {
  /** Business key; the relayer derives its job id from it, so a retried request never queues twice. */
  idempotencyKey: string;
  /** Who asked (user id); recorded by the relayer, never trusted for authorisation. */
  requestedBy: string;
  /** After this instant the relay is cancelled (status `expired`) rather than sent. */
  deadline?: Date | undefined;
  request: RelayRequestInput;
};

/** A relay's progress as other services see it: the relayer's finer states folded into five. */
export type RelaySummary = {
  relayId: string;
  /**
   * queued (queued, signed), submitted (submitted, mined, replaced, reorged — a transaction is out,
   * or back out after its block left the chain), confirmed, failed, dead (expired, cancelled, and
   * dead: out of attempts with nothing sent).
   */
  state: "queued" | "submitted" | "confirmed" | "failed" | "dead";
  transactionHash?: Hex | undefined;
  /** The block that mined it, once mined (known to the relayer's database). */
  blockNumber?: bigint | undefined;
  error?: string | undefined;
};

export type RelayGateway = {
  /** Queues the request and records the relay (`queued`), so it is visible from that moment. */
  enqueueRelay: (request: RelayGatewayRequest) => Promise<{ relayId: string }>;
  getRelay: (relayId: string) => Promise<RelaySummary | undefined>;
  /** Summaries of several relays by id (those recorded). */
  getRelays: (relayIds: readonly string[]) => Promise<Map<string, RelaySummary>>;
  /** The relays `requestedBy` asked for that have not settled: in flight, or confirmed above `indexedHead`. */
  openRelayIds: (p: { requestedBy: string; indexedHead: bigint | undefined }) => Promise<string[]>;
  /** What `sender` signed away in `requestedBy`'s relays in flight with no block yet (sum-unmined-relays.ts). */
  sumUnminedRelays: (p: { requestedBy: string; sender: string; exceptRelayId?: string | undefined }) => Promise<bigint>;
  /** Cancels a relay no transaction was sent for; throws RELAY_NOT_CANCELLABLE otherwise. */
  cancelRelay: (relayId: string, by: string) => Promise<void>;
  /** Re-queues a dead letter when it cannot execute twice; throws RELAY_NOT_RETRYABLE otherwise (dead-letters.ts). */
  retryRelay: (relayId: string, by: string, chain: ChainReads) => Promise<void>;
  /** The relay queues, for the operators' queue dashboard. */
  queues: () => Queue[];
};

export type CreateRelayGatewayParameters = {
  redisUrl: string;
  prefix: string;
  /** The database holding the relay tables (the relayer's migrations applied). */
  database: Database;
};

/**
 * The {@link RelayGateway} over the relay queues and the relay tables: a producer on the queues
 * and status reads. Exposes `close` for the caller's shutdown path.
 */
export function createRelayGateway({
  redisUrl,
  prefix,
  database,
}: CreateRelayGatewayParameters): RelayGateway & { queue: RelayQueue; close: () => Promise<void> } {
  const queue = createRelayQueue({ redis: redisUrl, prefix });
  // Group commit (group-commit.ts): the records of relays queued while one is being written share
  // the next statement — an API serving many users queues many at once.
  const recordQueued = createGroupCommit(async (entries: QueuedRelay[]) => {
    await recordQueuedRelays(database, entries);
    return entries.map(() => undefined);
  });
  return {
    queue,
    close: () => queue.close(),
    enqueueRelay: async (request) => {
      const queued = await enqueueRelay(queue, request);
      // Recorded after the job exists (a record without a job would strand); should this write fail, the
      // worker records it when it takes the job.
      await recordQueued({ job: queued.job, queuedAt: new Date() }).catch(() => undefined);
      return { relayId: queued.relayId };
    },
    cancelRelay: (relayId, by) => cancelRelay(queue, database, relayId, by),
    retryRelay: (relayId, by, chain) => retryRelay(queue, database, chain, relayId, by),
    queues: () => [queue.transfers, queue.operator],
    getRelay: async (relayId) => {
      const relay = await getRelay(database, relayId);
      if (relay) return summaryOf(relay);
      // Not recorded (its producer's record failed): the job exists but no worker has taken it — a
      // worker records every relay it takes before anything else — or it was refused unread (a job
      // whose data is not a relay's). Its progress is not kept on the job: the relay's record is.
      const job = (await queue.transfers.getJob(relayId)) ?? (await queue.operator.getJob(relayId));
      if (!job) return undefined;
      if ((await job.getState()) === "failed") return { relayId, state: "dead", error: job.failedReason };
      return { relayId, state: "queued" };
    },
    getRelays: async (relayIds) => new Map((await getRelays(database, relayIds)).map((r) => [r.relayId, summaryOf(r)])),
    openRelayIds: (p) => listOpenRelayIds(database, p),
    sumUnminedRelays: (p) => sumUnminedRelays(database, p),
  };
}

function summaryOf(relay: Omit<Relay, "transitions">): RelaySummary {
  return {
    relayId: relay.relayId,
    state: foldedState(relay.status),
    transactionHash: (relay.transactionHash as Hex | null) ?? undefined,
    blockNumber: relay.blockNumber ?? undefined,
    error: relay.errorCode === null ? undefined : `${relay.errorCode}: ${relay.errorMessage ?? ""}`,
  };
}

function foldedState(status: RelayStatus): RelaySummary["state"] {
  switch (status) {
    case "queued":
    case "signed":
      return "queued";
    case "submitted":
    case "mined":
    case "replaced":
    case "reorged":
      return "submitted";
    case "confirmed":
      return "confirmed";
    case "failed":
      return "failed";
    case "expired":
    case "cancelled":
    case "dead":
      return "dead";
  }
}
