import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  numeric,
  primaryKey,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * The ledger's tables. Every row that comes from the chain is keyed by chain facts
 * (`chain_id`, `block_number`, `log_index`) so a replay of the same logs is idempotent and a
 * reorg rolls back with `DELETE ... WHERE block_number > ancestor`.
 *
 * Amounts are NUMERIC(78,0) (uint256 fits); convert to bigint at the edges, never to numbers.
 */
const amount = (name: string) => numeric(name, { precision: 78, scale: 0 });

/** One row per indexed chain: the checkpoint (indexed head), written in the same transaction as the entries it covers. */
export const ledgerChains = pgTable("ledger_chains", {
  chainId: integer("chain_id").primaryKey(),
  genesisHash: text("genesis_hash").notNull(),
  headNumber: bigint("head_number", { mode: "bigint" }).notNull(),
  headHash: text("head_hash").notNull(),
  headTimestamp: bigint("head_timestamp", { mode: "bigint" }).notNull(),
  /** The journal hash chain's tip (lib/ledger/journal-chain.ts): its last element's sequence number (0: none yet) and hash. */
  journalSeq: bigint("journal_seq", { mode: "bigint" })
    .notNull()
    .default(sql`0`),
  journalHead: text("journal_head"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Block headers the indexer has seen (every block it followed in realtime; the blocks with events when backfilling). */
export const ledgerBlocks = pgTable(
  "ledger_blocks",
  {
    chainId: integer("chain_id").notNull(),
    number: bigint("number", { mode: "bigint" }).notNull(),
    hash: text("hash").notNull(),
    parentHash: text("parent_hash").notNull(),
    timestamp: bigint("timestamp", { mode: "bigint" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.number] })],
);

/** One journal entry per token movement (one Transfer log); its postings sum to zero. */
export const journalEntries = pgTable(
  "journal_entries",
  {
    chainId: integer("chain_id").notNull(),
    blockNumber: bigint("block_number", { mode: "bigint" }).notNull(),
    logIndex: integer("log_index").notNull(),
    blockHash: text("block_hash").notNull(),
    blockTimestamp: bigint("block_timestamp", { mode: "bigint" }).notNull(),
    transactionHash: text("transaction_hash").notNull(),
    token: text("token").notNull(),
    kind: text("kind").notNull(),
    /** Escrow payment id, settlement batch id or EIP-3009 nonce the movement belongs to. */
    reference: text("reference"),
    /** The decoded Transfer plus the Stablerail event that labelled it (bigints as strings). */
    event: jsonb("event").notNull(),
    /**
     * The entry's place in the journal hash chain (lib/ledger/journal-chain.ts): its sequence number,
     * the hash of its content with its postings, and the chain hash linking it to the element before.
     * Null only on rows written before the chain existed (verify-chain reports them).
     */
    seq: bigint("seq", { mode: "bigint" }),
    entryHash: text("entry_hash"),
    chainHash: text("chain_hash"),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.blockNumber, t.logIndex] }),
    index("journal_entries_tx").on(t.transactionHash),
    // Partial: a plain transfer has no reference, and indexing its NULL cost an index insertion per event.
    index("journal_entries_reference")
      .on(t.reference)
      .where(sql`${t.reference} IS NOT NULL`),
  ],
);

/**
 * One row per leg of a journal entry. `balance_after` is the account's running balance after
 * this posting, so a balance at any block is one index probe (the last posting at or before it).
 */
export const postings = pgTable(
  "postings",
  {
    chainId: integer("chain_id").notNull(),
    blockNumber: bigint("block_number", { mode: "bigint" }).notNull(),
    logIndex: integer("log_index").notNull(),
    /** 0 = debit leg (money leaves), 1 = credit leg. */
    leg: integer("leg").notNull(),
    account: text("account").notNull(),
    counterparty: text("counterparty").notNull(),
    token: text("token").notNull(),
    amount: amount("amount").notNull(),
    balanceAfter: amount("balance_after").notNull(),
    kind: text("kind").notNull(),
    blockTimestamp: bigint("block_timestamp", { mode: "bigint" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.blockNumber, t.logIndex, t.leg] }),
    // One index per account's history serves every read, with or without a token filter: a ledger
    // holds one token per chain (the indexed Stablecoin), so ordering by (account, token, …) gave the
    // same order at the cost of one more index entry per posting (dropped in 0004, issue 17). A ledger
    // of several tokens per chain would want (chain, account, token, block, log index) back.
    index("postings_account_all_tokens").on(t.chainId, t.account, t.blockNumber, t.logIndex, t.leg),
    index("postings_account_time").on(t.chainId, t.account, t.blockTimestamp),
  ],
);

/** Current balance per account and token (the latest `balance_after`), rebuilt for touched accounts on rollback. */
export const accountBalances = pgTable(
  "account_balances",
  {
    chainId: integer("chain_id").notNull(),
    account: text("account").notNull(),
    token: text("token").notNull(),
    balance: amount("balance").notNull(),
    blockNumber: bigint("block_number", { mode: "bigint" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.account, t.token] })],
);

/** Escrow payment state after each escrow event (the latest row per payment is its current state). */
export const escrowPaymentStates = pgTable(
  "escrow_payment_states",
  {
    chainId: integer("chain_id").notNull(),
    paymentId: text("payment_id").notNull(),
    blockNumber: bigint("block_number", { mode: "bigint" }).notNull(),
    logIndex: integer("log_index").notNull(),
    transactionHash: text("transaction_hash").notNull(),
    event: text("event").notNull(),
    status: text("status").notNull(),
    payer: text("payer").notNull(),
    merchant: text("merchant").notNull(),
    operator: text("operator").notNull(),
    token: text("token").notNull(),
    held: amount("held").notNull(),
    captured: amount("captured").notNull(),
    refunded: amount("refunded").notNull(),
    terms: jsonb("terms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.paymentId, t.blockNumber, t.logIndex] })],
);

/** Every decoded Stablerail event in chain order; the API's webhook dispatcher reads it after an id cursor. */
export const chainEvents = pgTable(
  "chain_events",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    chainId: integer("chain_id").notNull(),
    blockNumber: bigint("block_number", { mode: "bigint" }).notNull(),
    logIndex: integer("log_index").notNull(),
    blockHash: text("block_hash").notNull(),
    blockTimestamp: bigint("block_timestamp", { mode: "bigint" }).notNull(),
    transactionHash: text("transaction_hash").notNull(),
    contract: text("contract").notNull(),
    contractName: text("contract_name").notNull(),
    eventName: text("event_name").notNull(),
    args: jsonb("args").notNull(),
  },
  (t) => [uniqueIndex("chain_events_position").on(t.chainId, t.blockNumber, t.logIndex)],
);

/**
 * Journal chain elements orphaned by a reorg: the entry rows are rolled back, their chain hashes stay
 * here, so the chain still verifies end to end and the rollback is on record, not a silent rewrite.
 */
export const journalOrphans = pgTable(
  "journal_orphans",
  {
    chainId: integer("chain_id").notNull(),
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    blockNumber: bigint("block_number", { mode: "bigint" }).notNull(),
    logIndex: integer("log_index").notNull(),
    blockHash: text("block_hash").notNull(),
    transactionHash: text("transaction_hash").notNull(),
    entryHash: text("entry_hash").notNull(),
    chainHash: text("chain_hash").notNull(),
    /** The rollback record (journal_rollbacks.seq) that orphaned it. */
    rollbackSeq: bigint("rollback_seq", { mode: "bigint" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.seq] })],
);

/** One chain element per rollback (reorg): the block rolled back to and the range of entries it orphaned. */
export const journalRollbacks = pgTable(
  "journal_rollbacks",
  {
    chainId: integer("chain_id").notNull(),
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    ancestorBlock: bigint("ancestor_block", { mode: "bigint" }).notNull(),
    orphanedCount: integer("orphaned_count").notNull(),
    orphanedFromSeq: bigint("orphaned_from_seq", { mode: "bigint" }),
    orphanedToSeq: bigint("orphaned_to_seq", { mode: "bigint" }),
    contentHash: text("content_hash").notNull(),
    chainHash: text("chain_hash").notNull(),
    /** When it happened (not hashed: informative). */
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.seq] })],
);

/**
 * Read-only indexes dropped while an empty ledger is backfilled (indexer/ledger/read-indexes.ts), each
 * with its definition as the server printed it from the migrations' index, to build again at the head.
 * Empty whenever the ledger has every index its migrations define.
 */
export const ledgerDeferredIndexes = pgTable("ledger_deferred_indexes", {
  name: text("name").primaryKey(),
  definition: text("definition").notNull(),
  deferredAt: timestamp("deferred_at", { withTimezone: true }).notNull().defaultNow(),
});
