import type { Hash } from "viem";

import { getTransaction } from "../../lib/ledger/queries/get-transaction.ts";
import type { AppServices } from "../dependencies.ts";
import type { PayoutBatchRow } from "./submit-payout.ts";

/**
 * A payout batch as the API shows it: its items, and where it is — the relay's state (queued,
 * submitted, confirmed, failed, dead) until the indexer has its entries, then `indexed`.
 */
export async function payoutView(services: Pick<AppServices, "relay" | "database" | "chainId">, row: PayoutBatchRow) {
  const relay = row.relayId ? await services.relay.getRelay(row.relayId) : undefined;
  const transactionHash = relay?.transactionHash ?? null;
  let status: string = relay?.state ?? "queued";
  if (status === "confirmed" && transactionHash) {
    const entries = await getTransaction(services.database, {
      chainId: services.chainId,
      transactionHash: transactionHash as Hash,
    });
    if (entries.length > 0) status = "indexed";
  }
  return {
    id: row.id,
    batchId: row.batchId,
    token: row.token,
    total: row.total,
    items: row.items,
    status,
    error: relay?.error ?? null,
    relayId: row.relayId,
    transactionHash,
    createdAt: row.createdAt,
  };
}
