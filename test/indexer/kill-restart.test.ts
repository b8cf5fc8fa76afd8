import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { sql } from "drizzle-orm";
import { padHex, type Address, type Hash } from "viem";

import { writeDeployment } from "../../lib/chain/deployments.ts";
import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../helpers/database.ts";
import { createTestIndexer, expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";
import { spawnIndexer, startNodeWithMintedToken, type HardhatNode } from "./helpers/processes.ts";

/** Every ledger row in a canonical order (chain_events without its id: a rolled-back transaction burns sequence values). */
async function dumpLedger(database: Database): Promise<Record<string, unknown[]>> {
  return {
    journal: await database.query(sql`SELECT * FROM journal_entries ORDER BY block_number, log_index`),
    postings: await database.query(sql`SELECT * FROM postings ORDER BY block_number, log_index, leg`),
    balances: await database.query(sql`SELECT * FROM account_balances ORDER BY account, token`),
    payments: await database.query(
      sql`SELECT * FROM escrow_payment_states ORDER BY payment_id, block_number, log_index`,
    ),
    events: await database.query(
      sql`SELECT block_number, log_index, block_hash, transaction_hash, contract, event_name, args FROM chain_events ORDER BY id`,
    ),
    head: await database.query(sql`SELECT chain_id, genesis_hash, head_number, head_hash FROM ledger_chains`),
  };
}

describe("Indexer process killed mid-backfill", () => {
  let node: HardhatNode;
  let token: Address;
  let deploymentsDir: string;
  const killed = { database: undefined as (Database & { drop: () => Promise<void> }) | undefined };
  const reference = { database: undefined as (Database & { drop: () => Promise<void> }) | undefined };

  before(async () => {
    const world = await startNodeWithMintedToken();
    ({ node, token } = world);
    const { wallet, abi } = world;
    // 300 blocks of 40 transfers each: enough batches at a small getLogs range that a kill lands mid-backfill.
    const recipients = Array.from(
      { length: 40 },
      (_, i) => padHex(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address,
    );
    let last: Hash | undefined;
    for (let block = 0; block < 300; block++) {
      last = await wallet.writeContract({
        address: token,
        abi,
        functionName: "transferMany",
        args: [recipients, recipients.map((_, i) => BigInt(block * 100 + i + 1))],
      });
    }
    await node.client.waitForTransactionReceipt({ hash: last! });
    deploymentsDir = await mkdtemp(join(tmpdir(), "stablerail-deployments-"));
    const genesis = await node.client.getBlock({ blockNumber: 0n });
    const unused = (n: number) => padHex(`0x${n.toString(16)}`, { size: 20 }) as Address;
    await writeDeployment(deploymentsDir, {
      chainId: 31337,
      genesisHash: genesis.hash!,
      startBlock: Number(world.startBlock),
      deployedAt: new Date().toISOString(),
      contracts: {
        Stablecoin: { address: token, blockNumber: Number(world.startBlock) },
        StablerailForwarder: { address: unused(0xf0), blockNumber: 0 },
        PaymentEscrow: { address: unused(0xe5), blockNumber: 0 },
        Settlement: { address: unused(0x5e), blockNumber: 0 },
      },
    });
    killed.database = await createTestDatabase("postgres", "kill_restart");
    reference.database = await createTestDatabase("postgres", "kill_reference");
  });

  after(async () => {
    await killed.database?.drop();
    await reference.database?.drop();
    await node?.stop();
    if (deploymentsDir) await rm(deploymentsDir, { recursive: true, force: true });
  });

  it("restarts after SIGKILL and ends with exactly the ledger of an uninterrupted run, row for row", async () => {
    const database = killed.database!;
    const env = {
      RPC_URL: node.url,
      CHAIN_ID: "31337",
      DEPLOYMENTS_DIR: deploymentsDir,
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: database.schema,
      LOG_LEVEL: "info",
      INDEXER_GET_LOGS_INITIAL_RANGE: "2",
      INDEXER_GET_LOGS_MAX_RANGE: "3",
      INDEXER_POLL_INTERVAL_MS: "50",
    };
    const head = await node.client.getBlockNumber();
    const killedAt: bigint[] = [];
    // Three kills at checkpoints ¼, ½ and ¾ of the way: each target lies past the previous kill's
    // checkpoint, so every run has resumed and stored progress of its own before it dies (a target
    // already passed would kill a process that is still starting).
    for (const quarter of [1n, 2n, 3n]) {
      const run = spawnIndexer(env);
      // Past the previous kill's checkpoint even if that kill overshot its own target.
      const previous = killedAt.at(-1) ?? 0n;
      const target = (head * quarter) / 4n > previous ? (head * quarter) / 4n : previous + 5n;
      // Wait for the checkpoint to pass the target, then kill without warning.
      for (;;) {
        const indexed = await getIndexedHead(database, { chainId: 31337 }).catch(() => undefined);
        if (indexed && indexed.number >= target) break;
        if (run.child.exitCode !== null) throw new Error(`indexer exited early:\n${run.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      run.child.kill("SIGKILL");
      await run.exited;
      killedAt.push((await getIndexedHead(database, { chainId: 31337 }))!.number);
    }
    expect(
      killedAt.every((number, i) => number < head && (i === 0 || number > killedAt[i - 1]!)),
      `killed at ${killedAt.join(", ")} of ${head}`,
    ).to.equal(true);
    expect(killedAt).to.have.length(3);

    // The kills landed while the read indexes of this cold start were deferred: they stay on record.
    const deferred = async () =>
      Number((await database.query<{ n: string }>(sql`SELECT count(*) AS n FROM ledger_deferred_indexes`))[0]!.n);
    expect(await deferred(), "read indexes deferred at the kill").to.be.greaterThan(0);
    const last = spawnIndexer(env);
    for (;;) {
      const indexed = await getIndexedHead(database, { chainId: 31337 });
      // At the head, and the indexes deferred by the first run built by this one.
      if (indexed && indexed.number >= head && (await deferred()) === 0) break;
      if (last.child.exitCode !== null) throw new Error(`indexer exited early:\n${last.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    last.child.kill("SIGTERM");
    expect(await last.exited).to.equal(0);
    expect(last.output()).to.match(/backfilling/);

    const uninterrupted = await createTestIndexer({
      database: reference.database!,
      client: node.client,
      contracts: { Stablecoin: token },
      startBlock: 0n,
    });
    await uninterrupted.catchUp();
    await expectLedgerEqualsChain(database, node.client, token);
    const [a, b] = [await dumpLedger(database), await dumpLedger(reference.database!)];
    for (const table of Object.keys(a)) expect(a[table], table).to.deep.equal(b[table]);
    // Every index as the migrations define it, on both (the reference deferred and built them too).
    const indexes = async (of: Database) =>
      (
        await of.query<{ indexname: string; indexdef: string }>(
          sql`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`,
        )
      ).map((row) => `${row.indexname}: ${row.indexdef.replace(`${of.schema}.`, "")}`);
    const migrated = await createTestDatabase("postgres", "kill_migrated");
    try {
      await runMigrations(migrated, [ledgerMigrations]);
      const expected = await indexes(migrated);
      expect(expected.some((definition) => definition.startsWith("postings_account_time:"))).to.equal(true);
      expect(await indexes(database)).to.deep.equal(expected);
      expect(await indexes(reference.database!)).to.deep.equal(expected);
    } finally {
      await migrated.drop();
    }
    expect((a.postings as unknown[]).length).to.equal(2 * (300 * 40 + 1));
  });
});
