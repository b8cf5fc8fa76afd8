import { randomBytes } from "node:crypto";

import { eq, inArray } from "drizzle-orm";
import { isHex, keccak256, stringToHex, type Address, type Hex } from "viem";

import { settlementAbi } from "../../lib/chain/abis/settlement.ts";
import { ValidationError } from "../../lib/errors/base.ts";
import type { Principal } from "../auth/principal.ts";
import { apiUsers, moneyMovements, payoutBatches, wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement } from "../movements/submit-money-movement.ts";
import { PayoutBatchReplayedError } from "./errors.ts";

/** One payout as the operator asks for it: a merchant's wallet (by id) or any address, an amount, a reference. */
export type PayoutItemInput = {
  walletId?: string | undefined;
  address?: Address | undefined;
  amount: bigint;
  reference: string;
};

/** One payout as stored and shown: the resolved recipient and the bytes32 reference the contract logs. */
export type StoredPayoutItem = {
  walletId: string | null;
  merchant: Address;
  amount: string;
  reference: string;
  payoutReference: Hex;
};

export type PayoutBatchRow = typeof payoutBatches.$inferSelect & { items: StoredPayoutItem[] };

export type SubmitPayoutInput = {
  principal: Principal;
  batchId?: Hex | undefined;
  items: PayoutItemInput[];
  idempotencyKey: string;
};

/** A reference the contract logs as bytes32: a 0x-prefixed 32-byte hex as is, any other text by its keccak256. */
export function payoutReferenceOf(reference: string): Hex {
  return isHex(reference) && reference.length === 66
    ? (reference.toLowerCase() as Hex)
    : keccak256(stringToHex(reference));
}

/**
 * Pays many merchants from the settlement treasury (the Settlement contract's own token balance) in
 * one `Settlement.payout` transaction, sent by the operator key (PAYOUT_ROLE), through the money door
 * as one `payout` movement of the batch total: the door's policies see the treasury as the sender
 * (its balance must cover the total) and every item's recipient as a payee (none the zero address or
 * a platform contract, none frozen on the token). The batch id is used once — refused here if this API or the chain has seen it, and the
 * contract refuses a replay again.
 * @throws ValidationError PAYOUT_WALLET_INVALID, the door's RECIPIENT_INVALID / ACCOUNT_FROZEN, PayoutBatchReplayedError
 */
export async function submitPayout(services: AppServices, input: SubmitPayoutInput): Promise<PayoutBatchRow> {
  const { database, contracts } = services;
  const batchId = input.batchId ?? (`0x${randomBytes(32).toString("hex")}` as Hex);
  const items = await resolveItems(services, input.items);
  const total = items.reduce((sum, item) => sum + BigInt(item.amount), 0n);

  let claimedId: string | undefined;
  const movement = await submitMoneyMovement(services, {
    kind: "payout",
    userId: input.principal.userId,
    walletId: null,
    token: contracts.stablecoin,
    from: contracts.settlement,
    to: contracts.settlement,
    amount: total,
    payees: items.map((item) => item.merchant),
    idempotencyKey: input.idempotencyKey,
    prepare: async ({ movementId, relayId }) => {
      const executed = await services.publicClient.readContract({
        address: contracts.settlement,
        abi: settlementAbi,
        functionName: "isBatchExecuted",
        args: [batchId],
      });
      if (executed) throw new PayoutBatchReplayedError(batchId);
      await releaseFailedBatch(services, batchId);
      const [claimed] = await database.db
        .insert(payoutBatches)
        .values({
          id: crypto.randomUUID(),
          batchId,
          requestedBy: input.principal.userId,
          token: contracts.stablecoin,
          total: total.toString(),
          items,
          movementId,
          relayId,
        })
        .onConflictDoNothing()
        .returning({ id: payoutBatches.id });
      if (!claimed) throw new PayoutBatchReplayedError(batchId);
      claimedId = claimed.id;
      return {
        request: {
          kind: "settlement.payout" as const,
          batchId,
          token: contracts.stablecoin,
          items: items.map(({ merchant, amount, payoutReference }) => ({ merchant, amount, payoutReference })),
        },
        reference: batchId,
        details: { payoutBatchId: claimed.id, batchId, itemCount: items.length },
      };
    },
  }).catch(async (error: unknown) => {
    // Refused after this request claimed the batch id. Recorded (the queue failed): keep the batch,
    // a retry with the same Idempotency-Key queues exactly it. Not recorded: free the id again.
    if (claimedId) {
      const [recorded] = await database.db
        .select({ id: moneyMovements.id })
        .from(moneyMovements)
        .innerJoin(payoutBatches, eq(payoutBatches.movementId, moneyMovements.id))
        .where(eq(payoutBatches.id, claimedId));
      if (!recorded) await database.db.delete(payoutBatches).where(eq(payoutBatches.id, claimedId));
    }
    throw error;
  });

  const payoutBatchId = (movement.details as { payoutBatchId: string }).payoutBatchId;
  const [row] = await database.db.select().from(payoutBatches).where(eq(payoutBatches.id, payoutBatchId));
  return row as PayoutBatchRow;
}

/** Items by wallet id must name a merchant's wallet; items by address pay that address. */
async function resolveItems(services: AppServices, items: PayoutItemInput[]): Promise<StoredPayoutItem[]> {
  const walletIds = [...new Set(items.flatMap((item) => (item.walletId ? [item.walletId] : [])))];
  const merchantWallets = walletIds.length
    ? await services.database.db
        .select({ id: wallets.id, address: wallets.address, role: apiUsers.role })
        .from(wallets)
        .innerJoin(apiUsers, eq(apiUsers.id, wallets.userId))
        .where(inArray(wallets.id, walletIds))
    : [];
  const byId = new Map(merchantWallets.map((wallet) => [wallet.id, wallet]));
  return items.map((item, index) => {
    let merchant = item.address;
    if (item.walletId) {
      const wallet = byId.get(item.walletId);
      if (!wallet || wallet.role !== "merchant") {
        throw new ValidationError("PAYOUT_WALLET_INVALID", `Item ${index} names no merchant's wallet`, {
          details: { index, walletId: item.walletId },
        });
      }
      merchant = wallet.address as Address;
    }
    return {
      walletId: item.walletId ?? null,
      merchant: merchant!,
      amount: item.amount.toString(),
      reference: item.reference,
      payoutReference: payoutReferenceOf(item.reference),
    };
  });
}

/**
 * A batch id whose relay failed or died never paid anything (the caller checked the chain): its row
 * no longer holds the id, so the operator may send the batch again under the same id.
 */
async function releaseFailedBatch(services: AppServices, batchId: Hex): Promise<void> {
  const [previous] = await services.database.db.select().from(payoutBatches).where(eq(payoutBatches.batchId, batchId));
  if (!previous?.relayId) return;
  const relay = await services.relay.getRelay(previous.relayId);
  // The relay's own outcome (not the movement's view): failed or dead means it never paid.
  if (relay?.state === "failed" || relay?.state === "dead") {
    await services.database.db.delete(payoutBatches).where(eq(payoutBatches.id, previous.id));
  }
}
