import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import type { AppServices } from "../dependencies.ts";
import { movementState } from "../movements/movement-state.ts";
import type { PayoutBatchRow } from "./submit-payout.ts";

/**
 * A payout batch as the API shows it: its items, and where it stands — the one movement state
 * (queued, submitted, confirmed, indexed, failed, dead) of its relay against the indexed head.
 */
export async function payoutView(services: Pick<AppServices, "relay" | "database" | "chainId">, row: PayoutBatchRow) {
  const [relay, head] = await Promise.all([
    row.relayId ? services.relay.getRelay(row.relayId) : undefined,
    getIndexedHead(services.database, { chainId: services.chainId }),
  ]);
  return {
    id: row.id,
    batchId: row.batchId,
    token: row.token,
    total: row.total,
    items: row.items,
    status: movementState("queued", relay, head?.number),
    error: relay?.error ?? null,
    relayId: row.relayId,
    transactionHash: relay?.transactionHash ?? null,
    createdAt: row.createdAt,
  };
}
