import { expect } from "chai";
import { sql } from "drizzle-orm";
import { encodeAbiParameters, keccak256, pad, toHex, type Address, type Hex } from "viem";

import { auditTransaction, reconcileLedger, type ReconciliationReport } from "../../auditor/index.ts";
import type { Database } from "../../lib/db/database.ts";
import { describeEachEngine } from "../helpers/database.ts";
import {
  createAuditWorld,
  indexLedger,
  reorgIndexedChain,
  runWorkload,
  type AuditWorld,
  type IndexedLedger,
} from "./helpers/audit-world.ts";

const SEED = Number(process.env.AUDIT_WORKLOAD_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Entry = { block: bigint; log: number; tx: Hex; debit: string; credit: string; amount: bigint };

/** The n-th plain transfer between two holders (not the escrow, not the settlement treasury), in ledger order. */
async function holderTransfer(database: Database, world: AuditWorld, n: number): Promise<Entry> {
  const skip = [world.contracts.escrow, world.contracts.settlement].map((a) => `holder:${a}`);
  const rows = await database.query<{
    block: string;
    log: number;
    tx: string;
    debit: string;
    credit: string;
    amount: string;
  }>(sql`
    SELECT e.block_number::text AS block, e.log_index AS log, e.transaction_hash AS tx, d.account AS debit, c.account AS credit,
      c.amount::text AS amount
    FROM journal_entries e
    JOIN postings d ON d.block_number = e.block_number AND d.log_index = e.log_index AND d.leg = 0
    JOIN postings c ON c.block_number = e.block_number AND c.log_index = e.log_index AND c.leg = 1
    WHERE e.kind = 'transfer' AND d.account LIKE 'holder:%' AND c.account LIKE 'holder:%'
      AND d.account NOT IN (${skip[0]!}, ${skip[1]!}) AND c.account NOT IN (${skip[0]!}, ${skip[1]!}) AND d.account <> c.account
    ORDER BY e.block_number, e.log_index`);
  const row = rows[Math.min(n, rows.length - 1)]!;
  return {
    block: BigInt(row.block),
    log: row.log,
    tx: row.tx as Hex,
    debit: row.debit,
    credit: row.credit,
    amount: BigInt(row.amount),
  };
}

describeEachEngine(
  "Auditor reconcile: the ledger against the chain at a block, every corruption named with its first divergent block",
  (engine) => {
    let world: AuditWorld;
    const ledgers: IndexedLedger[] = [];
    const ledger = async (label: string) => {
      const indexed = await indexLedger(world, engine, label);
      ledgers.push(indexed);
      return indexed.database;
    };
    const reconcile = (database: Database, block?: bigint) =>
      reconcileLedger(database, world.client, {
        chainId: 31337,
        contracts: {
          token: world.contracts.token,
          escrow: world.contracts.escrow,
          settlement: world.contracts.settlement,
        },
        fromBlock: world.startBlock + 1n,
        block,
        batchSize: 50,
      });
    const mismatchesOf = (report: ReconciliationReport, check: string) =>
      report.mismatches.filter((m) => m.check === check);

    before(async () => {
      console.log(`      workload seed: ${SEED} (replay with AUDIT_WORKLOAD_SEED=${SEED})`);
      world = await createAuditWorld();
      await runWorkload(world, { seed: SEED, operations: 80 });
    });

    after(async () => {
      for (const { indexer, database } of ledgers) {
        await indexer.stop();
        await database.drop();
      }
      await world?.close();
    });

    it("reports no mismatch after a randomised workload (transfers, escrow lifecycles, payouts, batched settlements) and a reorg", async () => {
      const clean = await indexLedger(world, engine, "clean");
      ledgers.push(clean);
      await reorgIndexedChain(world, [clean], 2);
      await runWorkload(world, { seed: SEED + 1, operations: 10 });
      await clean.indexer.catchUp();
      const report = await reconcile(clean.database);
      expect(report.mismatches).to.deep.equal([]);
      expect(report.ok).to.equal(true);
      expect(report.firstDivergentBlock).to.equal(null);
      expect(report.totals.holders).to.be.greaterThan(10);
      expect(report.totals.payments).to.be.greaterThan(0);
      expect(report.totals.transfers).to.equal(report.totals.entries);
      expect(report.block.number).to.equal(await world.client.getBlockNumber());
      expect(report.journalHead.seq).to.be.greaterThan(0n);
      expect(report.tokens[0]!.ledgerHolders).to.equal(report.tokens[0]!.chainHolders);
    });

    it("names a changed amount: the entry differs from its Transfer, both accounts' balances diverge at its block", async () => {
      const database = await ledger("changed_amount");
      const target = await holderTransfer(database, world, 5);
      await database.query(
        sql`UPDATE postings SET amount = amount - 1 WHERE block_number = ${target.block} AND log_index = ${target.log} AND leg = 0`,
      );
      await database.query(
        sql`UPDATE postings SET amount = amount + 1 WHERE block_number = ${target.block} AND log_index = ${target.log} AND leg = 1`,
      );
      const report = await reconcile(database);
      expect(report.ok).to.equal(false);
      expect(report.firstDivergentBlock).to.equal(target.block);
      const [differs] = mismatchesOf(report, "entry_differs");
      expect(differs).to.include({ field: "leg 0 amount, leg 1 amount", firstDivergentBlock: target.block });
      expect(differs!.position).to.include({ blockNumber: target.block, logIndex: target.log });
      expect(differs!.expected).to.include(`leg 1 amount=${target.amount}`);
      expect(differs!.found).to.include(`leg 1 amount=${target.amount + 1n}`);
      const balances = mismatchesOf(report, "balance");
      expect(balances.map((m) => m.account).sort()).to.deep.equal([target.credit, target.debit].sort());
      for (const m of balances) {
        expect(m.firstDivergentBlock, m.account).to.equal(target.block);
        expect(m.token).to.equal(world.contracts.token);
        expect(BigInt(m.found) - BigInt(m.expected)).to.equal(m.account === target.credit ? 1n : -1n);
      }
      // The stored running balances were not touched, so the sums no longer match them from that block on.
      for (const m of mismatchesOf(report, "running_balance"))
        expect(m.firstDivergentBlock! >= target.block).to.equal(true);
    });

    it("names a deleted entry: its Transfer has no entry, and the balances diverge at its block", async () => {
      const database = await ledger("deleted_entry");
      const target = await holderTransfer(database, world, 8);
      await database.query(
        sql`DELETE FROM postings WHERE block_number = ${target.block} AND log_index = ${target.log}`,
      );
      await database.query(
        sql`DELETE FROM journal_entries WHERE block_number = ${target.block} AND log_index = ${target.log}`,
      );
      const report = await reconcile(database);
      expect(report.firstDivergentBlock).to.equal(target.block);
      const [missing] = mismatchesOf(report, "missing_entry");
      expect(missing).to.include({ firstDivergentBlock: target.block, account: target.credit, found: "no entry" });
      expect(missing!.position).to.include({
        blockNumber: target.block,
        logIndex: target.log,
        transactionHash: target.tx,
      });
      const balances = mismatchesOf(report, "balance");
      expect(balances.map((m) => m.account).sort()).to.deep.equal([target.credit, target.debit].sort());
      for (const m of balances) expect(m.firstDivergentBlock).to.equal(target.block);
    });

    it("names an extra entry: an entry with no Transfer on chain, and the balances diverge at its block", async () => {
      const database = await ledger("extra_entry");
      const target = await holderTransfer(database, world, 3);
      await database.query(sql`
      INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event)
      SELECT chain_id, block_number, 77, block_hash, block_timestamp, transaction_hash, token, kind, reference, event
      FROM journal_entries WHERE block_number = ${target.block} AND log_index = ${target.log}`);
      await database.query(sql`
      INSERT INTO postings (chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp)
      SELECT chain_id, block_number, 77, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp
      FROM postings WHERE block_number = ${target.block} AND log_index = ${target.log}`);
      const report = await reconcile(database);
      expect(report.firstDivergentBlock).to.equal(target.block);
      const [extra] = mismatchesOf(report, "extra_entry");
      expect(extra).to.include({ firstDivergentBlock: target.block, expected: "no Transfer there" });
      expect(extra!.position).to.include({ blockNumber: target.block, logIndex: 77 });
      for (const m of mismatchesOf(report, "balance")) expect(m.firstDivergentBlock).to.equal(target.block);
      expect(mismatchesOf(report, "balance")).to.have.length(2);
    });

    it("names an entry moved to another block, from the earlier of its two blocks, though balances at the head agree", async () => {
      const database = await ledger("moved_entry");
      const target = await holderTransfer(database, world, 4);
      // A later block with no entry at this log index, so the moved row keeps its log index.
      const [free] = await database.query<{ block: string }>(sql`
      SELECT b.number::text AS block FROM ledger_blocks b
      WHERE b.number > ${target.block} + 1 AND NOT EXISTS (
        SELECT 1 FROM journal_entries e WHERE e.block_number = b.number AND e.log_index = ${target.log})
      ORDER BY b.number LIMIT 1`);
      const to = BigInt(free!.block);
      for (const table of ["journal_entries", "postings"]) {
        await database.query(
          sql`UPDATE ${sql.raw(table)} SET block_number = ${to} WHERE block_number = ${target.block} AND log_index = ${target.log}`,
        );
      }
      const report = await reconcile(database);
      expect(report.firstDivergentBlock).to.equal(target.block);
      const [moved] = mismatchesOf(report, "moved_entry");
      expect(moved).to.include({
        field: "block_number",
        expected: target.block.toString(),
        found: to.toString(),
        firstDivergentBlock: target.block,
      });
      expect(moved!.position).to.include({ transactionHash: target.tx, logIndex: target.log });
      expect(mismatchesOf(report, "balance")).to.deep.equal([]);
    });

    it("names the events an indexer that stopped short missed, from the first block it skipped", async () => {
      const stopped = await indexLedger(world, engine, "stopped_short");
      ledgers.push(stopped);
      const indexedTo = await world.client.getBlockNumber({ cacheTime: 0 });
      const [alice, bob] = world.users as [(typeof world.users)[number], (typeof world.users)[number]];
      const { blockNumber: firstMissed } = await world.write(alice, "token", "transfer", [bob.address, 4_242n]);
      await world.write(bob, "token", "transfer", [alice.address, 17n]);
      const head = await world.client.getBlock();
      // The checkpoint claims the new head although nothing above `indexedTo` was written.
      await stopped.database.query(
        sql`UPDATE ledger_chains SET head_number = ${head.number}, head_hash = ${head.hash}, head_timestamp = ${head.timestamp}`,
      );
      const report = await reconcile(stopped.database);
      expect(firstMissed).to.equal(indexedTo + 1n);
      expect(report.firstDivergentBlock).to.equal(firstMissed);
      const missing = mismatchesOf(report, "missing_entry");
      expect(missing.map((m) => m.position!.blockNumber)).to.deep.equal([firstMissed, head.number]);
      const balances = mismatchesOf(report, "balance");
      expect(balances.map((m) => m.account).sort()).to.deep.equal(
        [`holder:${alice.address}`, `holder:${bob.address}`].sort(),
      );
      for (const m of balances) expect(m.firstDivergentBlock).to.equal(firstMissed);
    });

    it("names a balance that drifted on chain without a Transfer (one the indexer could not see), from the block it drifted", async () => {
      const database = await ledger("drift");
      const snapshot = await world.chain.testClient.snapshot();
      try {
        const victim = world.users[2]!.address;
        const slot = await balanceSlot(world, victim);
        const balance = (await world.client.readContract({
          address: world.contracts.token,
          abi: world.abis.token,
          functionName: "balanceOf",
          args: [victim],
        })) as bigint;
        await world.chain.testClient.mine({ blocks: 3 });
        // Hardhat's hardhat_setStorageAt rewrites the state of the current head block: that block is where it drifts.
        const drifted = await world.client.getBlockNumber({ cacheTime: 0 });
        await world.chain.testClient.setStorageAt({
          address: world.contracts.token,
          index: slot,
          value: pad(toHex(balance + 500n)),
        });
        await world.chain.testClient.mine({ blocks: 4 });
        await ledgers[ledgers.length - 1]!.indexer.catchUp();
        const report = await reconcile(database);
        expect(mismatchesOf(report, "missing_entry")).to.deep.equal([]);
        const [m] = report.mismatches;
        expect(report.mismatches).to.have.length(1);
        expect(m).to.include({
          check: "balance",
          account: `holder:${victim}`,
          token: world.contracts.token,
          expected: (balance + 500n).toString(),
          found: balance.toString(),
          firstDivergentBlock: drifted,
        });
        expect(report.firstDivergentBlock).to.equal(drifted);
      } finally {
        await world.chain.testClient.revert({ id: snapshot });
      }
    });

    it("names an escrow payment whose recorded state was changed", async () => {
      const database = await ledger("payment");
      const [state] = await database.query<{ payment_id: string; block: string; log: number }>(sql`
      SELECT payment_id, block_number::text AS block, log_index AS log FROM escrow_payment_states
      WHERE event = 'PaymentCaptured' ORDER BY block_number LIMIT 1`);
      await database.query(
        sql`UPDATE escrow_payment_states SET captured = captured + 5 WHERE payment_id = ${state!.payment_id} AND block_number >= ${BigInt(state!.block)}`,
      );
      const report = await reconcile(database);
      const payments = mismatchesOf(report, "payment");
      expect(payments.map((m) => m.field)).to.include("captured");
      const captured = payments.find((m) => m.field === "captured")!;
      expect(captured.paymentId).to.equal(state!.payment_id);
      expect(BigInt(captured.found) - BigInt(captured.expected)).to.equal(5n);
      expect(captured.firstDivergentBlock).to.equal(BigInt(state!.block));
    });

    it("refuses to reconcile above the indexed head", async () => {
      const database = await ledger("above_head");
      const head = await world.client.getBlockNumber({ cacheTime: 0 });
      await world.chain.testClient.mine({ blocks: 1 });
      let error: unknown;
      await reconcile(database, head + 1n).catch((caught: unknown) => (error = caught));
      expect(error).to.have.property("code", "AUDIT_BLOCK_NOT_INDEXED");
    });

    it("shows one transaction's logs and ledger entries side by side, with a verdict", async () => {
      const database = await ledger("tx");
      const target = await holderTransfer(database, world, 2);
      const audit = await auditTransaction(database, world.client, {
        chainId: 31337,
        contracts: {
          token: world.contracts.token,
          escrow: world.contracts.escrow,
          settlement: world.contracts.settlement,
        },
        transactionHash: target.tx,
      });
      expect(audit.ok, audit.verdict).to.equal(true);
      const row = audit.rows.find((r) => r.logIndex === target.log)!;
      expect(row.chain).to.include({ contract: "Stablecoin", event: "Transfer" });
      expect(row.chain!.movement).to.equal(row.ledger.entry);
      await database.query(
        sql`UPDATE postings SET account = 'holder:0x0000000000000000000000000000000000000001' WHERE block_number = ${target.block} AND log_index = ${target.log} AND leg = 1`,
      );
      const corrupted = await auditTransaction(database, world.client, {
        chainId: 31337,
        contracts: {
          token: world.contracts.token,
          escrow: world.contracts.escrow,
          settlement: world.contracts.settlement,
        },
        transactionHash: target.tx,
      });
      expect(corrupted.ok).to.equal(false);
      const bad = corrupted.rows.find((r) => r.logIndex === target.log)!;
      expect(bad.verdict).to.equal("differs");
      expect(bad.differences.join(" ")).to.include("leg 1 account");
    });
  },
);

/** The storage slot of `holder`'s balance in the token (found by probing the slots of a Solidity mapping). */
async function balanceSlot(world: AuditWorld, holder: Address): Promise<Hex> {
  const balance = (await world.client.readContract({
    address: world.contracts.token,
    abi: world.abis.token,
    functionName: "balanceOf",
    args: [holder],
  })) as bigint;
  for (let i = 0n; i < 64n; i++) {
    const slot = keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [holder, i]));
    const value = await world.client.getStorageAt({ address: world.contracts.token, slot });
    if (value && BigInt(value) === balance) return slot;
  }
  throw new Error(`no storage slot of the token holds ${holder}'s balance`);
}
