import { and, asc, sql } from "drizzle-orm";

import { moneyMovements } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { describeMovements, type DescribedMovement } from "../movements/describe-movements.ts";
import { settledStates } from "../movements/movement-state.ts";

/**
 * The movements of a payment request not yet in the ledger (the relayer has not finished them, or
 * the indexer has not reached them): what the escrow's ledger state does not show yet. Capture and
 * refund limits deduct them. A payment has few movements, so all of them are read and described.
 */
export async function pendingPaymentMovements(
  services: Pick<AppServices, "database" | "relay" | "chainId">,
  paymentRequestId: string,
): Promise<DescribedMovement[]> {
  const rows = await services.database.db
    .select()
    .from(moneyMovements)
    .where(and(sql`${moneyMovements.details}->>'paymentRequestId' = ${paymentRequestId}`))
    .orderBy(asc(moneyMovements.seq));
  return (await describeMovements(services, rows)).filter((m) => !settledStates.has(m.status));
}

/**
 * Sum of the movements of one kind not yet on chain (recorded, queued or submitted): what the
 * escrow's on-chain state does not reflect yet. A confirmed movement is already in that state.
 */
export function pendingTotal(pending: readonly DescribedMovement[], kind: string): bigint {
  return pending
    .filter((m) => m.kind === kind && (m.status === "pending" || m.status === "queued" || m.status === "submitted"))
    .reduce((sum, m) => sum + BigInt(m.amount), 0n);
}
