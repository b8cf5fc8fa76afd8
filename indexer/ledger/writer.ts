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

import { StablerailError } from "../../lib/errors/base.ts";
import type { Database, DbTransaction } from "../../lib/db/database.ts";
import { arrayElement } from "../../lib/db/array-literal.ts";
import { pushCopyRow, type CopyRows } from "../../lib/db/copy-text.ts";
import { journalize, type PostingRulesContext } from "../../lib/ledger/posting-rules.ts";
import { applyEscrowEvent, rowToPaymentState } from "../../lib/ledger/payment-state.ts";
import { canonicalJson } from "../../lib/ledger/canonical-json.ts";
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

type Tx = DbTransaction;

const CHUNK = 1000;
/**
 * From this many logs in a batch, on PostgreSQL, the journal entries, postings and chain events go by
 * COPY (three more round trips, a fraction of the server's work per row); below it, every row goes in
 * the batch's one statement, which is what a block of a few events costs least with.
 */
const COPY_FROM_LOGS = 100;
/** Above this many cached balances the cache starts again from the last batch's (memory stays bounded). */
const MAX_CACHED_BALANCES = 200_000;

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
  /**
   * Balances after the last batch this writer committed, tagged with the journal tip that batch
   * left: the next batch reads from the database only the accounts it has not seen, instead of
   * every account it touches (one query per batch, most of a block's reads when following).
   */
  let cache: (JournalChainHead & { balances: Map<string, bigint> }) | undefined;
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
    commit: async (batch) => {
      const committed = await database.transaction(async (tx, copy) => {
        const [current] = await tx.select().from(ledgerChains).where(eq(ledgerChains.chainId, chainId)).for("update");
        if (!current) throw new Error(`chain ${chainId} has no ledger row; call resetChain first`);
        let from = current.headNumber;
        let journal: JournalChainHead = {
          seq: current.journalSeq,
          hash: (current.journalHead ?? journalChainAnchor(chainId, current.genesisHash)) as Hash,
        };
        // The cache holds the balances as of the chain tip it was tagged with: any other write since
        // (another instance that held the lock meanwhile, a rollback) moved the tip, so it is dropped.
        let known = cache !== undefined && cache.seq === journal.seq && cache.hash === journal.hash ? cache : undefined;
        if (batch.rollbackTo !== undefined && batch.rollbackTo < current.headNumber) {
          journal = await rollback(tx, chainId, batch.rollbackTo, journal);
          from = batch.rollbackTo;
          known = undefined;
        }
        // Blocks at or below the checkpoint are already in: skipping them makes a replay a no-op.
        const logs = batch.logs.filter((log) => log.blockNumber > from);
        const blocks = batch.blocks.filter((block) => block.number > from);
        const viaCopy = copy !== undefined && logs.length >= COPY_FROM_LOGS;
        const written = await writeLogs(tx, chainId, context, logs, journal, known?.balances, viaCopy);
        journal = written.journal;
        for (const rows of written.copies) await copy!(rows);
        const blockColumns = columnsOf(blockInsert);
        for (const block of blocks)
          pushRow(blockColumns, [chainId, block.number, block.hash, block.parentHash, block.timestamp]);
        const moved = batch.head.number >= from;
        const result = { journal, balances: written.balances, known };
        if (
          !moved &&
          journal.seq === current.journalSeq &&
          written.statements.length === 0 &&
          written.copies.length === 0 &&
          blocks.length === 0
        )
          return result;
        // The rows and the checkpoint in one statement (data-modifying CTEs): one round trip per
        // batch instead of one per table, which is most of a block's cost when following the head.
        const checkpoint = moved
          ? sql`UPDATE ledger_chains SET head_number = ${batch.head.number}, head_hash = ${batch.head.hash},
              head_timestamp = ${batch.head.timestamp}, journal_seq = ${journal.seq}, journal_head = ${journal.hash},
              updated_at = now() WHERE chain_id = ${chainId}`
          : sql`UPDATE ledger_chains SET journal_seq = ${journal.seq}, journal_head = ${journal.hash} WHERE chain_id = ${chainId}`;
        const statements = [...written.statements];
        if (blocks.length > 0) statements.push(unnestInsert(blockInsert, blockColumns, sql`ON CONFLICT DO NOTHING`));
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
        return result;
      });
      // Only a committed batch updates the cache (a failed one leaves the stored balances as they were).
      const { journal, balances, known } = committed;
      if (known !== undefined && known.balances.size + balances.size <= MAX_CACHED_BALANCES) {
        for (const [key, balance] of balances) known.balances.set(key, balance);
        cache = { ...journal, balances: known.balances };
      } else {
        cache = { ...journal, balances };
      }
    },
    resetChain: (genesisHash, startBlock) => {
      cache = undefined;
      return db.transaction(async (tx) => {
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
      });
    },
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
 * balances before the batch), balances and chain events of a batch, and returns them as INSERT
 * statements for the caller to send in one round trip. Rows go out as one array per column,
 * filled as the entries are built (no per-row objects, no renaming pass), and the server reads them
 * with `unnest`: parsing a PostgreSQL array literal costs the server a third of what
 * `jsonb_to_recordset` cost for the same rows, and the arrays carry no repeated keys (profile of issue 17).
 * With `viaCopy` the journal entries, postings and chain events are returned as COPY rows instead
 * (lib/db/copy-text.ts), for the caller to load before the statements; balances always go by statement
 * (an upsert, which COPY cannot do).
 *
 * `known` holds balances the writer already knows to be current (its cache, valid for this
 * checkpoint); only the batch's other accounts are read. The returned `balances` are every touched
 * account's balance after the batch, for the caller to cache once the transaction has committed.
 */
async function writeLogs(
  tx: Tx,
  chainId: number,
  context: PostingRulesContext,
  logs: DecodedLog[],
  journal: JournalChainHead,
  known: ReadonlyMap<string, bigint> | undefined,
  viaCopy: boolean,
): Promise<{ journal: JournalChainHead; statements: SQL[]; copies: CopyRows[]; balances: Map<string, bigint> }> {
  const balances = new Map<string, bigint>();
  if (logs.length === 0) return { journal, statements: [], copies: [], balances };
  const entries = journalize(logs, context);

  const unknown = new Set<string>();
  for (const entry of entries)
    for (const posting of entry.postings) {
      const key = balanceKey(posting.account, entry.token);
      const cached = known?.get(key);
      if (cached !== undefined) balances.set(key, cached);
      else if (!balances.has(key)) unknown.add(posting.account);
    }
  const accounts = [...unknown];
  for (let i = 0; i < accounts.length; i += CHUNK) {
    const rows = await tx
      .select({ account: accountBalances.account, token: accountBalances.token, balance: accountBalances.balance })
      .from(accountBalances)
      .where(and(eq(accountBalances.chainId, chainId), inArray(accountBalances.account, accounts.slice(i, i + CHUNK))));
    for (const row of rows) {
      const key = balanceKey(row.account, row.token);
      // A cached balance is the newer one (the cache is only used while it matches the checkpoint).
      if (!balances.has(key)) balances.set(key, BigInt(row.balance));
    }
  }

  const entryRows = tableRows(journalInsert, viaCopy);
  const postingRows = tableRows(postingInsert, viaCopy);
  const changed = new Map<string, { account: string; token: string; blockNumber: bigint }>();
  let { seq, hash: chainHash } = journal;
  for (const entry of entries) {
    const entryPostings: ChainedPosting[] = [];
    for (let leg = 0; leg < entry.postings.length; leg++) {
      const posting = entry.postings[leg]!;
      const key = balanceKey(posting.account, entry.token);
      const balance = (balances.get(key) ?? 0n) + posting.amount;
      balances.set(key, balance);
      changed.set(key, { account: posting.account, token: entry.token, blockNumber: entry.blockNumber });
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
      postingRows.push([
        chainId,
        entry.blockNumber,
        entry.logIndex,
        leg,
        posting.account,
        posting.counterparty,
        entry.token,
        posting.amount,
        balance,
        entry.kind,
        entry.blockTimestamp,
      ]);
    }
    seq += 1n;
    // One encoding of the event: the hash's and the stored column's (jsonb keeps no key order).
    const eventJson = canonicalJson(entry.event);
    const entryHash = hashJournalEntry({ ...entry, chainId, postings: entryPostings }, { eventJson });
    chainHash = linkJournalChain(chainHash, seq, entryHash);
    entryRows.push([
      chainId,
      entry.blockNumber,
      entry.logIndex,
      entry.blockHash,
      entry.blockTimestamp,
      entry.transactionHash,
      entry.token,
      entry.kind,
      entry.reference,
      eventJson,
      seq,
      entryHash,
      chainHash,
    ]);
  }
  const balanceRows = tableRows(balanceInsert, false);
  for (const [key, row] of changed)
    balanceRows.push([chainId, row.account, row.token, balances.get(key)!, row.blockNumber]);

  await writePaymentStates(
    tx,
    chainId,
    logs.filter((log) => log.contractName === "PaymentEscrow"),
  );

  // Ids in chain order (the webhook dispatcher reads in id order): the statement's ORDER BY, or COPY's
  // row order — the logs arrive in chain order (both sync stages sort them), checked here.
  const eventRows = tableRows(eventInsert, viaCopy);
  if (viaCopy) assertChainOrder(logs);
  for (const log of logs)
    eventRows.push([
      chainId,
      log.blockNumber,
      log.logIndex,
      log.blockHash,
      log.blockTimestamp,
      log.transactionHash,
      log.address,
      log.contractName,
      log.eventName,
      canonicalJson(log.args),
    ]);
  const balanceUpsert = balanceRows.insert(
    sql`ON CONFLICT (chain_id, account, token) DO UPDATE SET balance = excluded.balance, block_number = excluded.block_number`,
  );
  // A chain event's position is above the checkpoint (the caller filtered the logs under the
  // checkpoint's row lock), so COPY, which cannot skip a conflict, meets none; the statement keeps
  // ON CONFLICT DO NOTHING as it always had.
  const statements = viaCopy
    ? [balanceUpsert]
    : [
        entryRows.insert(),
        postingRows.insert(),
        balanceUpsert,
        eventRows.insert(sql`ON CONFLICT DO NOTHING`, sql`ORDER BY block_number, log_index`),
      ];
  const copies = viaCopy ? [entryRows.copy(), postingRows.copy(), eventRows.copy()] : [];
  return { journal: { seq, hash: chainHash }, statements, copies, balances };
}

function assertChainOrder(logs: readonly DecodedLog[]): void {
  for (let i = 1; i < logs.length; i++) {
    const [before, after] = [logs[i - 1]!, logs[i]!];
    if (
      before.blockNumber > after.blockNumber ||
      (before.blockNumber === after.blockNumber && before.logIndex >= after.logIndex)
    )
      throw new StablerailError(
        "LEDGER_LOGS_OUT_OF_ORDER",
        `logs out of chain order at block ${after.blockNumber} log ${after.logIndex}`,
      );
  }
}

const balanceKey = (account: string, token: string) => `${account} ${token}`;

/** A table's insert: its name and its columns with their SQL types, in the order rows are pushed. */
type InsertShape = { table: string; columns: readonly (readonly [name: string, type: string])[] };

const journalInsert: InsertShape = {
  table: "journal_entries",
  columns: [
    ["chain_id", "integer"],
    ["block_number", "bigint"],
    ["log_index", "integer"],
    ["block_hash", "text"],
    ["block_timestamp", "bigint"],
    ["transaction_hash", "text"],
    ["token", "text"],
    ["kind", "text"],
    ["reference", "text"],
    ["event", "jsonb"],
    ["seq", "bigint"],
    ["entry_hash", "text"],
    ["chain_hash", "text"],
  ],
};
const postingInsert: InsertShape = {
  table: "postings",
  columns: [
    ["chain_id", "integer"],
    ["block_number", "bigint"],
    ["log_index", "integer"],
    ["leg", "integer"],
    ["account", "text"],
    ["counterparty", "text"],
    ["token", "text"],
    ["amount", "numeric"],
    ["balance_after", "numeric"],
    ["kind", "text"],
    ["block_timestamp", "bigint"],
  ],
};
const balanceInsert: InsertShape = {
  table: "account_balances",
  columns: [
    ["chain_id", "integer"],
    ["account", "text"],
    ["token", "text"],
    ["balance", "numeric"],
    ["block_number", "bigint"],
  ],
};
const eventInsert: InsertShape = {
  table: "chain_events",
  columns: [
    ["chain_id", "integer"],
    ["block_number", "bigint"],
    ["log_index", "integer"],
    ["block_hash", "text"],
    ["block_timestamp", "bigint"],
    ["transaction_hash", "text"],
    ["contract", "text"],
    ["contract_name", "text"],
    ["event_name", "text"],
    ["args", "jsonb"],
  ],
};
const blockInsert: InsertShape = {
  table: "ledger_blocks",
  columns: [
    ["chain_id", "integer"],
    ["number", "bigint"],
    ["hash", "text"],
    ["parent_hash", "text"],
    ["timestamp", "bigint"],
  ],
};

type Cell = string | number | bigint | null;

function columnsOf(shape: InsertShape): string[][] {
  return shape.columns.map(() => []);
}

/** Appends one row, each cell as an element of a PostgreSQL array literal. */
function pushRow(columns: string[][], cells: readonly Cell[]): void {
  for (let i = 0; i < cells.length; i++) columns[i]!.push(arrayElement(cells[i]));
}

/**
 * A table's rows, built in the form they are sent in: one array literal per column (for the
 * statement, {@link unnestInsert}) or COPY lines — chosen up front, so no row is encoded twice.
 */
function tableRows(shape: InsertShape, viaCopy: boolean) {
  const columns = viaCopy ? undefined : columnsOf(shape);
  const lines: CopyRows | undefined = viaCopy
    ? { table: shape.table, columns: shape.columns.map(([name]) => name), lines: [] }
    : undefined;
  return {
    push: (cells: readonly Cell[]) => (lines ? pushCopyRow(lines, cells) : pushRow(columns!, cells)),
    insert: (conflict?: SQL, order?: SQL) => unnestInsert(shape, columns!, conflict, order),
    copy: () => lines!,
  };
}

/**
 * `INSERT INTO table (cols) SELECT … FROM unnest($1::type[], …)`: one text parameter per column
 * (an array literal), cast on the server. jsonb columns travel as text[] and are cast per row
 * (an array of jsonb literals would be parsed the same way, with one more level of quoting).
 */
function unnestInsert(shape: InsertShape, columns: string[][], conflict?: SQL, order?: SQL): SQL {
  const names = shape.columns.map(([name]) => name).join(", ");
  const arrays = sql.join(
    shape.columns.map(
      ([, type], i) => sql`${`{${columns[i]!.join(",")}}`}::${sql.raw(type === "jsonb" ? "text" : type)}[]`,
    ),
    sql`, `,
  );
  const selected = shape.columns.map(([name, type]) => (type === "jsonb" ? `${name}::jsonb` : name)).join(", ");
  return sql`INSERT INTO ${sql.raw(shape.table)} (${sql.raw(names)})
    SELECT ${sql.raw(selected)} FROM unnest(${arrays}) AS t(${sql.raw(names)})
    ${order ?? sql``} ${conflict ?? sql``}`;
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
