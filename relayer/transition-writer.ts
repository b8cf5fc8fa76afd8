import { sql } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { relayTransitions, relayerTransactions, relays } from "./db/schema.ts";
import { createGroupCommit } from "./group-commit.ts";
import type { RelayStatus } from "./relay-status.ts";

/**
 * One relay's move along the path every sent relay takes — signed → submitted once its
 * transaction is out, mined (→ confirmed) once its receipt is read — with the carrying
 * transaction's record moved in the same write. Each step records the transaction's hash.
 */
export type PathTransition = {
  relayId: string;
  /** Consecutive statuses; the relay ends at the last. */
  statuses: readonly RelayStatus[];
  transactionHash: string;
  relayer?: string | undefined;
  nonce?: number | undefined;
  blockNumber?: bigint | undefined;
  blockHash?: string | undefined;
  /** The carrying transaction's record: `sent` (only from `signed`) or `mined`. */
  carrierStatus: "sent" | "mined";
};

export type TransitionWriter = {
  /** Records `move`; resolves once it is committed. @returns whether the relay moved */
  record: (move: PathTransition) => Promise<boolean>;
};

/**
 * Group commit (group-commit.ts) for the transitions every relay makes: the moves that arrive while
 * a write is in flight go together in the next one — one statement per kind of move (the same
 * statuses) for every relay that made it, instead of one per relay.
 */
export function createTransitionWriter(database: Database): TransitionWriter {
  const record = createGroupCommit<PathTransition, boolean>(
    async (moves) => {
      const moved = await writeGroup(database, moves);
      return moves.map((move) => moved.has(move.relayId));
    },
    (move) => `${move.statuses.join(">")}|${move.carrierStatus}`,
  );
  return { record };
}

/** One statement for moves of the same statuses: the relays, their transitions and their carriers. */
async function writeGroup(database: Database, moves: PathTransition[]): Promise<Set<string>> {
  const { statuses, carrierStatus } = moves[0]!;
  const steps = statuses.map((status, position) => sql`(${sql.raw(String(position))}, ${status})`);
  const rows = await database.query<{ relay_id: string }>(sql`
    WITH v AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(
        moves.map((move) => ({
          relay_id: move.relayId,
          transaction_hash: move.transactionHash,
          relayer: move.relayer ?? null,
          nonce: move.nonce ?? null,
          block_number: move.blockNumber?.toString() ?? null,
          block_hash: move.blockHash ?? null,
        })),
      )}::json)
        AS v(relay_id text, transaction_hash text, relayer text, nonce bigint, block_number numeric, block_hash text)
    ), moved AS (
      UPDATE ${relays} r SET
        status = ${statuses.at(-1)!}, updated_at = clock_timestamp(), transaction_hash = v.transaction_hash,
        relayer = COALESCE(v.relayer, r.relayer), nonce = COALESCE(v.nonce, r.nonce),
        block_number = COALESCE(v.block_number, r.block_number), block_hash = COALESCE(v.block_hash, r.block_hash)
      FROM v WHERE r.relay_id = v.relay_id
      RETURNING r.relay_id, v.transaction_hash
    ), carrier AS (
      UPDATE ${relayerTransactions} t SET status = ${carrierStatus}
      FROM v WHERE t.hash = v.transaction_hash${carrierStatus === "sent" ? sql` AND t.status = 'signed'` : sql``}
    ), inserted AS (
      INSERT INTO ${relayTransitions} (relay_id, status, transaction_hash)
      SELECT moved.relay_id, step.status, moved.transaction_hash
      FROM moved CROSS JOIN (VALUES ${sql.join(steps, sql`, `)}) AS step(position, status)
      ORDER BY moved.relay_id, step.position
    )
    SELECT relay_id FROM moved`);
  return new Set(rows.map((row) => row.relay_id));
}
