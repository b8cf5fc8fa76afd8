import { sql, type SQL } from "drizzle-orm";

import { arrayLiteral } from "../lib/db/array-literal.ts";
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
  /** The relay's item index in a batch transaction. */
  batchIndex?: number | undefined;
  /** Recorded with the first step's transition (a batch item's index and the batch's size, say). */
  detail?: Record<string, unknown> | undefined;
  /**
   * The carrying transaction's record: `sent` (only from `signed`) or `mined`; `undefined` leaves it
   * (a batch's follower marks its transaction once for every relay it carries).
   */
  carrierStatus: "sent" | "mined" | undefined;
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

async function writeGroup(database: Database, moves: PathTransition[]): Promise<Set<string>> {
  const rows = await database.query<{ relay_id: string }>(transitionGroupSql(moves));
  return new Set(rows.map((row) => row.relay_id));
}

/**
 * One statement for moves of the same statuses: the relays, their transitions and their carriers.
 * The moves travel as arrays (`unnest`), whose row count the planner knows: it then updates the
 * relays and their carriers by index lookups, where a JSON row set (guessed at 100 rows) had it
 * scan both tables whole — a cost growing with every relay ever recorded. Exported for the test
 * that holds the plan to index lookups.
 */
export function transitionGroupSql(moves: readonly PathTransition[]): SQL {
  const { statuses, carrierStatus } = moves[0]!;
  const steps = statuses.map((status, position) => sql`(${sql.raw(String(position))}, ${status})`);
  return sql`
    WITH v AS (
      SELECT * FROM unnest(
        ${arrayLiteral(moves.map((move) => move.relayId))}::text[],
        ${arrayLiteral(moves.map((move) => move.transactionHash))}::text[],
        ${arrayLiteral(moves.map((move) => move.relayer))}::text[],
        ${arrayLiteral(moves.map((move) => move.nonce))}::bigint[],
        ${arrayLiteral(moves.map((move) => move.blockNumber))}::numeric[],
        ${arrayLiteral(moves.map((move) => move.blockHash))}::text[],
        ${arrayLiteral(moves.map((move) => move.batchIndex))}::integer[],
        ${arrayLiteral(moves.map((move) => (move.detail === undefined ? null : JSON.stringify(move.detail))))}::jsonb[]
      ) AS v(relay_id, transaction_hash, relayer, nonce, block_number, block_hash, batch_index, detail)
    ), moved AS (
      UPDATE ${relays} r SET
        status = ${statuses.at(-1)!}, updated_at = clock_timestamp(), transaction_hash = v.transaction_hash,
        relayer = COALESCE(v.relayer, r.relayer), nonce = COALESCE(v.nonce, r.nonce),
        block_number = COALESCE(v.block_number, r.block_number), block_hash = COALESCE(v.block_hash, r.block_hash),
        batch_index = COALESCE(v.batch_index, r.batch_index)
      FROM v WHERE r.relay_id = v.relay_id
      RETURNING r.relay_id, v.transaction_hash, v.detail
    ),${
      carrierStatus === undefined
        ? sql``
        : sql` carrier AS (
      UPDATE ${relayerTransactions} t SET status = ${carrierStatus}
      FROM v WHERE t.hash = v.transaction_hash${carrierStatus === "sent" ? sql` AND t.status = 'signed'` : sql``}
    ),`
    } inserted AS (
      INSERT INTO ${relayTransitions} (relay_id, status, transaction_hash, detail)
      SELECT moved.relay_id, step.status, moved.transaction_hash, CASE WHEN step.position = 0 THEN moved.detail END
      FROM moved CROSS JOIN (VALUES ${sql.join(steps, sql`, `)}) AS step(position, status)
      ORDER BY moved.relay_id, step.position
    )
    SELECT relay_id FROM moved`;
}
