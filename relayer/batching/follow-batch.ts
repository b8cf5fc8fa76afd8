import type { PublicClient, TransactionReceipt } from "viem";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { followTransaction, waitForConfirmations } from "../follow-transaction.ts";
import type { BatchTicket } from "./send-transfer-batch.ts";

/** A mined batch transaction, and when it has its confirmations. */
export type FollowedBatch = { receipt: TransactionReceipt; confirmed: Promise<void> };

export type BatchFollower = {
  /** Follows the ticket's transaction until mined; every relay of one batch shares one follow. */
  follow: (ticket: BatchTicket) => Promise<FollowedBatch>;
};

export type CreateBatchFollowerParameters = {
  publicClient: PublicClient;
  database: Database;
  logger: Logger;
  settings: { confirmations: number; replaceAfterMs: number; maxFeePerGasCap: bigint };
};

/**
 * One follower per process for batch transactions. Every relay of a batch waits on the same
 * transaction, but it must be followed — and, when stuck, replaced at its nonce — exactly once:
 * several followers would each sign a replacement. So follows are shared per (key, nonce), the
 * slot a batch and its replacements occupy, using the single relays' followTransaction.
 */
export function createBatchFollower(p: CreateBatchFollowerParameters): BatchFollower {
  const following = new Map<string, Promise<FollowedBatch>>();
  return {
    follow: (ticket) => {
      const slot = `${ticket.key.address}:${ticket.sent.nonce}`;
      const existing = following.get(slot);
      if (existing) return existing;
      const run = (async (): Promise<FollowedBatch> => {
        const receipt = await followTransaction({
          publicClient: p.publicClient,
          database: p.database,
          logger: p.logger,
          key: ticket.key,
          call: ticket.call,
          relayIds: ticket.relayIds,
          sent: ticket.sent,
          hashes: ticket.hashes,
          replaceAfterMs: p.settings.replaceAfterMs,
          maxFeePerGasCap: p.settings.maxFeePerGasCap,
        });
        const confirmed = waitForConfirmations(p.publicClient, receipt.blockNumber, p.settings.confirmations);
        return { receipt, confirmed };
      })();
      following.set(slot, run);
      // Forget the slot once settled: a later retry of one of its relays follows again, which
      // returns at once for a mined transaction.
      void run
        .then((followed) => followed.confirmed)
        .catch(() => undefined)
        .finally(() => following.delete(slot));
      return run;
    },
  };
}
