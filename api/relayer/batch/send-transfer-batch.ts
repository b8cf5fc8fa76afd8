import type { Job } from "bullmq";
import type { Address, Hex } from "viem";

import { buildSettleAuthorizationsCall, type RelayCall } from "../build-call.ts";
import { isRevert } from "../decode-revert.ts";
import { estimateFees } from "../fees.ts";
import type { RelayJob } from "../jobs/relay-job.ts";
import type { RelayRequest } from "../jobs/relay-request.ts";
import { checkGasPriceCap } from "../policies.ts";
import type { ProcessRelayDependencies } from "../process-relay.ts";
import { recordTransition } from "../record-transition.ts";
import type { RelayerKey, SentTransaction } from "../relayer-key.ts";

export type TransferRequest = Extract<RelayRequest, { kind: "token.transferWithAuthorization" }>;

/** A transfer relay that passed its own checks and waits for a batch. */
export type BatchEntry = { job: Job; relay: RelayJob & { request: TransferRequest } };

/** One relay's place in a sent batch transaction: enough to follow it, or to resume following it. */
export type BatchTicket = {
  key: RelayerKey;
  call: RelayCall;
  sent: SentTransaction;
  /** Every hash broadcast at `sent.nonce` so far. */
  hashes: Hex[];
  /** The relays the transaction carries, in item order. */
  relayIds: string[];
  /** This relay's item index. */
  index: number;
};

/** What became of one entry when its batch closed. */
export type BatchAssignment =
  | { type: "sent"; ticket: BatchTicket }
  /** Send it alone through the single-relay path (a batch of one, or a batch that cannot be simulated). */
  | { type: "single" }
  /** A policy refused it (the gas price cap); it is not sent. */
  | { type: "refused"; error: Error };

/**
 * Why a floor under the estimate: each item runs inside try/catch, so a node's gas estimate may
 * find a limit at which an item runs out of gas *inside* its try — the transaction still succeeds
 * and the item is merely reported failed. The floor gives every item what a lone
 * transferWithAuthorization uses (~78k) with room to spare; unused gas is not paid for.
 */
const GAS_PER_ITEM = 90_000n;
const GAS_BASE = 40_000n;

/**
 * Sends the transfers of one token gathered in a batch as one `Settlement.settleAuthorizations`
 * transaction, through the same key, nonce manager and fees as a single relay, and records
 * `signed` (with each item's batch index) and `submitted` for every relay in it.
 *
 * The gas price cap is checked against the fees this transaction would pay — the same fees for
 * every item, so a refusal refuses each item. A batch whose simulation reverts as a whole (each
 * item is in try/catch, so that takes something unusual) is not sent: its items go alone, where
 * each is simulated and fails with its own decoded error if it must.
 * @returns one assignment per entry, in order
 * @throws what the node or the nonce manager throws (transport failures, a lost lease); nothing
 *   was sent then, or what was sent is recorded and resumed by the relays' retries
 */
export async function sendTransferBatch(
  token: Address,
  entries: BatchEntry[],
  deps: ProcessRelayDependencies,
): Promise<BatchAssignment[]> {
  const first = entries[0];
  if (!first || entries.length === 1) return entries.map(() => ({ type: "single" }));
  const { publicClient, database } = deps;
  const fees = await estimateFees(publicClient);
  try {
    checkGasPriceCap(fees, deps.settings.maxFeePerGasCap);
  } catch (error) {
    return entries.map(() => ({ type: "refused", error: error as Error }));
  }
  const key = deps.pickKey(first.relay);
  const call = buildSettleAuthorizationsCall(
    token,
    entries.map((entry) => entry.relay.request),
    deps.contracts,
  );
  let estimate: bigint;
  try {
    estimate = await publicClient.estimateGas({
      account: key.address,
      to: call.to,
      data: call.data,
      value: call.value,
    });
  } catch (error) {
    if (!isRevert(error)) throw error;
    deps.logger.warn(
      { token, size: entries.length, err: (error as Error).message },
      "a settlement batch reverts in simulation; sending its transfers alone",
    );
    return entries.map(() => ({ type: "single" }));
  }
  const floor = GAS_BASE + GAS_PER_ITEM * BigInt(entries.length);
  const gas = (estimate * 12n) / 10n > floor ? (estimate * 12n) / 10n : floor;
  const relayIds = entries.map((entry) => entry.relay.relayId);
  const sent = await key.send(call, gas, fees, relayIds);
  deps.logger.info(
    { relayer: key.address, nonce: sent.nonce, hash: sent.hash, token, size: relayIds.length },
    "sent a settlement batch",
  );
  for (const [index, relayId] of relayIds.entries()) {
    await recordTransition(database, [relayId], "signed", {
      relayer: key.address,
      nonce: sent.nonce,
      transactionHash: sent.hash,
      batchIndex: index,
      detail: { batchIndex: index, batchSize: relayIds.length },
    });
  }
  await recordTransition(database, relayIds, "submitted", { transactionHash: sent.hash });
  return relayIds.map((_, index) => ({
    type: "sent",
    ticket: { key, call, sent, hashes: [sent.hash], relayIds, index },
  }));
}
