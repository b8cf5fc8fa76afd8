import { expect } from "chai";
import { sql } from "drizzle-orm";

import { verifyJournalChain } from "../../auditor/index.ts";
import type { Database } from "../../lib/db/database.ts";
import { hashJournalEntry, journalChainAnchor, linkJournalChain } from "../../lib/ledger/journal-chain.ts";
import { describeEachEngine } from "../helpers/database.ts";
import {
  createAuditWorld,
  indexLedger,
  reorgIndexedChain,
  runWorkload,
  type AuditWorld,
  type IndexedLedger,
} from "./helpers/audit-world.ts";

/** Recomputes every entry's hashes and the stored head from the rows as they are now (what a forger would do). */
async function rehashJournal(database: Database): Promise<void> {
  const [chain] = await database.query<{ genesis_hash: string }>(sql`SELECT genesis_hash FROM ledger_chains`);
  const entries = await database.query<Record<string, string | number | null> & { event: unknown }>(sql`
    SELECT block_number::text AS block_number, log_index, block_hash, block_timestamp::text AS block_timestamp, transaction_hash,
      token, kind, reference, event, seq::text AS seq FROM journal_entries ORDER BY journal_entries.seq`);
  const postings = await database.query<Record<string, string | number>>(sql`
    SELECT block_number::text AS block_number, log_index, leg, account, counterparty, token, amount::text AS amount,
      balance_after::text AS balance_after, kind, block_timestamp::text AS block_timestamp FROM postings`);
  let previous = journalChainAnchor(31337, chain!.genesis_hash);
  let seq = 0n;
  for (const entry of entries) {
    seq = BigInt(entry.seq as string);
    const own = postings.filter((p) => p.block_number === entry.block_number && p.log_index === entry.log_index);
    const entryHash = hashJournalEntry({
      chainId: 31337,
      blockNumber: BigInt(entry.block_number as string),
      logIndex: entry.log_index as number,
      blockHash: entry.block_hash as string,
      blockTimestamp: BigInt(entry.block_timestamp as string),
      transactionHash: entry.transaction_hash as string,
      token: entry.token as string,
      kind: entry.kind as string,
      reference: entry.reference as string | null,
      event: entry.event,
      postings: own.map((p) => ({
        leg: p.leg as number,
        account: p.account as string,
        counterparty: p.counterparty as string,
        token: p.token as string,
        amount: BigInt(p.amount as string),
        balanceAfter: BigInt(p.balance_after as string),
        kind: p.kind as string,
        blockTimestamp: BigInt(p.block_timestamp as string),
      })),
    });
    previous = linkJournalChain(previous, seq, entryHash);
    await database.query(sql`UPDATE journal_entries SET entry_hash = ${entryHash}, chain_hash = ${previous}
      WHERE block_number = ${BigInt(entry.block_number as string)} AND log_index = ${entry.log_index as number}`);
  }
  await database.query(sql`UPDATE ledger_chains SET journal_seq = ${seq}, journal_head = ${previous}`);
}

type Position = { block: bigint; log: number; seq: bigint };

/** The n-th journal entry in ledger order. */
async function entryAt(database: Database, n: number): Promise<Position> {
  const [row] = await database.query<{ block: string; log: number; seq: string }>(
    sql`SELECT block_number::text AS block, log_index AS log, seq::text AS seq FROM journal_entries ORDER BY block_number, log_index OFFSET ${n} LIMIT 1`,
  );
  return { block: BigInt(row!.block), log: row!.log, seq: BigInt(row!.seq) };
}

describeEachEngine("Auditor verify-chain: the journal's hash chain names the first tampered row", (engine) => {
  let world: AuditWorld;
  const ledgers: IndexedLedger[] = [];
  const ledger = async (label: string) => {
    const indexed = await indexLedger(world, engine, label);
    ledgers.push(indexed);
    return indexed.database;
  };

  before(async () => {
    world = await createAuditWorld();
    await runWorkload(world, { seed: 1313, operations: 60 });
  });

  after(async () => {
    for (const { indexer, database } of ledgers) {
      await indexer.stop();
      await database.drop();
    }
    await world?.close();
  });

  it("verifies an untouched ledger end to end, its recomputed head equal to the stored one", async () => {
    const database = await ledger("clean");
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.findings).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.checked.entries).to.be.greaterThan(50);
    expect(report.checked.postings).to.equal(report.checked.entries * 2);
    expect(report.head).to.deep.equal(report.storedHead);
    expect(report.head.seq).to.equal(BigInt(report.checked.entries));
  });

  it("reports an UPDATEd amount as an edit of that row, and only that row", async () => {
    const database = await ledger("edited");
    const target = await entryAt(database, 40);
    await database.query(
      sql`UPDATE postings SET amount = amount + 1 WHERE block_number = ${target.block} AND log_index = ${target.log} AND leg = 1`,
    );
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.ok).to.equal(false);
    expect(report.findings).to.have.length(1);
    expect(report.first).to.include({ kind: "edited", seq: target.seq });
    expect(report.first!.row).to.include({ blockNumber: target.block, logIndex: target.log });
    expect(report.first!.message).to.include(`block ${target.block}, log ${target.log}`);
  });

  it("reports an edited event (the stored movement) as an edit", async () => {
    const database = await ledger("edited_event");
    const target = await entryAt(database, 12);
    await database.query(
      sql`UPDATE journal_entries SET event = jsonb_set(event, '{transfer,value}', '"1"') WHERE block_number = ${target.block} AND log_index = ${target.log}`,
    );
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.first).to.include({ kind: "edited", seq: target.seq });
  });

  it("reports a DELETEd row as the missing chain element, between its neighbours", async () => {
    const database = await ledger("deleted");
    const target = await entryAt(database, 30);
    const next = await entryAt(database, 31);
    await database.query(sql`DELETE FROM postings WHERE block_number = ${target.block} AND log_index = ${target.log}`);
    await database.query(
      sql`DELETE FROM journal_entries WHERE block_number = ${target.block} AND log_index = ${target.log}`,
    );
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.findings).to.have.length(1);
    expect(report.first).to.include({ kind: "deleted", seq: target.seq });
    expect(report.first!.row).to.include({ blockNumber: next.block, logIndex: next.log });
    expect(report.first!.message).to.match(new RegExp(`chain element ${target.seq} is missing`));
  });

  it("reports a DELETE of the last row (a truncated tail) against the stored head", async () => {
    const database = await ledger("deleted_tail");
    const [last] = await database.query<{ block: string; log: number; seq: string }>(
      sql`SELECT block_number::text AS block, log_index AS log, seq::text AS seq FROM journal_entries ORDER BY block_number DESC, log_index DESC LIMIT 1`,
    );
    await database.query(
      sql`DELETE FROM postings WHERE block_number = ${BigInt(last!.block)} AND log_index = ${last!.log}`,
    );
    await database.query(
      sql`DELETE FROM journal_entries WHERE block_number = ${BigInt(last!.block)} AND log_index = ${last!.log}`,
    );
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.first).to.include({ kind: "deleted", seq: BigInt(last!.seq) });
    expect(report.findings.map((f) => f.kind)).to.include("head_mismatch");
  });

  it("reports an INSERTed row (a copy of an entry at a new position) as an insertion at that position", async () => {
    const database = await ledger("inserted");
    const source = await entryAt(database, 20);
    await database.query(sql`
      INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event, seq, entry_hash, chain_hash)
      SELECT chain_id, block_number, 900, block_hash, block_timestamp, transaction_hash, token, kind, reference, event, seq, entry_hash, chain_hash
      FROM journal_entries WHERE block_number = ${source.block} AND log_index = ${source.log}`);
    await database.query(sql`
      INSERT INTO postings (chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp)
      SELECT chain_id, block_number, 900, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp
      FROM postings WHERE block_number = ${source.block} AND log_index = ${source.log}`);
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.findings).to.have.length(1);
    expect(report.first).to.include({ kind: "inserted", seq: source.seq });
    expect(report.first!.row).to.include({ blockNumber: source.block, logIndex: 900 });
  });

  it("reports an INSERTed row without chain fields as not written by the indexer", async () => {
    const database = await ledger("inserted_bare");
    const source = await entryAt(database, 5);
    await database.query(sql`
      INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event)
      SELECT chain_id, block_number, 901, block_hash, block_timestamp, transaction_hash, token, kind, reference, event
      FROM journal_entries WHERE block_number = ${source.block} AND log_index = ${source.log}`);
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.findings).to.have.length(1);
    expect(report.first).to.include({ kind: "inserted" });
    expect(report.first!.row).to.include({ blockNumber: source.block, logIndex: 901 });
  });

  it("reports two swapped rows as reordered, naming both", async () => {
    const database = await ledger("swapped");
    // Two entries of one block (a capture pays merchant then fee receiver, a payout several merchants).
    const [pair] = await database.query<{ block: string; a: number; b: number }>(sql`
      SELECT block_number::text AS block, min(log_index) AS a, max(log_index) AS b FROM journal_entries
      GROUP BY block_number HAVING count(*) >= 2 ORDER BY block_number LIMIT 1`);
    const block = BigInt(pair!.block);
    const [a, b] = [pair!.a, pair!.b];
    for (const table of ["journal_entries", "postings"]) {
      const t = sql.raw(table);
      await database.query(sql`UPDATE ${t} SET log_index = -1 WHERE block_number = ${block} AND log_index = ${a}`);
      await database.query(sql`UPDATE ${t} SET log_index = ${a} WHERE block_number = ${block} AND log_index = ${b}`);
      await database.query(sql`UPDATE ${t} SET log_index = ${b} WHERE block_number = ${block} AND log_index = -1`);
    }
    const report = await verifyJournalChain(database, { chainId: 31337 });
    expect(report.findings).to.have.length(1);
    expect(report.first!.kind).to.equal("reordered");
    expect(report.first!.message).to.include(`block ${block}, log ${a}`).and.to.include(`block ${block}, log ${b}`);
  });

  it("reports a chain rewritten with fresh hashes only against a head published earlier", async () => {
    const database = await ledger("published");
    const published = (await verifyJournalChain(database, { chainId: 31337 })).head;
    const target = await entryAt(database, 3);
    await database.query(
      sql`UPDATE postings SET amount = amount + 1 WHERE block_number = ${target.block} AND log_index = ${target.log} AND leg = 1`,
    );
    // Someone with write access and our code recomputes every hash from the edit on: the database alone cannot tell.
    await rehashJournal(database);
    expect((await verifyJournalChain(database, { chainId: 31337 })).ok).to.equal(true);
    const report = await verifyJournalChain(database, { chainId: 31337, expectHead: published });
    expect(report.ok).to.equal(false);
    expect(report.findings).to.have.length(1);
    expect(report.first).to.include({ kind: "head_mismatch", seq: published.seq });
  });

  it("keeps the chain valid across a reorg: the rollback is a recorded element, the orphans keep their hashes", async () => {
    const clean = await indexLedger(world, engine, "reorg");
    ledgers.push(clean);
    const before = await verifyJournalChain(clean.database, { chainId: 31337 });
    await reorgIndexedChain(world, [clean], 3);
    const report = await verifyJournalChain(clean.database, { chainId: 31337 });
    expect(report.findings).to.deep.equal([]);
    expect(report.checked.rollbacks).to.equal(1);
    expect(report.checked.orphans).to.equal(3);
    // The rollback appended (3 orphaned entries, 1 record, 4 new entries): nothing before it was rewritten.
    expect(report.head.seq).to.equal(before.head.seq + 3n + 1n + 4n);
    const again = await verifyJournalChain(clean.database, { chainId: 31337, expectHead: before.head });
    expect(again.ok).to.equal(true);
    // Deleting the rollback record (hiding the reorg) is reported.
    await clean.database.query(sql`DELETE FROM journal_rollbacks`);
    const hidden = await verifyJournalChain(clean.database, { chainId: 31337 });
    expect(hidden.ok).to.equal(false);
    expect(hidden.findings.map((f) => f.kind)).to.include.members(["rollback_invalid", "deleted"]);
  });
  it("reports the same findings whether it reads one page at a time or many block ranges side by side", async () => {
    const database = await ledger("paged");
    // Several tampers spread over the ledger, so they fall in different pages and on page edges.
    const edited = await entryAt(database, 9);
    await database.query(
      sql`UPDATE postings SET amount = amount + 1 WHERE block_number = ${edited.block} AND log_index = ${edited.log} AND leg = 0`,
    );
    // An entry deleted without its postings: a gap and postings that belong to no entry.
    const deleted = await entryAt(database, 25);
    await database.query(
      sql`DELETE FROM journal_entries WHERE block_number = ${deleted.block} AND log_index = ${deleted.log}`,
    );
    const source = await entryAt(database, 40);
    await database.query(sql`
      INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event, seq, entry_hash, chain_hash)
      SELECT chain_id, block_number, 902, block_hash, block_timestamp, transaction_hash, token, kind, reference, event, seq, entry_hash, chain_hash
      FROM journal_entries WHERE block_number = ${source.block} AND log_index = ${source.log}`);
    // A posting before the first entry and one after the last: only reads open at both ends see them.
    const first = await entryAt(database, 0);
    const [last] = await database.query<{ block: string }>(
      sql`SELECT max(block_number)::text AS block FROM journal_entries`,
    );
    for (const block of [first.block - 1n, BigInt(last!.block) + 5n])
      await database.query(sql`
        INSERT INTO postings (chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp)
        SELECT chain_id, ${block}, 0, 9, account, counterparty, token, amount, balance_after, kind, block_timestamp
        FROM postings WHERE block_number = ${first.block} AND log_index = ${first.log} AND leg = 0`);
    const oneByOne = await verifyJournalChain(database, { chainId: 31337, pageSize: 1_000_000, concurrency: 1 });
    expect(oneByOne.findings.map((f) => f.kind)).to.include.members(["edited", "deleted", "inserted"]);
    expect(oneByOne.findings.filter((f) => f.message.includes("belongs to no journal entry"))).to.have.length(4);
    for (const [pageSize, concurrency] of [
      [1, 4],
      [3, 1],
      [7, 3],
      [16, 8],
    ] as const)
      expect(await verifyJournalChain(database, { chainId: 31337, pageSize, concurrency })).to.deep.equal(oneByOne);
  });
});
