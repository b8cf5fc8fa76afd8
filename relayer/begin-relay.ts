import { sql } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { relayerTransactions, relays } from "./db/schema.ts";
import { recordQueuedRelaySql } from "./record-transition.ts";
import type { RelayJob } from "./jobs/relay-job.ts";
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

/**
 * Takes a relay job in one statement: records the relay (status `queued`, at the job's enqueue
 * time, with its `queued` transition) if no producer or earlier attempt did, and reads what was
 * recorded for it — its status and every transaction that carries it. A worker decides from
 * this whether to send (nothing recorded) or to follow what is out (a retry, a crash after
 * signing); reading both at once costs one round trip per job instead of three.
 */
export async function beginRelay(database: Database, job: RelayJob, queuedAt: Date): Promise<RelayStart> {
  const rows = await database.query<Row>(sql`
    WITH ${recordQueuedRelaySql(job, queuedAt)}
    SELECT (SELECT r.status FROM ${relays} r WHERE r.relay_id = ${job.relayId}) AS relay_status, t.*
    FROM (SELECT 1) AS one
    LEFT JOIN ${relayerTransactions} t ON t.relay_ids @> ${JSON.stringify([job.relayId])}::jsonb
    ORDER BY t.id DESC`);
  // The statement's reads see the tables as they were before its inserts: no status means the
  // relay was recorded just now.
  const status = rows[0]?.relay_status ?? "queued";
  const transactions = rows
    .filter((row) => row.id !== null)
    .map((row): RecordedTransaction => ({
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
    }));
  return { status, transactions };
}
