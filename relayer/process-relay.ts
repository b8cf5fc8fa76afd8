import { UnrecoverableError, type Job } from "bullmq";
import type { Hex, PublicClient, TransactionReceipt } from "viem";

import type { Database } from "../lib/db/database.ts";
import { isStablerailError } from "../lib/errors/base.ts";
import type { Logger } from "../lib/logging/logger.ts";
import type { ContractAddresses } from "../lib/chain/contracts.ts";
import { buildRelayCall } from "./build-call.ts";
import { decodeRevertData, isRevert, revertDataOf } from "./decode-revert.ts";
import {
  RelayExpiredError,
  RelayNonceTakenError,
  RelayOutOfGasError,
  RelayReorgedError,
  RelayRevertedError,
} from "./errors.ts";
import { estimateFees } from "./gas-fees.ts";
import { followTransaction, stillMined, waitForConfirmations } from "./follow-transaction.ts";
import { relayJobSchema, type RelayJob } from "./jobs/relay-job.ts";
import type { RelayerMetrics } from "./metrics.ts";
import { checkAllowlist, checkGasPriceCap } from "./send-policies.ts";
import type { RelayStart, RelayStarter } from "./begin-relay.ts";
import { readReceipt } from "./read-receipt.ts";
import { recordTransition, recordTransitions } from "./record-transition.ts";
import type { TransitionWriter } from "./transition-writer.ts";
import type { RelayerKey, SentTransaction } from "./nonce-manager.ts";
import type { RelayStatus } from "./relay-status.ts";

/** How many times a relay whose transaction ran out of gas on chain is sent again (each time with 1.5× the limit). */
export const MAX_OUT_OF_GAS_RESENDS = 2;

export type ProcessRelayDependencies = {
  database: Database;
  publicClient: PublicClient;
  logger: Logger;
  contracts: ContractAddresses;
  /** Picks the key that sends this job (round-robin over leased relayer keys, or the operator key). */
  pickKey: (job: RelayJob) => RelayerKey;
  /** Finds a leased key by address (to resume a relay sent before a crash). */
  keyByAddress: (address: string) => RelayerKey | undefined;
  metrics: RelayerMetrics;
  /** Takes a job: records the relay if unseen, reads what was recorded (group commit, one per process). */
  begin: RelayStarter;
  /** Group commit of the signed → submitted and mined → confirmed moves (one per process). */
  transitions: TransitionWriter;
  settings: {
    confirmations: number;
    maxFeePerGasCap: bigint;
    replaceAfterMs: number;
    allowlist?: readonly `0x${string}`[] | undefined;
  };
};

/**
 * Runs one relay job to its end: validate, check deadline and policies, simulate, sign and send
 * from a leased key, follow to the configured confirmations (replacing a stuck transaction), and
 * record every transition. Idempotent: a retried job whose transaction was already recorded
 * resumes following it at its nonce instead of sending again.
 * @throws UnrecoverableError for failures that must not be retried (policy, revert, expiry)
 */
export async function processRelay(
  job: Job,
  deps: ProcessRelayDependencies,
  /** What the starter ({@link RelayStarter}) found, when the caller already took the job (the batching path). */
  taken?: RelayStart,
): Promise<{ status: RelayStatus; transactionHash?: Hex }> {
  const parsed = relayJobSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`RELAY_JOB_INVALID: ${parsed.error.message}`);
  const relay = parsed.data;
  const { database, publicClient, metrics } = deps;
  const start = taken ?? (await deps.begin({ job: relay, queuedAt: new Date(job.timestamp) }));

  const fail = async (status: "failed" | "expired" | "cancelled", error: Error & { code?: string }) => {
    await recordTransition(database, [relay.relayId], status, {
      errorCode: error.code ?? "RELAY_FAILED",
      errorMessage: error.message,
    });
    metrics.outcomes.inc({ kind: relay.request.kind, outcome: status });
    throw new UnrecoverableError(`${error.code ?? "RELAY_FAILED"}: ${error.message}`);
  };

  const call = buildRelayCall(relay.request, deps.contracts);

  /**
   * Sends the call in a new transaction, at the next nonce of a picked key, after the checks a new
   * send needs (deadline, allowlist, gas price cap) and a simulation from that key. `minimumGas`:
   * the limit of an earlier transaction of this relay that ran out of gas.
   */
  const sendNew = async (
    minimumGas = 0n,
  ): Promise<{ key: RelayerKey; sent: SentTransaction; confirmedAtOnce?: TransactionReceipt }> => {
    if (relay.deadline !== undefined && Date.now() >= Date.parse(relay.deadline)) {
      return fail("expired", new RelayExpiredError(relay.deadline));
    }
    try {
      checkAllowlist(relay.request, deps.contracts, deps.settings.allowlist);
    } catch (error) {
      return fail("failed", error as Error);
    }
    const key = deps.pickKey(relay);
    const fees = await estimateFees(publicClient);
    try {
      checkGasPriceCap(fees, deps.settings.maxFeePerGasCap);
    } catch (error) {
      return fail("failed", error as Error);
    }
    let gas: bigint;
    try {
      // Simulates the call from the sending key: a revert is decoded here, before any nonce is used.
      const estimate = await publicClient.estimateGas({
        account: key.address,
        to: call.to,
        data: call.data,
        value: call.value,
      });
      gas = maxOf((estimate * 12n) / 10n, minimumGas);
    } catch (error) {
      if (isRevert(error))
        return fail("failed", new RelayRevertedError(decodeRevertData(revertDataOf(error)), { cause: error }));
      throw error;
    }
    const sent = await key.send(call, gas, fees, [relay.relayId], { markSent: false });
    const out = { relayId: relay.relayId, transactionHash: sent.hash, relayer: key.address, nonce: sent.nonce };
    // A chain that mines as it receives (a local node's automine, a sequencer answering with the
    // block) already holds the receipt: with no confirmations to wait for, the relay's whole path is
    // then one write instead of two, and it is not followed. The receipt is read as the follower
    // reads it (a failed read proves nothing: the relay is then followed as usual).
    if (deps.settings.confirmations === 0) {
      const receipt = await readReceipt(publicClient, sent.hash).catch(() => undefined);
      if (receipt?.status === "success") {
        await deps.transitions.record({
          ...out,
          statuses: ["signed", "submitted", "mined", "confirmed"],
          blockNumber: receipt.blockNumber,
          blockHash: receipt.blockHash,
          carrierStatus: "mined",
        });
        return { key, sent, confirmedAtOnce: receipt };
      }
    }
    await deps.transitions.record({ ...out, statuses: ["signed", "submitted"], carrierStatus: "sent" });
    return { key, sent };
  };

  let key: RelayerKey;
  let sent: SentTransaction;
  let hashes: Hex[];
  let confirmedAtOnce: TransactionReceipt | undefined;

  const recorded = start.transactions;
  const latest = recorded[0];
  if (latest) {
    // Sent before (a crash or a retry after broadcast): follow the same nonce, never a new one.
    const owner = deps.keyByAddress(latest.relayer);
    if (!owner)
      throw new Error(
        `RELAYER_KEY_UNAVAILABLE: relay ${relay.relayId} was sent by ${latest.relayer}, which this worker does not hold`,
      );
    key = owner;
    await key.broadcast(latest.raw as Hex).catch(() => undefined);
    // A transaction recorded while the relay still says queued (its broadcast failed in transport,
    // the worker died before the transition): the relay says what is out now.
    if (start.status === "queued") {
      await recordTransitions(
        database,
        [relay.relayId],
        [
          ["signed", { relayer: latest.relayer, nonce: latest.nonce, transactionHash: latest.hash }],
          ["submitted", { transactionHash: latest.hash }],
        ],
      );
    }
    sent = {
      nonce: latest.nonce,
      hash: latest.hash as Hex,
      raw: latest.raw as Hex,
      gas: 0n,
      fees: { maxFeePerGas: BigInt(latest.maxFeePerGas), maxPriorityFeePerGas: BigInt(latest.maxPriorityFeePerGas) },
    };
    sent.gas = (await publicClient.getTransaction({ hash: sent.hash }).catch(() => undefined))?.gas ?? 1_000_000n;
    // The versions at this key's nonce only: a relay sent again after running out of gas has
    // earlier transactions, maybe of another key at the same nonce number.
    hashes = recorded
      .filter((row) => row.nonce === latest.nonce && row.relayer === latest.relayer)
      .map((row) => row.hash as Hex)
      .reverse();
  } else {
    ({ key, sent, confirmedAtOnce } = await sendNew());
    hashes = [sent.hash];
  }
  // Transactions of this relay that ran out of gas before this attempt (each at its own nonce).
  let resends = Math.max(0, new Set(recorded.map((row) => `${row.relayer}:${row.nonce}`)).size - 1);

  let confirmedBy: Hex;
  for (;;) {
    if (confirmedAtOnce) {
      confirmedBy = confirmedAtOnce.transactionHash;
      break;
    }
    let receipt: TransactionReceipt;
    try {
      receipt = await followTransaction({
        publicClient,
        database,
        logger: deps.logger,
        key,
        call,
        relayIds: [relay.relayId],
        sent,
        hashes,
        replaceAfterMs: deps.settings.replaceAfterMs,
        maxFeePerGasCap: deps.settings.maxFeePerGasCap,
        // Marked below with the relay's own `mined` transition, in the same statement.
        markMined: false,
      });
    } catch (error) {
      if (error instanceof RelayNonceTakenError) return fail("failed", error);
      throw error;
    }
    const where = {
      transactionHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
    };
    if (receipt.status === "success" && deps.settings.confirmations === 0) {
      // Confirmed as it mined: the receipt was just read from the chain's block. A reorg after this
      // is the finality watch's to see, as for any confirmed relay.
      await deps.transitions.record({
        relayId: relay.relayId,
        statuses: ["mined", "confirmed"],
        ...where,
        carrierStatus: "mined",
      });
      confirmedBy = receipt.transactionHash;
      break;
    }
    const carrierMined = { transaction: { hash: receipt.transactionHash, status: "mined" as const } };
    await recordTransitions(database, [relay.relayId], [["mined", where]], carrierMined);
    if (deps.settings.confirmations > 0) {
      await waitForConfirmations(publicClient, receipt.blockNumber, deps.settings.confirmations);
      // Nothing is concluded from a block that left the chain while the confirmations were
      // counted: neither a success nor a revert (the same bytes may mine again in another state).
      if (!(await stillMined(publicClient, receipt))) {
        await recordReorged(deps, [relay.relayId], receipt, key);
        throw new RelayReorgedError(relay.relayId, receipt.transactionHash, receipt.blockNumber);
      }
    }
    if (receipt.status === "success") {
      await recordTransition(database, [relay.relayId], "confirmed", where);
      confirmedBy = receipt.transactionHash;
      break;
    }
    const gasLimit = (await publicClient.getTransaction({ hash: receipt.transactionHash })).gas;
    if (receipt.gasUsed < gasLimit) {
      const reason = await replayRevert(publicClient, key.address, call, receipt.blockNumber);
      return fail("failed", new RelayRevertedError(reason));
    }
    // Out of gas: the limit came from a simulation on another state than the one it mined on (a
    // recipient whose balance was emptied meanwhile, a reorg that took the state back). Nothing of
    // the call executed, on a block that stands: it is sent again, with a higher limit.
    if (resends >= MAX_OUT_OF_GAS_RESENDS) return fail("failed", new RelayOutOfGasError(gasLimit, resends + 1));
    resends += 1;
    deps.logger.warn(
      { relayId: relay.relayId, transactionHash: receipt.transactionHash, gasLimit: gasLimit.toString() },
      "a relay's transaction ran out of gas; sending the call again with a higher limit",
    );
    // Its record leaves `mined`, so its bytes are never broadcast again (a re-synchronisation after
    // a reorg re-sends what is recorded at the open nonces): from here the call lives only in the
    // new transaction, and a reorg that takes the out-of-gas block away cannot run it twice.
    await recordTransitions(
      database,
      [relay.relayId],
      [
        [
          "replaced",
          {
            transactionHash: receipt.transactionHash,
            clearBlock: true,
            detail: { outOfGas: { gasUsed: receipt.gasUsed.toString(), gasLimit: gasLimit.toString() } },
          },
        ],
      ],
      { transaction: { hash: receipt.transactionHash, status: "out-of-gas" } },
    );
    ({ key, sent, confirmedAtOnce } = await sendNew((gasLimit * 3n) / 2n));
    hashes = [sent.hash];
  }
  metrics.outcomes.inc({ kind: relay.request.kind, outcome: "confirmed" });
  metrics.latency.observe({ kind: relay.request.kind }, (Date.now() - job.timestamp) / 1000);
  return { status: "confirmed", transactionHash: confirmedBy };
}

/**
 * Records that `receipt`'s block left the chain for `relayIds`: a `reorged` transition, the relay
 * `submitted` again with its block forgotten (only relays still mined or confirmed move). Then the
 * key re-synchronises, which re-broadcasts the recorded bytes the node no longer holds.
 * @returns the relay ids that moved
 */
export async function recordReorged(
  deps: Pick<ProcessRelayDependencies, "database" | "logger">,
  relayIds: string[],
  receipt: Pick<TransactionReceipt, "transactionHash" | "blockNumber" | "blockHash">,
  key: RelayerKey | undefined,
): Promise<string[]> {
  deps.logger.warn(
    { relayIds, transactionHash: receipt.transactionHash, blockNumber: Number(receipt.blockNumber) },
    "a relay's block left the chain (reorg); following the same transaction again",
  );
  const detail = { orphanedBlock: receipt.blockNumber.toString(), orphanedBlockHash: receipt.blockHash };
  const moved = await recordTransition(deps.database, relayIds, "reorged", {
    transactionHash: receipt.transactionHash,
    clearBlock: true,
    detail,
    onlyFrom: ["mined", "confirmed"],
  });
  await recordTransition(deps.database, moved, "submitted", { transactionHash: receipt.transactionHash });
  await key
    ?.repair()
    .catch((error: unknown) =>
      deps.logger.warn({ relayer: key.address, err: (error as Error).message }, "re-synchronising the key failed"),
    );
  return moved;
}

/**
 * Re-runs a mined-but-reverted call on the state its block left, to read the revert data: what
 * made it revert is there, whether it came before the block (a frozen account) or earlier in the
 * same block (a third party that used the authorization first).
 */
async function replayRevert(
  publicClient: PublicClient,
  from: `0x${string}`,
  call: { to: `0x${string}`; data: Hex; value: bigint },
  blockNumber: bigint,
): Promise<string> {
  try {
    await publicClient.call({ account: from, to: call.to, data: call.data, value: call.value, blockNumber });
    return "reverted on chain (the call succeeds on the state after its block: a transaction later in the block changed it back)";
  } catch (error) {
    return decodeRevertData(revertDataOf(error));
  }
}

/** Whether an error may be retried by BullMQ (ours say so; unknown ones — network — are). */
export function isRetryable(error: unknown): boolean {
  return isStablerailError(error) ? error.retryable : !(error instanceof UnrecoverableError);
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
