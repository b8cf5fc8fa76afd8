import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * The relayer's tables (migration set "__relayer_migrations"):
 * - `relays`: one row per relay (job), its current status and outcome;
 * - `relay_transitions`: every status change with its time;
 * - `relayer_transactions`: every transaction a relayer key signed, with its raw bytes, recorded
 *   *before* it is broadcast, so a crash between signing and sending is recovered by re-sending
 *   the same bytes at the same nonce (never a new nonce while the old one could still mine).
 */
export const relays = pgTable(
  "relays",
  {
    relayId: text("relay_id").primaryKey(),
    kind: text("kind").notNull(),
    status: text("status").notNull(),
    requestedBy: text("requested_by").notNull(),
    request: jsonb("request").notNull(),
    relayer: text("relayer"),
    nonce: integer("nonce"),
    transactionHash: text("transaction_hash"),
    blockNumber: numeric("block_number", { precision: 78, scale: 0 }),
    /** The mined block's hash: a confirmed relay is re-checked against the chain until final_at is set. */
    blockHash: text("block_hash"),
    /** When the relayer saw the mined block at RELAYER_FINALITY_BLOCKS deep and unchanged: final, no longer watched. */
    finalAt: timestamp("final_at", { withTimezone: true }),
    batchIndex: integer("batch_index"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    deadline: timestamp("deadline", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    updatedAt: timestamp("updated_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [
    index("relays_status_idx").on(table.status, table.updatedAt),
    // A principal's unsettled relays (its pending movements) without scanning its history.
    index("relays_requested_by_status_idx").on(table.requestedBy, table.status, table.blockNumber),
    // Confirmed relays not yet final, per sending key: what the reorg watch reads every round.
    index("relays_unfinal_idx")
      .on(table.relayer, table.blockNumber)
      .where(sql`${table.status} = 'confirmed' AND ${table.finalAt} IS NULL`),
  ],
);

export const relayTransitions = pgTable(
  "relay_transitions",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    relayId: text("relay_id").notNull(),
    status: text("status").notNull(),
    at: timestamp("at", { withTimezone: true, precision: 3 })
      .notNull()
      .default(sql`clock_timestamp()`),
    transactionHash: text("transaction_hash"),
    detail: jsonb("detail"),
  },
  (table) => [index("relay_transitions_relay_idx").on(table.relayId, table.id)],
);

export const relayerTransactions = pgTable(
  "relayer_transactions",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    relayer: text("relayer").notNull(),
    nonce: bigint("nonce", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    raw: text("raw").notNull(),
    /** Relays this transaction carries (several for a batch), in item order. */
    relayIds: jsonb("relay_ids").notNull(),
    maxFeePerGas: numeric("max_fee_per_gas", { precision: 78, scale: 0 }).notNull(),
    maxPriorityFeePerGas: numeric("max_priority_fee_per_gas", { precision: 78, scale: 0 }).notNull(),
    /**
     * signed → sent → mined, or replaced (superseded at the same nonce), dropped (its nonce taken
     * by another), out-of-gas (mined, ran out of gas; its relays went on in a new transaction, so
     * it is never broadcast again).
     */
    status: text("status").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [
    uniqueIndex("relayer_transactions_hash_idx").on(table.hash),
    index("relayer_transactions_nonce_idx").on(table.relayer, table.nonce),
    // A worker taking a relay job looks up what was recorded for it (relay_ids @> [id]): without
    // this index that lookup read every transaction the relayer ever sent. Without fastupdate:
    // GIN's default queues new entries in a pending list that every lookup reads in full until a
    // vacuum merges it, and embedded PGlite has no autovacuum, so each job's lookup grew with
    // every transaction sent since start (2.9 ms of a 3.5 ms take at 30k transactions).
    index("relayer_transactions_relay_ids_idx")
      .using("gin", sql`${table.relayIds} jsonb_path_ops`)
      .with({ fastupdate: false }),
  ],
);
