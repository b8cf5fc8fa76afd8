// What our indexer keeps for a Transfer, as far as a Ponder schema goes: the transfer row and a
// balance per holder (our ledger also writes a journal entry with two postings and running balances).
import { onchainTable } from "ponder";

export const transfers = onchainTable("transfers", (t) => ({
  id: t.text().primaryKey(),
  blockNumber: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
  logIndex: t.integer().notNull(),
  from: t.hex().notNull(),
  to: t.hex().notNull(),
  value: t.bigint().notNull(),
}));

export const balances = onchainTable("balances", (t) => ({
  address: t.hex().primaryKey(),
  balance: t.bigint().notNull(),
}));
