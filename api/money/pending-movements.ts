/**
 * Pending movements: accepted by the money door but not yet in the ledger. A movement stays
 * pending while its relay is queued or submitted, and after the chain confirmed it until the
 * indexer has written its entries; a movement whose relay ended (failed, dead) or whose
 * transaction is indexed is settled once in money_movements and never looked at again.
 */
import { and, desc, eq, inArray } from "drizzle-orm";

import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { getTransaction } from "../../lib/ledger/queries/get-transaction.ts";
import type { AppServices } from "../dependencies.ts";
import { moneyMovements } from "../db/schema.ts";
import type { MoneyMovement } from "./submit-money-movement.ts";

export type PendingMovement = MoneyMovement & { transactionHash: string | null };

/** At most this many open movements are reconciled per read (the oldest wait for the next read). */
const RECONCILE_LIMIT = 100;

/**
 * @returns the wallet's movements not yet reflected in the ledger, newest first, with relay status
 */
export async function listPendingMovements(services: AppServices, walletId: string): Promise<PendingMovement[]> {
  const { database } = services;
  const open = await database.db
    .select()
    .from(moneyMovements)
    .where(and(eq(moneyMovements.walletId, walletId), inArray(moneyMovements.status, ["pending", "queued"])))
    .orderBy(desc(moneyMovements.seq))
    .limit(RECONCILE_LIMIT);
  const pending: PendingMovement[] = [];
  const head = open.length ? await getIndexedHead(database, { chainId: services.chainId }) : undefined;
  for (const movement of open) {
    const relay = movement.relayId ? await services.relay.getRelay(movement.relayId) : undefined;
    if (relay?.state === "failed" || relay?.state === "dead") {
      await settle(services, movement.id, relay.state);
      continue;
    }
    // Confirmed and its block indexed: whatever entries the transaction wrote are in the ledger.
    // Without a known block, its entries tell.
    if (relay?.state === "confirmed" && relay.transactionHash) {
      const indexed =
        relay.blockNumber !== undefined
          ? head !== undefined && head.number >= relay.blockNumber
          : (await getTransaction(database, { chainId: services.chainId, transactionHash: relay.transactionHash }))
              .length > 0;
      if (indexed) {
        await settle(services, movement.id, "indexed");
        continue;
      }
    }
    pending.push({
      ...movement,
      status: relay?.state ?? movement.status,
      transactionHash: relay?.transactionHash ?? null,
    });
  }
  return pending;
}

async function settle(services: AppServices, id: string, status: "failed" | "dead" | "indexed"): Promise<void> {
  await services.database.db.update(moneyMovements).set({ status }).where(eq(moneyMovements.id, id));
}
