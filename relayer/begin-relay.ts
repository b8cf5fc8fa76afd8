import { sql, type SQL } from "drizzle-orm";

import { arrayLiteral } from "../lib/db/array-literal.ts";
import type { Database } from "../lib/db/database.ts";
import { relayerTransactions, relays } from "./db/schema.ts";
import { createGroupCommit } from "./group-commit.ts";
import { recordQueuedRelaysSql, type QueuedRelay } from "./record-transition.ts";
import type { RelayStatus } from "./relay-status.ts";

export type RecordedTransaction = typeof relayerTransactions.$inferSelect;

/** What a worker finds when it takes a relay job. */
export type RelayStart = {
  /** The relay's status before this job took it ("queued" when this call recorded it). */
  status: RelayStatus;
  /** Every transaction recorded as carrying the relay, newest first (empty for a relay never sent). */
  transactions: RecordedTransaction[];
};

type Row = {
  relay_id: string;
  relay_status: RelayStatus | null;
  id: string | null;
  relayer: string;
  nonce: string | number;
  hash: string;
  raw: string;
  relay_ids: string[] | string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
  status: string;
  created_at: string | Date;
};

/** A job a worker takes, with the time it was queued. */
export type RelayTake = QueuedRelay;

/** Takes one relay job: what {@link beginRelays} says for it (shared with the jobs taken with it). */
export type RelayStarter = (take: RelayTake) => Promise<RelayStart>;

/**
 * Takes relay jobs in one statement: records each relay (status `queued`, at its job's enqueue
 * time, with its `queued` transition) if no producer or earlier attempt did, and reads what was
 * recorded for each — its status and every transaction that carries it. A worker decides from
 * this whether to send (nothing recorded) or to follow what is out (a retry, a crash after
 * signing).
 * @returns one {@link RelayStart} per take, in order
 */
export async function beginRelays(database: Database, takes: readonly RelayTake[]): Promise<RelayStart[]> {
  const rows = await database.query<Row>(beginRelaysSql(takes));
  const starts = new Map<string, RelayStart>();
  for (const row of rows) {
    let start = starts.get(row.relay_id);
    if (!start) {
      // The statement's reads see the tables as they were before its inserts: no status means the
      // relay was recorded just now.
      start = { status: row.relay_status ?? "queued", transactions: [] };
      starts.set(row.relay_id, start);
    }
    if (row.id !== null) start.transactions.push(recordedTransaction(row));
  }
  return takes.map((take) => starts.get(take.job.relayId)!);
}

/**
 * {@link beginRelays}' statement. The ids travel as an array, whose length the planner knows, so
 * each is looked up by index (a JSON row set is guessed at 100 rows and had it scan `relays`
 * whole). Exported for the test that holds its plan to index lookups.
 */
export function beginRelaysSql(takes: readonly RelayTake[]): SQL {
  const ids = [...new Set(takes.map((take) => take.job.relayId))];
  return sql`
    WITH ${recordQueuedRelaysSql(takes)}
    SELECT ids.relay_id, r.status AS relay_status, t.*
    FROM unnest(${arrayLiteral(ids)}::text[]) AS ids(relay_id)
    LEFT JOIN ${relays} r ON r.relay_id = ids.relay_id
    LEFT JOIN ${relayerTransactions} t ON t.relay_ids @> jsonb_build_array(ids.relay_id)
    ORDER BY ids.relay_id, t.id DESC`;
}

/** One worker process's relay starter: the jobs taken while a take is in flight share the next statement (group-commit.ts). */
export function createRelayStarter(database: Database): RelayStarter {
  return createGroupCommit((takes: RelayTake[]) => beginRelays(database, takes));
}

function recordedTransaction(row: Row): RecordedTransaction {
  return {
    id: BigInt(row.id!),
    relayer: row.relayer,
    nonce: Number(row.nonce),
    hash: row.hash,
    raw: row.raw,
    relayIds: typeof row.relay_ids === "string" ? JSON.parse(row.relay_ids) : row.relay_ids,
    maxFeePerGas: String(row.max_fee_per_gas),
    maxPriorityFeePerGas: String(row.max_priority_fee_per_gas),
    status: row.status,
    createdAt: new Date(row.created_at),
  };
}
