import { eq, inArray } from "drizzle-orm";
import type { Hex, PublicClient, TransactionReceipt } from "viem";

import type { Database } from "../lib/db/database.ts";
import type { Logger } from "../lib/logging/logger.ts";
import type { RelayCall } from "./build-call.ts";
import { relayerTransactions } from "./db/schema.ts";
import { RelayNonceTakenError } from "./errors.ts";
import { bumpFees, estimateFees } from "./gas-fees.ts";
import { readNonceUse } from "./read-nonce-use.ts";
import { readReceipt } from "./read-receipt.ts";
import { recordTransition } from "./record-transition.ts";
import type { RelayerKey, SentTransaction } from "./nonce-manager.ts";

export type FollowTransactionParameters = {
  publicClient: PublicClient;
  database: Database;
  logger: Logger;
  key: RelayerKey;
  call: RelayCall;
  relayIds: string[];
  sent: SentTransaction;
  /** Every hash already broadcast at this nonce (a resumed relay may have several). */
  hashes: Hex[];
  replaceAfterMs: number;
  maxFeePerGasCap: bigint;
  pollMs?: number;
  /**
   * Whether the mined version's record is marked `mined` here (default). False when the caller
   * marks it with the relays' `mined` transition in one statement.
   */
  markMined?: boolean;
};

/**
 * Waits until one of the transactions at `sent.nonce` is mined. When none is mined after
 * `replaceAfterMs`, signs a replacement at the same nonce with fees raised by ≥ 10% (within the
 * cap) and records `replaced` → `submitted`. Whichever version mines is the one reported.
 * @returns the receipt of the mined version
 * @throws RelayNonceTakenError when another transaction of the key was mined at this nonce
 */
export async function followTransaction(p: FollowTransactionParameters): Promise<TransactionReceipt> {
  const hashes = [...p.hashes];
  let current = p.sent;
  let sentAt = Date.now();
  const pollMs = p.pollMs ?? 100;
  const markMined = async (hash: Hex) => {
    if (p.markMined === false) return;
    await p.database.db.update(relayerTransactions).set({ status: "mined" }).where(eq(relayerTransactions.hash, hash));
  };
  // The receipt of the version that mined; undefined when the node says none of them has one, or
  // "unknown" when a read failed — a failed read proves nothing, so it may never end the relay.
  const findMined = async (): Promise<TransactionReceipt | "unknown" | undefined> => {
    let unknown = false;
    for (const hash of [...hashes].reverse()) {
      const receipt = await readReceipt(p.publicClient, hash).catch(() => {
        unknown = true;
        return undefined;
      });
      if (receipt) {
        await markMined(hash);
        return receipt;
      }
    }
    return unknown ? "unknown" : undefined;
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, pollMs));
  for (;;) {
    const receipt = await findMined();
    if (receipt === "unknown") {
      await pause();
      continue;
    }
    if (receipt) return receipt;
    // The key's nonce moved past ours and none of our versions mined: another transaction took the
    // nonce (a key used outside the relayer, a lost lease). Ours can never be mined now — waiting
    // would be for ever, and failing cannot double-spend. The verdict is read on one chain
    // (readNonceUse): a reorg between two reads must not turn a mined version into "taken".
    const minedNonce = await p.publicClient.getTransactionCount({ address: p.key.address, blockTag: "latest" });
    if (minedNonce > current.nonce) {
      const use = await readNonceUse(p.publicClient, p.key.address, current.nonce, [...hashes].reverse());
      if (use.kind === "mined") {
        await markMined(use.receipt.transactionHash);
        return use.receipt;
      }
      if (use.kind === "taken") {
        await p.database.db
          .update(relayerTransactions)
          .set({ status: "dropped" })
          .where(inArray(relayerTransactions.hash, hashes));
        throw new RelayNonceTakenError(p.key.address, current.nonce);
      }
      await pause();
      continue;
    }
    if (Date.now() - sentAt >= p.replaceAfterMs) {
      const fees = bumpFees(current.fees, await estimateFees(p.publicClient));
      if (fees.maxFeePerGas <= p.maxFeePerGasCap) {
        const replacement = await p.key.replace(current.nonce, p.call, current.gas, fees, p.relayIds, current.hash);
        if (!replacement) continue; // the nonce mined meanwhile: the next look finds which version
        p.logger.warn(
          { relayer: p.key.address, nonce: current.nonce, replaced: current.hash, hash: replacement.hash },
          "replaced a stuck transaction",
        );
        await recordTransition(p.database, p.relayIds, "replaced", {
          transactionHash: current.hash,
          detail: { replacedBy: replacement.hash },
        });
        await recordTransition(p.database, p.relayIds, "submitted", {
          transactionHash: replacement.hash,
          detail: { maxFeePerGas: fees.maxFeePerGas.toString() },
        });
        hashes.push(replacement.hash);
        current = replacement;
      } else {
        // Raising further would break the cap: keep waiting on what was sent, re-broadcast it.
        await p.key.broadcast(current.raw).catch(() => undefined);
      }
      sentAt = Date.now();
    }
    await pause();
  }
}

/**
 * Whether the transaction of `receipt` is still mined in the same block — false once a reorg took
 * that block out of the chain (the node then has no receipt, or one in another block).
 */
export async function stillMined(publicClient: PublicClient, receipt: TransactionReceipt): Promise<boolean> {
  const now = await readReceipt(publicClient, receipt.transactionHash);
  return now !== undefined && now.blockHash === receipt.blockHash;
}

/** Waits until `blockNumber` has `confirmations` blocks on top of it. */
export async function waitForConfirmations(
  publicClient: PublicClient,
  blockNumber: bigint,
  confirmations: number,
  pollMs = 100,
): Promise<void> {
  while ((await publicClient.getBlockNumber({ cacheTime: 0 })) < blockNumber + BigInt(confirmations)) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
