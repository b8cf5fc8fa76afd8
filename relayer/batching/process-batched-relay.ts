import { UnrecoverableError, type Job } from "bullmq";
import { parseTransaction, type Hex, type TransactionReceipt } from "viem";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { decodeRevertData } from "../decode-revert.ts";
import {
  RelayExpiredError,
  RelayNonceTakenError,
  RelayReorgedError,
  RelayRevertedError,
  RelayerKeyUnavailableError,
} from "../errors.ts";
import { stillMined } from "../follow-transaction.ts";
import { relayJobSchema } from "../jobs/relay-job.ts";
import { checkAllowlist } from "../send-policies.ts";
import type { RecordedTransaction } from "../begin-relay.ts";
import { processRelay, recordReorged, type ProcessRelayDependencies } from "../process-relay.ts";
import { recordTransition } from "../record-transition.ts";
import type { RelayStatus } from "../relay-status.ts";
import type { BatchCollector } from "./collect-batches.ts";
import { RelayAuthorizationUsedError, RelayNotSettledError, RelayReleasedFromBatchError } from "./errors.ts";
import type { BatchFollower } from "./follow-batch.ts";
import { readBatchOutcome, type BatchItemOutcome } from "./read-batch-outcome.ts";
import { releaseFromBatch } from "./release-from-batch.ts";
import type { BatchAssignment, BatchEntry, BatchTicket } from "./send-transfer-batch.ts";

export type ProcessBatchedRelayDependencies = ProcessRelayDependencies & {
  /** Gathers fresh transfers into batches; absent when batching is off (RELAYER_BATCH_SIZE=1). */
  collector: BatchCollector<BatchEntry, BatchAssignment> | undefined;
  follower: BatchFollower;
};

type RelayResult = { status: RelayStatus; transactionHash?: Hex };

/**
 * Runs one `token.transferWithAuthorization` relay job where batching applies:
 * - carried by a recorded batch transaction (a retry, or a crash after sending): resumes
 *   following that transaction at its nonce and reads this relay's own outcome from it;
 * - recorded as sent alone, or never sent but retried before, or batching off: the single-relay
 *   path (process-relay.ts) — so a retried transfer never joins a batch again and one poison item
 *   cannot keep taking batches down;
 * - otherwise: deadline and allowlist checked for this item, then it waits for a batch.
 * @throws UnrecoverableError when the relay ended failed or expired; a retryable error when
 *   BullMQ should try again
 */
export async function processBatchedRelay(job: Job, deps: ProcessBatchedRelayDependencies): Promise<RelayResult> {
  const parsed = relayJobSchema.safeParse(job.data);
  if (!parsed.success || parsed.data.request.kind !== "token.transferWithAuthorization") return processRelay(job, deps);
  const entry: BatchEntry = { job, relay: { ...parsed.data, request: parsed.data.request } };
  const { relay } = entry;
  const start = await deps.begin({ job: relay, queuedAt: new Date(job.timestamp) });
  const recorded = start.transactions;
  const latest = recorded[0];
  if (latest && (latest.relayIds as string[]).length > 1) {
    const ticket = await resumeTicket(latest, recorded, relay.relayId, deps);
    return settleBatchedRelay(entry, ticket, deps);
  }
  if (latest || !deps.collector || job.attemptsStarted > 1) return processRelay(job, deps, start);

  if (relay.deadline !== undefined && Date.now() >= Date.parse(relay.deadline))
    return endRelay(entry, deps, "expired", new RelayExpiredError(relay.deadline));
  try {
    checkAllowlist(relay.request, deps.contracts, deps.settings.allowlist);
  } catch (error) {
    return endRelay(entry, deps, "failed", error as Error);
  }
  const assignment = await deps.collector.add(relay.request.token, entry);
  switch (assignment.type) {
    case "single":
      return processRelay(job, deps, start);
    case "refused":
      return endRelay(entry, deps, "failed", assignment.error);
    case "sent":
      return settleBatchedRelay(entry, assignment.ticket, deps);
  }
}

/** Rebuilds a ticket from the recorded transactions at the relay's latest nonce (the raw bytes hold the call). */
async function resumeTicket(
  latest: RecordedTransaction,
  recorded: RecordedTransaction[],
  relayId: string,
  deps: ProcessBatchedRelayDependencies,
): Promise<BatchTicket> {
  const key = deps.keyByAddress(latest.relayer);
  if (!key)
    throw new RelayerKeyUnavailableError(
      `Relay ${relayId} is in a batch sent by ${latest.relayer}, which this worker does not hold`,
    );
  const raw = latest.raw as Hex;
  await key.broadcast(raw).catch(() => undefined);
  const transaction = parseTransaction(raw);
  const relayIds = latest.relayIds as string[];
  return {
    key,
    call: { to: transaction.to!, data: transaction.data ?? "0x", value: transaction.value ?? 0n },
    sent: {
      nonce: latest.nonce,
      hash: latest.hash as Hex,
      raw,
      gas: transaction.gas!,
      fees: { maxFeePerGas: BigInt(latest.maxFeePerGas), maxPriorityFeePerGas: BigInt(latest.maxPriorityFeePerGas) },
    },
    hashes: recorded
      .filter((row) => row.nonce === latest.nonce && row.relayer === latest.relayer)
      .map((row) => row.hash as Hex)
      .reverse(),
    relayIds,
    index: relayIds.indexOf(relayId),
  };
}

/**
 * Follows the batch to its receipt and ends this relay by its own item's outcome:
 * - `AuthorizationSettled` → confirmed (after the configured confirmations);
 * - `AuthorizationFailed` with revert data → failed, the token's custom error decoded;
 * - `AuthorizationFailed` without revert data (the item's call ran out of its gas limit), the item
 *   in the `AuthorizationsSkipped` range (the batch ran short of gas before it), or the whole
 *   transaction reverted → nothing was transferred for this item; see {@link releaseOrFail}.
 */
async function settleBatchedRelay(
  entry: BatchEntry,
  ticket: BatchTicket,
  deps: ProcessBatchedRelayDependencies,
): Promise<RelayResult> {
  const { relay } = entry;
  let followed: Awaited<ReturnType<typeof deps.follower.follow>>;
  try {
    followed = await deps.follower.follow(ticket);
  } catch (error) {
    // Another transaction took the batch's nonce: the batch never ran, so nothing of it moved.
    if (error instanceof RelayNonceTakenError)
      return releaseOrFail(entry, ticket, ticket.sent.hash, error.shortMessage, deps);
    throw error;
  }
  const { receipt, confirmed } = followed;
  const move = {
    relayId: relay.relayId,
    transactionHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    batchIndex: ticket.index,
    // The follower marked the batch's transaction mined, once for all the relays it carries.
    carrierStatus: undefined,
  };
  if (deps.settings.confirmations === 0 && receipt.status === "success" && settledIn(receipt, ticket, entry)) {
    // Confirmed as it mined, as a single relay is at 0 confirmations (process-relay.ts): one
    // group-committed move for every item of the batch.
    await deps.transitions.record({ ...move, statuses: ["mined", "confirmed"] });
    return confirmedRelay(entry, receipt.transactionHash, deps);
  }
  await deps.transitions.record({ ...move, statuses: ["mined"] });
  // Nothing is concluded from a block a reorg could still undo.
  await confirmed;
  if (!(await stillMined(deps.publicClient, receipt))) {
    await recordReorged(deps, [relay.relayId], receipt, ticket.key);
    throw new RelayReorgedError(relay.relayId, receipt.transactionHash, receipt.blockNumber);
  }
  if (receipt.status === "reverted")
    return releaseOrFail(entry, ticket, receipt.transactionHash, "the batch transaction reverted as a whole", deps);
  let outcome: BatchItemOutcome;
  try {
    outcome = readBatchOutcome(receipt.logs, ticket.call.to, ticket.index, relay.request);
  } catch (error) {
    deps.logger.error({ relayId: relay.relayId, err: (error as Error).message }, "cannot read a batch item's outcome");
    throw new UnrecoverableError(`${(error as Error & { code?: string }).code}: ${(error as Error).message}`);
  }
  if (outcome.type === "skipped")
    return releaseOrFail(
      entry,
      ticket,
      receipt.transactionHash,
      "the batch ran short of gas and skipped the item",
      deps,
    );
  if (outcome.type === "failed") {
    if (outcome.reason === "0x")
      return releaseOrFail(entry, ticket, receipt.transactionHash, "the item failed without revert data", deps);
    return endRelay(entry, deps, "failed", new RelayRevertedError(decodeRevertData(outcome.reason)));
  }
  await deps.transitions.record({ ...move, statuses: ["confirmed"] });
  return confirmedRelay(entry, receipt.transactionHash, deps);
}

/** Whether the batch's receipt says this relay's item settled (false when its logs cannot be read: the slow path decides). */
function settledIn(receipt: TransactionReceipt, ticket: BatchTicket, entry: BatchEntry): boolean {
  try {
    return readBatchOutcome(receipt.logs, ticket.call.to, ticket.index, entry.relay.request).type === "settled";
  } catch {
    return false;
  }
}

async function confirmedRelay(entry: BatchEntry, transactionHash: Hex, deps: ProcessBatchedRelayDependencies) {
  const { kind } = entry.relay.request;
  deps.metrics.outcomes.inc({ kind, outcome: "confirmed" });
  deps.metrics.latency.observe({ kind }, (Date.now() - entry.job.timestamp) / 1000);
  return { status: "confirmed" as const, transactionHash };
}

/**
 * The batch's transaction did not settle this item. Safety: it cannot have moved the funds (a
 * reverted transaction changes nothing; a failed item's call was rolled back), so the only way the
 * transfer can still happen twice is if the authorisation is sent again after someone else used
 * it — which the token refuses (EIP-3009 nonces are single-use). Still, the relay is only retried
 * when `authorizationState` says its authorisation is unused now; then it is released from the
 * batch's records and retried (alone). Used → it ends failed with RELAY_AUTHORIZATION_USED.
 */
async function releaseOrFail(
  entry: BatchEntry,
  ticket: BatchTicket,
  transactionHash: Hex,
  why: string,
  deps: ProcessBatchedRelayDependencies,
): Promise<RelayResult> {
  const { relay, job } = entry;
  const { request } = relay;
  const used = await deps.publicClient.readContract({
    address: request.token,
    abi: stablecoinAbi,
    functionName: "authorizationState",
    args: [request.from, request.nonce],
  });
  if (used)
    return endRelay(
      entry,
      deps,
      "failed",
      new RelayAuthorizationUsedError(request.from, request.nonce, transactionHash),
    );
  await releaseFromBatch(deps.database, ticket.key.address, ticket.sent.nonce, relay.relayId);
  // Out of attempts, the relay must still end in an exact state: failed, nothing sent for it.
  if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1))
    return endRelay(entry, deps, "failed", new RelayNotSettledError(relay.relayId, transactionHash, why));
  const error = new RelayReleasedFromBatchError(relay.relayId, transactionHash, why);
  await recordTransition(deps.database, [relay.relayId], "queued", {
    transactionHash,
    detail: { code: error.code, releasedFrom: transactionHash, why },
  });
  deps.logger.warn(
    { relayId: relay.relayId, transactionHash, why },
    "released a relay from its batch to retry it alone",
  );
  throw error;
}

/** Records the relay's end state and stops BullMQ from retrying it (as process-relay.ts does). */
async function endRelay(
  entry: BatchEntry,
  deps: ProcessBatchedRelayDependencies,
  status: "failed" | "expired",
  error: Error & { code?: string },
): Promise<never> {
  const code = error.code ?? "RELAY_FAILED";
  await recordTransition(deps.database, [entry.relay.relayId], status, {
    errorCode: code,
    errorMessage: error.message,
  });
  deps.metrics.outcomes.inc({ kind: entry.relay.request.kind, outcome: status });
  throw new UnrecoverableError(`${code}: ${error.message}`);
}
