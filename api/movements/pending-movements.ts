import { and, desc, eq, inArray, or } from "drizzle-orm";

import type { Db } from "../../lib/db/database.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { isPendingAtDoor, moneyMovements } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { describeMovements, type DescribedMovement } from "./describe-movements.ts";
import { settledStates } from "./movement-state.ts";

/**
 * A wallet's movements not yet in the ledger (what its balance does not show yet), newest first:
 * the door's unfinished ones and those whose relay has not settled. Found from the owner's open
 * relays (an index lookup in the relayer), never by reading the wallet's history; nothing is
 * written by this read.
 */
export async function listPendingMovements(
  services: Pick<AppServices, "database" | "relay" | "chainId">,
  wallet: { id: string; userId: string },
): Promise<DescribedMovement[]> {
  const head = await getIndexedHead(services.database, { chainId: services.chainId });
  const openRelayIds = await services.relay.openRelayIds({ requestedBy: wallet.userId, indexedHead: head?.number });
  const rows = (await pendingMovementsQuery(services.database.db, wallet.id, openRelayIds)).filter(
    (row) => row.walletId === wallet.id,
  );
  const described = await describeMovements(services, rows);
  return described.filter((movement) => !settledStates.has(movement.status));
}

/**
 * {@link listPendingMovements}'s read, newest first: the wallet's movements still `pending` at the door
 * (through the partial index money_movements_wallet_pending, whose predicate the literal status matches), and
 * the movements of its owner's open relays (through the relay id's) — of any of the owner's wallets: the
 * caller keeps this wallet's. The wallet's finished history is not read (issue 17).
 *
 * The wallet is not a condition of the whole statement on purpose: a generic plan (which estimates any wallet
 * as average, not as the merchant's with most movements) would then read the wallet's whole history through
 * (wallet_id, seq), in the order asked for.
 */
export function pendingMovementsQuery(db: Db, walletId: string, openRelayIds: readonly string[]) {
  return db
    .select()
    .from(moneyMovements)
    .where(
      or(
        and(eq(moneyMovements.walletId, walletId), isPendingAtDoor(moneyMovements.status)),
        openRelayIds.length > 0 ? inArray(moneyMovements.relayId, [...openRelayIds]) : undefined,
      ),
    )
    .orderBy(desc(moneyMovements.seq));
}
