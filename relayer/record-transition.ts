import { sql, type SQL } from "drizzle-orm";

import { arrayLiteral } from "../lib/db/array-literal.ts";
import type { Database } from "../lib/db/database.ts";
import { relayTransitions, relayerTransactions, relays } from "./db/schema.ts";
import type { RelayJob } from "./jobs/relay-job.ts";
import type { RelayStatus } from "./relay-status.ts";

/** A relay job to record as `queued`, at the time it was queued. */
export type QueuedRelay = { job: RelayJob; queuedAt: Date };

/**
 * The common table expressions that record relays as `queued` (each at its job's enqueue time, with
 * its `queued` transition) unless recorded already: `inserted` holds the relays this statement
 * recorded. One fragment for the producer's record and the workers' {@link beginRelays}, so both
 * write the same rows and transitions.
 */
export function recordQueuedRelaysSql(entries: readonly QueuedRelay[]): SQL {
  const column = (cell: (entry: QueuedRelay) => string | null) => arrayLiteral(entries.map(cell));
  // Arrays, not a JSON row set: cheaper to parse, and their row count is known to the planner.
  return sql`inserted AS (
      INSERT INTO ${relays} (relay_id, kind, status, requested_by, request, deadline, created_at, updated_at)
      SELECT DISTINCT ON (relay_id) relay_id, kind, 'queued', requested_by, request::jsonb, deadline, at, at
      FROM unnest(
        ${column(({ job }) => job.relayId)}::text[],
        ${column(({ job }) => job.request.kind)}::text[],
        ${column(({ job }) => job.requestedBy)}::text[],
        ${column(({ job }) => JSON.stringify(job.request))}::text[],
        ${column(({ job }) => (job.deadline === undefined ? null : new Date(job.deadline).toISOString()))}::timestamptz[],
        ${column(({ queuedAt }) => queuedAt.toISOString())}::timestamptz[]
      ) AS v(relay_id, kind, requested_by, request, deadline, at)
      ON CONFLICT DO NOTHING
      RETURNING relay_id, created_at
    ), queued AS (
      INSERT INTO ${relayTransitions} (relay_id, status, at) SELECT relay_id, 'queued', created_at FROM inserted
    )`;
}

/** Inserts the relay row (status `queued`, at the job's enqueue time) if no one did: one statement. */
export async function ensureRelayRecorded(database: Database, job: RelayJob, queuedAt: Date): Promise<void> {
  await recordQueuedRelays(database, [{ job, queuedAt }]);
}

/** {@link ensureRelayRecorded} for many relays in one statement (the producer's group commit). */
export async function recordQueuedRelays(database: Database, entries: readonly QueuedRelay[]): Promise<void> {
  if (entries.length === 0) return;
  await database.query(sql`WITH ${recordQueuedRelaysSql(entries)} SELECT count(*) FROM inserted`);
}

export type TransitionUpdate = {
  relayer?: string | undefined;
  nonce?: number | undefined;
  transactionHash?: string | undefined;
  blockNumber?: bigint | undefined;
  blockHash?: string | undefined;
  /** Forget the mined block (its block left the chain): block number, hash and finality are cleared. */
  clearBlock?: boolean | undefined;
  batchIndex?: number | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  detail?: Record<string, unknown> | undefined;
  /** Move only relays whose status is one of these now (a check-and-set: of two processes deciding the same move, one records it). */
  onlyFrom?: readonly RelayStatus[] | undefined;
};

/**
 * Moves relays to `status` and records the transition with its time.
 * @returns the relay ids that moved (all of them, unless `update.onlyFrom` excluded some)
 */
export function recordTransition(
  database: Database,
  relayIds: string[],
  status: RelayStatus,
  update: TransitionUpdate = {},
): Promise<string[]> {
  return recordTransitions(database, relayIds, [[status, update]]);
}

/**
 * Moves relays through consecutive statuses at once (signed then submitted, say) and records each
 * transition in order, in one statement for every relay of the call: a batch of N relays costs one
 * round trip per call, not 2·N. The relay row ends at the last status with every step's fields;
 * `onlyFrom` of the first step is the check-and-set of the whole move. `options.transaction` moves
 * the carrying transaction's record in the same statement (one round trip fewer per step).
 * @returns the relay ids that moved, in the order given
 */
export type RecordTransitionsOptions = {
  /**
   * Also moves the transaction that carries the relays, in the same statement: `sent` once its
   * broadcast was answered (only from `signed`), `mined` once its receipt was read, `out-of-gas`
   * once it mined out of gas and its relays go on in a new transaction.
   */
  transaction?: { hash: string; status: "sent" | "mined" | "out-of-gas" } | undefined;
};

export async function recordTransitions(
  database: Database,
  relayIds: string[],
  steps: readonly (readonly [RelayStatus, TransitionUpdate])[],
  options: RecordTransitionsOptions = {},
): Promise<string[]> {
  if (relayIds.length === 0 || steps.length === 0) return [];
  const merged: TransitionUpdate = Object.assign({}, ...steps.map(([, update]) => update));
  const assignments: SQL[] = [sql`status = ${steps.at(-1)![0]}`, sql`updated_at = clock_timestamp()`];
  const set = (column: string, value: unknown) => assignments.push(sql`${sql.identifier(column)} = ${value}`);
  if (merged.relayer !== undefined) set("relayer", merged.relayer);
  if (merged.nonce !== undefined) set("nonce", merged.nonce);
  if (merged.transactionHash !== undefined) set("transaction_hash", merged.transactionHash);
  if (merged.blockNumber !== undefined) set("block_number", merged.blockNumber.toString());
  if (merged.blockHash !== undefined) set("block_hash", merged.blockHash);
  if (merged.clearBlock) for (const column of ["block_number", "block_hash", "final_at"]) set(column, null);
  if (merged.batchIndex !== undefined) set("batch_index", merged.batchIndex);
  if (merged.errorCode !== undefined) {
    set("error_code", merged.errorCode);
    set("error_message", merged.errorMessage ?? null);
  }
  const onlyFrom = steps[0]![1].onlyFrom;
  const transitions = steps.map(
    ([status, update], position) =>
      sql`(${sql.raw(String(position))}, ${status}, ${update.transactionHash ?? null}, ${JSON.stringify(
        update.detail ??
          (update.errorCode === undefined ? null : { code: update.errorCode, message: update.errorMessage }),
      )}::jsonb)`,
  );
  const rows = await database.query<{ relay_id: string }>(sql`
    WITH moved AS (
      UPDATE ${relays} SET ${sql.join(assignments, sql`, `)}
      WHERE ${relays.relayId} IN (${sql.join(
        relayIds.map((id) => sql`${id}`),
        sql`, `,
      )})${
        onlyFrom === undefined
          ? sql``
          : sql` AND ${relays.status} IN (${sql.join(
              onlyFrom.map((from) => sql`${from}`),
              sql`, `,
            )})`
      }
      RETURNING ${relays.relayId}
    ),${
      options.transaction === undefined
        ? sql``
        : sql` carrier AS (
      UPDATE ${relayerTransactions} SET status = ${options.transaction.status}
      WHERE ${relayerTransactions.hash} = ${options.transaction.hash}${
        options.transaction.status === "sent" ? sql` AND ${relayerTransactions.status} = 'signed'` : sql``
      }
    ),`
    } inserted AS (
      INSERT INTO ${relayTransitions} (relay_id, status, transaction_hash, detail)
      SELECT moved.relay_id, step.status, step.transaction_hash, NULLIF(step.detail, 'null'::jsonb)
      FROM moved CROSS JOIN (VALUES ${sql.join(transitions, sql`, `)}) AS step(position, status, transaction_hash, detail)
      ORDER BY moved.relay_id, step.position
    )
    SELECT relay_id FROM moved`);
  const moved = new Set(rows.map((row) => row.relay_id));
  return relayIds.filter((id) => moved.has(id));
}
