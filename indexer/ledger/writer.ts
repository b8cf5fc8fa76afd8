/**
 * Ledger stage: writes what the sync stages fetched. Input: block headers and decoded logs of a
 * contiguous range, optionally a block to roll back to first (a reorg). Output: journal entries,
 * postings with running balances, escrow payment states, chain events, block headers and the
 * checkpoint — all in one database transaction, so a kill at any instant leaves either the whole
 * batch or none of it, and a restart resumes right after the checkpoint.
 *
 * Each entry also takes its place in the journal's hash chain (lib/ledger/journal-chain.ts): a
 * sequence number, its content hash and the chain hash, computed here as the rows are built and
 * written in the same set-based insert, with the chain's tip kept on the checkpoint row. Per entry
 * rather than per block: a per-entry link lets verify-chain name the exact row edited, inserted,
 * deleted or reordered, and it costs no extra statement or round trip (three more columns on
 * rows already being written, one SHA-256 each). A rollback appends a record and keeps the orphaned
 * entries' hashes in journal_orphans instead of rewriting the chain.
 */
import { and, desc, eq, gt, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Hash } from "viem";

import type { Database, Db } from "../../lib/db/database.ts";
import { journalize, type PostingRulesContext } from "../../lib/ledger/posting-rules.ts";
import { applyEscrowEvent, rowToPaymentState } from "../../lib/ledger/payment-state.ts";
import { toJsonSafe } from "../../lib/ledger/json.ts";
import {
  accountBalances,
  chainEvents,
  escrowPaymentStates,
  journalEntries,
  journalOrphans,
  journalRollbacks,
  ledgerBlocks,
  ledgerChains,
  postings,
} from "../../lib/ledger/schema.ts";
import {
  hashJournalEntry,
  type ChainedPosting,
  hashRollback,
  journalChainAnchor,
  linkJournalChain,
  type JournalChainHead,
} from "../../lib/ledger/journal-chain.ts";
import type { DecodedLog, PaymentState } from "../../lib/ledger/types.ts";
import type { BlockHeader } from "../rpc/rpc.ts";

export type Checkpoint = { genesisHash: Hash; number: bigint; hash: Hash; timestamp: bigint };

export type LedgerBatch = {
  /** Roll back every block above this one before applying the batch (reorg), in the same transaction. */
  rollbackTo?: bigint | undefined;
  /** Headers to store: every block with logs and the batch's last block (the new checkpoint). */
  blocks: BlockHeader[];
  /** Decoded logs in chain order. */
  logs: DecodedLog[];
  /** The batch's last block: the new checkpoint. */
  head: BlockHeader;
};

export type LedgerWriter = {
  readCheckpoint: () => Promise<Checkpoint | undefined>;
  /** Stored block headers at or below `below`, newest first (to find a reorg's common ancestor). */
  storedBlocksBelow: (below: bigint, limit: number) => Promise<BlockHeader[]>;
  commit: (batch: LedgerBatch) => Promise<void>;
  /** Deletes every row of this chain (a restarted local chain), then records the new genesis. */
  resetChain: (genesisHash: Hash, startBlock: bigint) => Promise<void>;
};

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

const CHUNK = 1000;

/**
 * Creates the ledger writer of one chain.
 * @param parameters.database - the open database (migrations applied)
 * @param parameters.chainId - chain whose rows it writes
 * @param parameters.context - escrow and settlement addresses for the posting rules
 */
export function createLedgerWriter({
  database,
  chainId,
  context,
}: {
  database: Database;
  chainId: number;
  context: PostingRulesContext;
}): LedgerWriter {
  const db = database.db;
  return {
    readCheckpoint: async () => {
      const [row] = await db.select().from(ledgerChains).where(eq(ledgerChains.chainId, chainId));
      if (!row) return undefined;
      return {
        genesisHash: row.genesisHash as Hash,
        number: row.headNumber,
        hash: row.headHash as Hash,
        timestamp: row.headTimestamp,
      };
    },
    storedBlocksBelow: async (below, limit) => {
      const rows = await db
        .select()
        .from(ledgerBlocks)
        .where(and(eq(ledgerBlocks.chainId, chainId), lt(ledgerBlocks.number, below + 1n)))
        .orderBy(desc(ledgerBlocks.number))
        .limit(limit);
      return rows.map((row) => ({
        number: row.number,
        hash: row.hash as Hash,
        parentHash: row.parentHash as Hash,
        timestamp: row.timestamp,
      }));
    },
    commit: (batch) =>
      db.transaction(async (tx) => {
        const [current] = await tx.select().from(ledgerChains).where(eq(ledgerChains.chainId, chainId)).for("update");
        if (!current) throw new Error(`chain ${chainId} has no ledger row; call resetChain first`);
        let from = current.headNumber;
        let journal: JournalChainHead = {
          seq: current.journalSeq,
          hash: (current.journalHead ?? journalChainAnchor(chainId, current.genesisHash)) as Hash,
        };
        if (batch.rollbackTo !== undefined && batch.rollbackTo < current.headNumber) {
          journal = await rollback(tx, chainId, batch.rollbackTo, journal);
          from = batch.rollbackTo;
        }
        // Blocks at or below the checkpoint are already in: skipping them makes a replay a no-op.
        const logs = batch.logs.filter((log) => log.blockNumber > from);
        const blocks = batch.blocks.filter((block) => block.number > from);
        const written = await writeLogs(tx, chainId, context, logs, journal);
        journal = written.journal;
        const blockRows = blocks.map((block) => ({
          chain_id: chainId,
          number: block.number.toString(),
          hash: block.hash,
          parent_hash: block.parentHash,
          timestamp: block.timestamp.toString(),
        }));
        const moved = batch.head.number >= from;
        if (!moved && journal.seq === current.journalSeq && written.statements.length === 0 && blockRows.length === 0)
          return;
        // The rows and the checkpoint in one statement (data-modifying CTEs): one round trip per
        // batch instead of one per table, which is most of a block's cost when following the head.
        const checkpoint = moved
          ? sql`UPDATE ledger_chains SET head_number = ${batch.head.number}, head_hash = ${batch.head.hash},
              head_timestamp = ${batch.head.timestamp}, journal_seq = ${journal.seq}, journal_head = ${journal.hash},
              updated_at = now() WHERE chain_id = ${chainId}`
          : sql`UPDATE ledger_chains SET journal_seq = ${journal.seq}, journal_head = ${journal.hash} WHERE chain_id = ${chainId}`;
        const statements = [...written.statements];
        if (blockRows.length > 0)
          statements.push(sql`INSERT INTO ledger_blocks (chain_id, number, hash, parent_hash, timestamp)
            SELECT chain_id, number, hash, parent_hash, timestamp
            FROM jsonb_to_recordset(${JSON.stringify(blockRows)}::jsonb)
              AS t(chain_id integer, number bigint, hash text, parent_hash text, timestamp bigint)
            ON CONFLICT DO NOTHING`);
        await tx.execute(
          sql.join(
            [
              ...statements.map(
                (statement, i) => sql`${i === 0 ? sql`WITH` : sql`,`} ${sql.raw(`w${i}`)} AS (${statement})`,
              ),
              checkpoint,
            ],
            sql` `,
          ),
        );
      }),
    resetChain: (genesisHash, startBlock) =>
      db.transaction(async (tx) => {
        for (const table of [
          postings,
          journalEntries,
          journalOrphans,
          journalRollbacks,
          accountBalances,
          escrowPaymentStates,
          chainEvents,
          ledgerBlocks,
          ledgerChains,
        ]) {
          await tx.delete(table).where(eq(table.chainId, chainId));
        }
        await tx.insert(ledgerChains).values({
          chainId,
          genesisHash,
          headNumber: startBlock - 1n,
          headHash: "0x",
          headTimestamp: 0n,
        });
      }),
  };
}

async function rollback(
  tx: Tx,
  chainId: number,
  ancestor: bigint,
  journal: JournalChainHead,
): Promise<JournalChainHead> {
  // The rollback is a chain element of its own; the entries it orphans keep their hashes in journal_orphans.
  const seq = journal.seq + 1n;
  type Moved = { count: string | number; from_seq: string | null; to_seq: string | null };
  const [orphaned] = await tx
    .execute(
      sql`
    WITH moved AS (
      INSERT INTO journal_orphans (chain_id, seq, block_number, log_index, block_hash, transaction_hash, entry_hash, chain_hash, rollback_seq)
      SELECT chain_id, seq, block_number, log_index, block_hash, transaction_hash, entry_hash, chain_hash, ${seq}
      FROM journal_entries WHERE chain_id = ${chainId} AND block_number > ${ancestor} AND seq IS NOT NULL
      RETURNING seq)
    SELECT count(*) AS count, min(seq) AS from_seq, max(seq) AS to_seq FROM moved`,
    )
    .then((result) => rowsOf<Moved>(result));
  const record = {
    chainId,
    ancestorBlock: ancestor,
    orphanedCount: Number(orphaned?.count ?? 0),
    orphanedFromSeq: orphaned?.from_seq == null ? null : BigInt(orphaned.from_seq),
    orphanedToSeq: orphaned?.to_seq == null ? null : BigInt(orphaned.to_seq),
  };
  const contentHash = hashRollback(record);
  const chainHash = linkJournalChain(journal.hash, seq, contentHash);
  await tx.insert(journalRollbacks).values({ ...record, seq, contentHash, chainHash });
  for (const table of [postings, journalEntries, escrowPaymentStates, chainEvents, ledgerBlocks]) {
    const column = "blockNumber" in table ? table.blockNumber : (table as typeof ledgerBlocks).number;
    await tx.delete(table).where(and(eq(table.chainId, chainId), gt(column, ancestor)));
  }
  // Balances of accounts touched above the ancestor go back to their last remaining posting.
  const touched = await tx
    .delete(accountBalances)
    .where(and(eq(accountBalances.chainId, chainId), gt(accountBalances.blockNumber, ancestor)))
    .returning({ account: accountBalances.account, token: accountBalances.token });
  for (let i = 0; i < touched.length; i += CHUNK) {
    const slice = JSON.stringify(touched.slice(i, i + CHUNK));
    await tx.execute(sql`
      INSERT INTO account_balances (chain_id, account, token, balance, block_number)
      SELECT DISTINCT ON (p.account, p.token) p.chain_id, p.account, p.token, p.balance_after, p.block_number
      FROM postings p
      JOIN jsonb_to_recordset(${slice}::jsonb) AS t(account text, token text) ON p.account = t.account AND p.token = t.token
      WHERE p.chain_id = ${chainId} AND p.block_number <= ${ancestor}
      ORDER BY p.account, p.token, p.block_number DESC, p.log_index DESC, p.leg DESC`);
  }
  return { seq, hash: chainHash };
}

/** Rows of a raw `tx.execute` on either driver (node-postgres returns a result object, PGlite too). */
function rowsOf<Row>(result: unknown): Row[] {
  return ((result as { rows?: Row[] }).rows ?? (result as Row[])) as Row[];
}

/**
 * Builds the journal entries, postings (running balances computed here, in memory, from the
 * balances stored before the batch), balances and chain events of a batch, and returns them as
 * INSERT statements for the caller to send in one round trip. Rows are shaped as the SQL reads them
 * (snake_case keys, amounts as decimal strings) as they are built: a second pass renaming keys
 * took more time than everything else in the writer (profile of issue 17).
 */
async function writeLogs(
  tx: Tx,
  chainId: number,
  context: PostingRulesContext,
  logs: DecodedLog[],
  journal: JournalChainHead,
): Promise<{ journal: JournalChainHead; statements: SQL[] }> {
  if (logs.length === 0) return { journal, statements: [] };
  const entries = journalize(logs, context);

  const balances = new Map<string, bigint>();
  const accounts = [...new Set(entries.flatMap((entry) => entry.postings.map((posting) => posting.account)))];
  for (let i = 0; i < accounts.length; i += CHUNK) {
    const rows = await tx
      .select({ account: accountBalances.account, token: accountBalances.token, balance: accountBalances.balance })
      .from(accountBalances)
      .where(and(eq(accountBalances.chainId, chainId), inArray(accountBalances.account, accounts.slice(i, i + CHUNK))));
    for (const row of rows) balances.set(`${row.account} ${row.token}`, BigInt(row.balance));
  }

  const entryRows: Record<string, unknown>[] = [];
  const postingRows: Record<string, unknown>[] = [];
  const changed = new Map<string, { account: string; token: string; balance: bigint; blockNumber: bigint }>();
  let { seq, hash: chainHash } = journal;
  for (const entry of entries) {
    const entryPostings: ChainedPosting[] = [];
    const blockNumber = entry.blockNumber.toString();
    const blockTimestamp = entry.blockTimestamp.toString();
    entry.postings.forEach((posting, leg) => {
      const key = `${posting.account} ${entry.token}`;
      const balance = (balances.get(key) ?? 0n) + posting.amount;
      balances.set(key, balance);
      changed.set(key, { account: posting.account, token: entry.token, balance, blockNumber: entry.blockNumber });
      entryPostings.push({
        leg,
        account: posting.account,
        counterparty: posting.counterparty,
        token: entry.token,
        amount: posting.amount,
        balanceAfter: balance,
        kind: entry.kind,
        blockTimestamp: entry.blockTimestamp,
      });
      postingRows.push({
        chain_id: chainId,
        block_number: blockNumber,
        log_index: entry.logIndex,
        leg,
        account: posting.account,
        counterparty: posting.counterparty,
        token: entry.token,
        amount: posting.amount.toString(),
        balance_after: balance.toString(),
        kind: entry.kind,
        block_timestamp: blockTimestamp,
      });
    });
    seq += 1n;
    const entryHash = hashJournalEntry({ ...entry, chainId, postings: entryPostings });
    chainHash = linkJournalChain(chainHash, seq, entryHash);
    entryRows.push({
      chain_id: chainId,
      block_number: blockNumber,
      log_index: entry.logIndex,
      block_hash: entry.blockHash,
      block_timestamp: blockTimestamp,
      transaction_hash: entry.transactionHash,
      token: entry.token,
      kind: entry.kind,
      reference: entry.reference,
      event: entry.event,
      seq: seq.toString(),
      entry_hash: entryHash,
      chain_hash: chainHash,
    });
  }
  const balanceRows = [...changed.values()].map((row) => ({
    chain_id: chainId,
    account: row.account,
    token: row.token,
    balance: row.balance.toString(),
    block_number: row.blockNumber.toString(),
  }));

  await writePaymentStates(
    tx,
    chainId,
    logs.filter((log) => log.contractName === "PaymentEscrow"),
  );

  const eventRows = logs.map((log) => ({
    chain_id: chainId,
    block_number: log.blockNumber.toString(),
    log_index: log.logIndex,
    block_hash: log.blockHash,
    block_timestamp: log.blockTimestamp.toString(),
    transaction_hash: log.transactionHash,
    contract: log.address,
    contract_name: log.contractName,
    event_name: log.eventName,
    args: toJsonSafe(log.args),
  }));
  // Set-based inserts: one JSON parameter per table and batch (far fewer bind parameters and round
  // trips than multi-row VALUES; the same SQL on PGlite and PostgreSQL).
  const statements = [
    sql`INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event,
      seq, entry_hash, chain_hash)
    SELECT chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event, seq, entry_hash, chain_hash
    FROM jsonb_to_recordset(${JSON.stringify(entryRows)}::jsonb) AS t(chain_id integer, block_number bigint, log_index integer, block_hash text,
      block_timestamp bigint, transaction_hash text, token text, kind text, reference text, event jsonb, seq bigint, entry_hash text, chain_hash text)`,
    sql`INSERT INTO postings (chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp)
    SELECT chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp
    FROM jsonb_to_recordset(${JSON.stringify(postingRows)}::jsonb) AS t(chain_id integer, block_number bigint, log_index integer, leg integer,
      account text, counterparty text, token text, amount numeric, balance_after numeric, kind text, block_timestamp bigint)`,
    sql`INSERT INTO account_balances (chain_id, account, token, balance, block_number)
    SELECT chain_id, account, token, balance, block_number
    FROM jsonb_to_recordset(${JSON.stringify(balanceRows)}::jsonb) AS t(chain_id integer, account text, token text, balance numeric, block_number bigint)
    ON CONFLICT (chain_id, account, token) DO UPDATE SET balance = excluded.balance, block_number = excluded.block_number`,
    // ORDER BY keeps ids in chain order (the webhook dispatcher reads in id order).
    sql`INSERT INTO chain_events (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, contract, contract_name, event_name, args)
    SELECT chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, contract, contract_name, event_name, args
    FROM jsonb_to_recordset(${JSON.stringify(eventRows)}::jsonb) AS t(chain_id integer, block_number bigint, log_index integer, block_hash text,
      block_timestamp bigint, transaction_hash text, contract text, contract_name text, event_name text, args jsonb)
    ORDER BY block_number, log_index
    ON CONFLICT DO NOTHING`,
  ];
  return { journal: { seq, hash: chainHash }, statements };
}

async function writePaymentStates(tx: Tx, chainId: number, logs: DecodedLog[]): Promise<void> {
  if (logs.length === 0) return;
  const ids = [...new Set(logs.map((log) => (log.args.paymentId as string).toLowerCase()))];
  const latest = new Map<string, PaymentState>();
  const previous = await tx
    .selectDistinctOn([escrowPaymentStates.paymentId])
    .from(escrowPaymentStates)
    .where(and(eq(escrowPaymentStates.chainId, chainId), inArray(escrowPaymentStates.paymentId, ids)))
    .orderBy(escrowPaymentStates.paymentId, desc(escrowPaymentStates.blockNumber), desc(escrowPaymentStates.logIndex));
  for (const row of previous) latest.set(row.paymentId, rowToPaymentState(row));
  const rows: (typeof escrowPaymentStates.$inferInsert)[] = [];
  for (const log of logs) {
    const id = (log.args.paymentId as string).toLowerCase();
    const next = applyEscrowEvent(latest.get(id), log);
    if (!next) continue;
    latest.set(id, next);
    rows.push({
      ...next,
      held: next.held.toString(),
      captured: next.captured.toString(),
      refunded: next.refunded.toString(),
    });
  }
  for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(escrowPaymentStates).values(rows.slice(i, i + CHUNK));
}
