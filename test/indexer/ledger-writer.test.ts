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
