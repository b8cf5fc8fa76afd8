import { and, asc, eq, sql } from "drizzle-orm";

import { moneyMovements } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";

export type PendingMovement = typeof moneyMovements.$inferSelect & {
  relayState: string;
  transactionHash: string | null;
};

/**
 * The movements of a payment request that the relayer has not finished (queued or submitted): what
 * the chain and the ledger do not show yet. Capture and refund limits deduct them.
 */
export async function pendingPaymentMovements(
  services: Pick<AppServices, "database" | "relay">,
  paymentRequestId: string,
): Promise<PendingMovement[]> {
  const rows = await services.database.db
    .select()
    .from(moneyMovements)
    .where(
      and(
        eq(moneyMovements.status, "queued"),
        sql`${moneyMovements.details}->>'paymentRequestId' = ${paymentRequestId}`,
      ),
    )
    .orderBy(asc(moneyMovements.seq));
  const withState = await Promise.all(
    rows.map(async (row) => {
      const relay = row.relayId ? await services.relay.getRelay(row.relayId) : undefined;
      return { ...row, relayState: relay?.state ?? "queued", transactionHash: relay?.transactionHash ?? null };
    }),
  );
  return withState.filter((m) => m.relayState === "queued" || m.relayState === "submitted");
}

/** Sum of the pending movements of one kind. */
export function pendingTotal(pending: PendingMovement[], kind: string): bigint {
  return pending.filter((m) => m.kind === kind).reduce((sum, m) => sum + BigInt(m.amount), 0n);
}
