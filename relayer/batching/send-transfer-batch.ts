import type { Job } from "bullmq";
import { hexToBytes, size, type Address, type Hex } from "viem";

import { buildSettleAuthorizationsCall, type RelayCall } from "../build-call.ts";
import { isRevert } from "../decode-revert.ts";
import { estimateFees } from "../gas-fees.ts";
import type { RelayJob } from "../jobs/relay-job.ts";
import type { RelayRequest } from "../jobs/relay-request.ts";
import { checkGasPriceCap } from "../send-policies.ts";
import type { ProcessRelayDependencies } from "../process-relay.ts";
import type { RelayerKey, SentTransaction } from "../nonce-manager.ts";
import type { SettlementGasReader } from "./read-settlement-gas.ts";

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
 * Why the gas comes from the contract's per-item requirement, not from the node's estimate:
 * settleAuthorizations skips (reports, does not revert) the items it has no gas left for, so a
 * node's estimate — the gas used with every item behaving as simulated — is a limit at which the
 * batch succeeds but skips its tail (an item needs `authorizationGasRequired` *left* to be tried,
 * about five times what an honest one uses). So each item is given its full requirement (plus its
 * signature's length, by the contract's rule): every item is then attempted even if every wallet
 * in the batch burns the whole per-item limit after the simulation. Unused gas is not paid for.
 */
const GAS_BASE = 40_000n;
/** EIP-7825 (Osaka): no transaction may ask for more. Above it the tail is skipped, not reverted. */
const TRANSACTION_GAS_CAP = 16_777_216n;

/** The transaction's calldata cost (EIP-2028: 16 gas a non-zero byte, 4 a zero byte). */
function calldataGas(data: Hex): bigint {
  let gas = 0n;
  for (const byte of hexToBytes(data)) gas += byte === 0 ? 4n : 16n;
  return gas;
}

/**
 * The gas limit of a batch: the intrinsic cost, the call's own overhead, and for each item what
 * the Settlement requires left before trying it — never less than 1.2x the estimate, never more
 * than a transaction may carry.
 * @param estimate - the node's estimate of the batch (the gas it uses, not the gas it needs)
 * @param data - the batch's calldata
 * @param signatures - the items' signatures
 * @param itemGasRequired - `Settlement.authorizationGasRequired()`
 */
export function batchGasLimit(estimate: bigint, data: Hex, signatures: Hex[], itemGasRequired: bigint): bigint {
  const items = signatures.reduce((gas, signature) => gas + itemGasRequired + BigInt(size(signature)), 0n);
  const budget = 21_000n + calldataGas(data) + GAS_BASE + items;
  const padded = (estimate * 12n) / 10n;
  const gas = padded > budget ? padded : budget;
  return gas < TRANSACTION_GAS_CAP ? gas : TRANSACTION_GAS_CAP;
}

/**
 * Sends the transfers of one token gathered in a batch as one `Settlement.settleAuthorizations`
 * transaction, through the same key, nonce manager and fees as a single relay, and records
 * `signed` (with each item's batch index) and `submitted` for every relay in it.
 *
 * The gas price cap is checked against the fees this transaction would pay — the same fees for
 * every item, so a refusal refuses each item. A batch whose simulation reverts as a whole (each
 * item is in try/catch, so that takes something unusual) is not sent: its items go alone, where
 * each is simulated and fails with its own decoded error if it must. The gas limit is
 * {@link batchGasLimit}: the contract's per-item requirement, read once through `itemGasRequired`.
 * @returns one assignment per entry, in order
 * @throws what the node or the nonce manager throws (transport failures, a lost lease); nothing
 *   was sent then, or what was sent is recorded and resumed by the relays' retries
 */
export async function sendTransferBatch(
  token: Address,
  entries: BatchEntry[],
  deps: ProcessRelayDependencies,
  itemGasRequired: SettlementGasReader,
): Promise<BatchAssignment[]> {
  const first = entries[0];
  if (!first || entries.length === 1) return entries.map(() => ({ type: "single" }));
  const { publicClient } = deps;
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
  const gas = batchGasLimit(
    estimate,
    call.data,
    entries.map((entry) => entry.relay.request.signature),
    await itemGasRequired(),
  );
  const relayIds = entries.map((entry) => entry.relay.relayId);
  // Its record is marked `sent` with the relays' own move below, in the same statement.
  const sent = await key.send(call, gas, fees, relayIds, { markSent: false });
  deps.logger.info(
    { relayer: key.address, nonce: sent.nonce, hash: sent.hash, token, size: relayIds.length },
    "sent a settlement batch",
  );
  // Each relay's own position in the batch; the moves are group-committed into one statement.
  await Promise.all(
    relayIds.map((relayId, index) =>
      deps.transitions.record({
        relayId,
        statuses: ["signed", "submitted"],
        transactionHash: sent.hash,
        relayer: key.address,
        nonce: sent.nonce,
        batchIndex: index,
        detail: { batchIndex: index, batchSize: relayIds.length },
        carrierStatus: "sent",
      }),
    ),
  );
  return relayIds.map((_, index) => ({
    type: "sent",
    ticket: { key, call, sent, hashes: [sent.hash], relayIds, index },
  }));
}
