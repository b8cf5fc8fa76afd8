import { and, desc, eq, inArray, or } from "drizzle-orm";

import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { moneyMovements } from "../db/schema.ts";
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
  const rows = await services.database.db
    .select()
    .from(moneyMovements)
    .where(
      and(
        eq(moneyMovements.walletId, wallet.id),
        or(
          eq(moneyMovements.status, "pending"),
          openRelayIds.length > 0 ? inArray(moneyMovements.relayId, openRelayIds) : undefined,
        ),
      ),
    )
    .orderBy(desc(moneyMovements.seq));
  const described = await describeMovements(services, rows);
  return described.filter((movement) => !settledStates.has(movement.status));
}
