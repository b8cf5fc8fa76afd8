/**
 * Batching of EIP-3009 transfers (RELAYER_BATCH_SIZE > 1): transfers of one token waiting in the
 * relay queue go out together as one `Settlement.settleAuthorizations` transaction, while each
 * relay keeps its own exact status.
 *
 * How jobs are gathered: the transfer worker already runs up to RELAYER_CONCURRENCY jobs at once,
 * each holding its own BullMQ lock. A transfer job does its own checks (validation, deadline,
 * allowlist) and then, instead of sending, joins this process's open batch for its token
 * (collect-batches.ts); the batch closes when full or RELAYER_BATCH_WAIT_MS after its first item,
 * and is sent once (send-transfer-batch.ts) through the same key, nonce manager, fees, gas price
 * cap and replacement path as a single relay. Every job then follows the shared transaction
 * (follow-batch.ts) and ends by its own item's event (process-batched-relay.ts). So each relay is
 * still one BullMQ job: locks, stalled-job recovery, retries, progress and cancel work as for a
 * single relay — unlike fetching several jobs by hand with `Worker.getNextJob`, which would make
 * this code renew locks and move jobs to completed/failed itself. The cost: a batch never holds
 * more than the worker's concurrency (set RELAYER_CONCURRENCY ≥ RELAYER_BATCH_SIZE), and each
 * process batches the jobs it holds.
 *
 * Safety: a batch's transaction is recorded with every relay id in item order before broadcast,
 * so a retried or resumed relay follows the same nonce and reads its own item, never sending
 * again while the batch can mine; a relay leaves a mined batch that did not settle it only after
 * `authorizationState` shows its authorisation unused, and is then retried alone.
 */
import type { Job } from "bullmq";
import type { Address } from "viem";

import type { ProcessRelayDependencies } from "../process-relay.ts";
import type { RelayStatus } from "../relay-status.ts";
import { createBatchCollector } from "./collect-batches.ts";
import { createBatchFollower } from "./follow-batch.ts";
import { processBatchedRelay } from "./process-batched-relay.ts";
import { createSettlementGasReader } from "./read-settlement-gas.ts";
import { sendTransferBatch, type BatchAssignment, type BatchEntry } from "./send-transfer-batch.ts";

export type TransferBatching = {
  /** Whether `job` goes through {@link TransferBatching.process} rather than the single-relay path. */
  handles: (job: Job) => boolean;
  process: (job: Job) => Promise<{ status: RelayStatus; transactionHash?: `0x${string}` }>;
};

export type CreateTransferBatchingParameters = ProcessRelayDependencies & {
  batchSize: number;
  batchWaitMs: number;
};

/**
 * Sets up batching for one worker process's transfer queue.
 *
 * With RELAYER_BATCH_SIZE=1 nothing is gathered and fresh transfers take the single-relay path
 * untouched; only a transfer job started before (a retry or a stalled job) comes here, in case
 * an earlier run — with batching on — put it in a batch that must be followed, not re-sent.
 */
export function createTransferBatching(p: CreateTransferBatchingParameters): TransferBatching {
  const { batchSize, batchWaitMs, ...deps } = p;
  const enabled = batchSize > 1;
  const itemGasRequired = createSettlementGasReader(deps.publicClient, deps.contracts.settlement);
  const collector = enabled
    ? createBatchCollector<BatchEntry, BatchAssignment>({
        maxSize: batchSize,
        waitMs: batchWaitMs,
        send: (token, entries) => sendTransferBatch(token as Address, entries, deps, itemGasRequired),
      })
    : undefined;
  const follower = createBatchFollower(deps);
  return {
    handles: (job) =>
      (job.data as { request?: { kind?: unknown } } | undefined)?.request?.kind === "token.transferWithAuthorization" &&
      (enabled || job.attemptsStarted > 1 || (job.data as { resumed?: unknown }).resumed === true),
    process: (job) => processBatchedRelay(job, { ...deps, collector, follower }),
  };
}
