import { expect } from "chai";
import { sql } from "drizzle-orm";
import { getAddress, padHex, zeroAddress, type Address, type Hash } from "viem";

import { verifyJournalChain } from "../../auditor/index.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { getBalance } from "../../lib/ledger/queries/get-balance.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import type { DecodedLog } from "../../lib/ledger/types.ts";
import { createLedgerWriter, type LedgerBatch } from "../../indexer/ledger/writer.ts";
import type { BlockHeader } from "../../indexer/rpc/rpc.ts";
import { createTestDatabase, describeEachEngine } from "../helpers/database.ts";

/**
 * The ledger writer against the database alone (no node): what it stores must not depend on
 * how it sends rows (array literals read with `unnest`) nor on its balance cache, which must never
 * be taken for current after another writer (an instance that held the lock meanwhile) or a
 * rollback changed the balances.
 */
const chainId = 31337;
const token = getAddress(padHex("0x7070", { size: 20 }));
const alice = getAddress(padHex("0xa11ce", { size: 20 }));
const bob = getAddress(padHex("0xb0b", { size: 20 }));
const genesis = padHex("0x6e", { size: 32 }) as Hash;
const blockHash = (n: number, branch = 0) => padHex(`0x${branch.toString(16)}b${n.toString(16)}`, { size: 32 }) as Hash;

function header(n: number, branch = 0): BlockHeader {
  return {
    number: BigInt(n),
    hash: blockHash(n, branch),
    parentHash: n === 1 ? genesis : blockHash(n - 1, branch),
    timestamp: 1_700_000_000n + BigInt(n),
  };
}

function transfer(block: BlockHeader, logIndex: number, from: Address, to: Address, value: bigint): DecodedLog {
  return {
    chainId,
    blockNumber: block.number,
    blockHash: block.hash,
    blockTimestamp: block.timestamp,
    transactionHash: padHex(`0x7${block.number.toString(16)}`, { size: 32 }) as Hash,
    logIndex,
    address: token,
    contractName: "Stablecoin",
    eventName: "Transfer",
    args: { from, to, value },
  };
}

function batch(block: BlockHeader, logs: DecodedLog[], rollbackTo?: bigint): LedgerBatch {
  return { rollbackTo, blocks: [block], logs, head: block };
}

describeEachEngine("Ledger writer", (engine) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeEach(async () => {
    database = await createTestDatabase(engine, "ledger_writer");
    await runMigrations(database, [ledgerMigrations]);
  });

  afterEach(async () => {
    await database.drop();
  });

  const balanceOf = (account: Address) => getBalance(database, { chainId, account, token });

  it("keeps balances right when another writer committed between two of its batches (a standby took over and gave back)", async () => {
    const first = createLedgerWriter({ database, chainId, context: {} });
    const second = createLedgerWriter({ database, chainId, context: {} });
    await first.resetChain(genesis, 1n);
    await first.commit(batch(header(1), [transfer(header(1), 0, zeroAddress, alice, 1_000n)]));
    await second.commit(batch(header(2), [transfer(header(2), 0, alice, bob, 300n)]));
    // The first writer's cache still says alice holds 1,000: it must see that the chain moved on.
    await first.commit(batch(header(3), [transfer(header(3), 0, alice, bob, 200n)]));

    expect(await balanceOf(alice)).to.equal(500n);
    expect(await balanceOf(bob)).to.equal(500n);
    const [last] = await database.query<{ balance_after: string }>(
      sql`SELECT balance_after::text FROM postings WHERE account = ${`holder:${alice}`} ORDER BY block_number DESC LIMIT 1`,
    );
    expect(last?.balance_after).to.equal("500");
    expect((await verifyJournalChain(database, { chainId })).ok).to.equal(true);
  });

  it("keeps balances right across a rollback to an ancestor (the cache is dropped with the orphaned blocks)", async () => {
    const writer = createLedgerWriter({ database, chainId, context: {} });
    await writer.resetChain(genesis, 1n);
    await writer.commit(batch(header(1), [transfer(header(1), 0, zeroAddress, alice, 1_000n)]));
    await writer.commit(batch(header(2), [transfer(header(2), 0, alice, bob, 900n)]));
    // Block 2 is reorganised away; the new block 2 moves less.
    const replaced = header(2, 1);
    await writer.commit(batch(replaced, [transfer(replaced, 0, alice, bob, 100n)], 1n));
    await writer.commit(batch(header(3, 1), [transfer(header(3, 1), 0, bob, alice, 50n)]));

    expect(await balanceOf(alice)).to.equal(950n);
    expect(await balanceOf(bob)).to.equal(50n);
    expect((await verifyJournalChain(database, { chainId })).ok).to.equal(true);
  });

  it("stores event arguments with quotes, backslashes, commas, braces and the text NULL exactly as given", async () => {
    const writer = createLedgerWriter({ database, chainId, context: {} });
    await writer.resetChain(genesis, 1n);
    const block = header(1);
    const awkward = 'a "quoted", {braced} \\ back\\slash\nNULL';
    const log = { ...transfer(block, 0, zeroAddress, alice, 7n), args: { from: zeroAddress, to: alice, value: 7n } };
    const labelled: DecodedLog = {
      ...log,
      logIndex: 1,
      eventName: "Memo",
      args: { note: awkward, empty: "", nul: "NULL" },
    };
    await writer.commit(batch(block, [log, labelled]));

    const [event] = await database.query<{ args: Record<string, string> }>(
      sql`SELECT args FROM chain_events WHERE log_index = 1`,
    );
    expect(event?.args).to.deep.equal({ note: awkward, empty: "", nul: "NULL" });
    expect(await balanceOf(alice)).to.equal(7n);
    expect((await verifyJournalChain(database, { chainId })).ok).to.equal(true);
  });
});

describe("Ledger writer, a batch loaded by COPY [postgres]", () => {
  const databases: Awaited<ReturnType<typeof createTestDatabase>>[] = [];

  afterEach(async () => {
    for (const database of databases.splice(0)) await database.drop();
  });

  /** The same batch written through COPY and through the one statement must leave the same rows. */
  it("leaves every table exactly as the one-statement path does, awkward text and chain order included", async () => {
    const [viaCopy, viaStatement] = [
      await createTestDatabase("postgres", "writer_copy"),
      await createTestDatabase("postgres", "writer_statement"),
    ];
    databases.push(viaCopy, viaStatement);
    const copied: string[] = [];
    const observed: typeof viaCopy = {
      ...viaCopy,
      transaction: (fn) =>
        viaCopy.transaction((tx, copy) =>
          fn(tx, copy && ((rows) => (copied.push(`${rows.table}:${rows.lines.length}`), copy(rows)))),
        ),
    };
    const withoutCopy: typeof viaStatement = {
      ...viaStatement,
      transaction: (fn) => viaStatement.transaction((tx) => fn(tx, undefined)),
    };
    const awkward = 'tab\there, line\nbreak, cr\r, back\\slash, \\N, "quoted", {braced}, NULL';
    const holders = Array.from({ length: 12 }, (_, i) => getAddress(padHex(`0xc0${i.toString(16)}`, { size: 20 })));
    const blocks = [header(1), header(2), header(3)];
    const logs: DecodedLog[] = [];
    for (const block of blocks)
      for (let i = 0; i < 60; i++) {
        if (i % 20 === 7) {
          const memo = transfer(block, i, zeroAddress, alice, 0n);
          logs.push({ ...memo, eventName: "Memo", args: { note: `${awkward} ${i}`, empty: "", nul: "NULL" } });
        } else if (block.number === 1n && i < 12) logs.push(transfer(block, i, zeroAddress, holders[i]!, 1_000_000n));
        else logs.push(transfer(block, i, holders[i % 12]!, holders[(i * 5 + 1) % 12]!, BigInt(i + 1)));
      }
    for (const database of [observed, withoutCopy]) {
      await runMigrations(database, [ledgerMigrations]);
      const writer = createLedgerWriter({ database, chainId, context: {} });
      await writer.resetChain(genesis, 1n);
      await writer.commit({ blocks, logs, head: blocks[2]! });
      // A small batch after the big one goes by statement on both, on top of what COPY left.
      await writer.commit(batch(header(4), [transfer(header(4), 0, holders[3]!, bob, 5n)]));
    }

    expect(copied).to.deep.equal(["journal_entries:171", "postings:342", "chain_events:180"]);
    const tables = [
      sql`SELECT * FROM journal_entries ORDER BY seq`,
      sql`SELECT * FROM postings ORDER BY block_number, log_index, leg`,
      sql`SELECT * FROM account_balances ORDER BY account, token`,
      sql`SELECT * FROM chain_events ORDER BY id`,
      sql`SELECT * FROM ledger_blocks ORDER BY number`,
      sql`SELECT chain_id, head_number, head_hash, journal_seq, journal_head FROM ledger_chains`,
    ];
    for (const table of tables) {
      const [copiedRows, statementRows] = [await viaCopy.query(table), await viaStatement.query(table)];
      expect(copiedRows.length).to.be.greaterThan(0);
      expect(copiedRows).to.deep.equal(statementRows);
    }
    const [memo] = await viaCopy.query<{ args: Record<string, string> }>(
      sql`SELECT args FROM chain_events WHERE block_number = 2 AND log_index = 27`,
    );
    expect(memo?.args).to.deep.equal({ note: `${awkward} 27`, empty: "", nul: "NULL" });
    expect((await verifyJournalChain(viaCopy, { chainId })).ok).to.equal(true);
  });

  it("stores nothing of a batch whose COPY the table refuses, and the next batch is written", async () => {
    const database = await createTestDatabase("postgres", "writer_copy_refused");
    databases.push(database);
    await runMigrations(database, [ledgerMigrations]);
    const writer = createLedgerWriter({ database, chainId, context: {} });
    await writer.resetChain(genesis, 1n);
    const block = header(1);
    const logs = Array.from({ length: 120 }, (_, i) => transfer(block, i, zeroAddress, alice, 1n));
    // A value wider than NUMERIC(78,0): the postings' COPY is refused after the journal's went in.
    const refused = [...logs.slice(0, 119), transfer(block, 119, zeroAddress, alice, 10n ** 78n)];
    let failure: unknown;
    await writer.commit({ blocks: [block], logs: refused, head: block }).catch((error: unknown) => (failure = error));
    expect((failure as { code?: string })?.code).to.equal("22003");
    for (const table of ["journal_entries", "postings", "chain_events", "account_balances", "ledger_blocks"]) {
      const [row] = await database.query<{ count: string }>(sql`SELECT count(*)::text AS count FROM ${sql.raw(table)}`);
      expect(row?.count, table).to.equal("0");
    }
    await writer.commit({ blocks: [block], logs, head: block });
    expect(await getBalance(database, { chainId, account: alice, token })).to.equal(120n);
    expect((await verifyJournalChain(database, { chainId })).ok).to.equal(true);
  });
});
