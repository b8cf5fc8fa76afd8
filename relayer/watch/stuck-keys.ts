import { and, inArray, sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { relayerTransactions } from "../db/schema.ts";

/** A relayer key whose oldest sent-but-unmined transaction is older than the threshold. */
export type StuckKey = {
  relayer: string;
  /** The lowest nonce among its unmined transactions. */
  nonce: number;
  /** When that transaction was recorded. */
  since: Date;
  ageSeconds: number;
};

/**
 * The relayer keys whose nonces are not moving: each has a transaction recorded (signed or sent)
 * more than `olderThanSeconds` ago that has not mined — a gap the node lost, a fee below the
 * market, a key out of gas, or no worker left to send. Read from the relayer's own records, so it
 * holds whether or not any worker is alive (the workers keep the records true every watch round).
 * @param relayers - only these keys (all when absent)
 */
export async function listStuckKeys(
  database: Database,
  { olderThanSeconds, relayers }: { olderThanSeconds: number; relayers?: readonly string[] | undefined },
): Promise<StuckKey[]> {
  const rows = await database.db
    .select({
      relayer: relayerTransactions.relayer,
      nonce: sql<string>`min(${relayerTransactions.nonce})`,
      since: sql<string>`min(${relayerTransactions.createdAt})`,
    })
    .from(relayerTransactions)
    .where(
      and(
        inArray(relayerTransactions.status, ["signed", "sent"]),
        relayers === undefined ? undefined : inArray(relayerTransactions.relayer, [...relayers]),
      ),
    )
    .groupBy(relayerTransactions.relayer);
  const now = Date.now();
  return rows
    .map((row) => {
      const since = new Date(row.since);
      return { relayer: row.relayer, nonce: Number(row.nonce), since, ageSeconds: (now - since.getTime()) / 1000 };
    })
    .filter((key) => key.ageSeconds > olderThanSeconds);
}
