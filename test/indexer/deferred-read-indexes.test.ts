import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { sql } from "drizzle-orm";
import { parseUnits, type Abi, type Account, type Address, type PublicClient } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { getBalance } from "../../lib/ledger/queries/get-balance.ts";
import { getHistory } from "../../lib/ledger/queries/get-history.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { createReadIndexes, DEFERRABLE_READ_INDEXES } from "../../indexer/ledger/read-indexes.ts";
import { createTestChain, type TestChain } from "../helpers/chain.ts";
import { createTestDatabase, describeEachEngine } from "../helpers/database.ts";
import { compileTestToken, deployTestToken } from "./fixtures/test-token.ts";
import { createTestIndexer, expectLedgerEqualsChain, silentLogger } from "./helpers/indexer-fixture.ts";

/** Every index of the database's schema as the server prints it, the schema's name taken out. */
async function indexDefinitions(database: Database): Promise<Record<string, string>> {
  const rows = await database.query<{ indexname: string; indexdef: string }>(
    sql`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`,
  );
  return Object.fromEntries(
    rows.map((row) => [row.indexname, row.indexdef.replaceAll(`${database.schema}.`, "").replaceAll(`"`, "")]),
  );
}

async function deferredCount(database: Database): Promise<number> {
  const [row] = await database.query<{ n: string | number }>(sql`SELECT count(*) AS n FROM ledger_deferred_indexes`);
  return Number(row!.n);
}

describeEachEngine("Indexer cold start: read indexes deferred, then built at the head", (engine) => {
  let chain: TestChain;
  let client: PublicClient;
  let token: Address;
  let startBlock: bigint;
  let migrated: Record<string, string>;
  const abi = compileTestToken().abi as Abi;
  const databases: (Database & { drop: () => Promise<void> })[] = [];

  const send = async (from: Account, functionName: string, args: unknown[]) => {
    const hash = await chain
      .wallet(from)
      .writeContract({ address: token, abi, functionName, args, account: from, chain: null });
    return chain.publicClient.waitForTransactionReceipt({ hash });
  };
  const freshDatabase = async (label: string) => {
    const database = await createTestDatabase(engine, label);
    databases.push(database);
    return database;
  };

  before(async () => {
    chain = await createTestChain();
    client = chain.publicClient;
    const deployed = await deployTestToken(client, chain.wallet(chain.accounts[0]!));
    token = deployed.address;
    startBlock = deployed.blockNumber;
    for (const i of [1, 2, 3])
      await send(chain.accounts[0]!, "mint", [chain.accounts[i]!.address, parseUnits("100", 6)]);
    await send(chain.accounts[1]!, "transfer", [chain.accounts[2]!.address, 250n]);
    // What the migrations alone define: the definitions every cold start must end with.
    const reference = await freshDatabase("deferred_reference");
    await runMigrations(reference, [ledgerMigrations]);
    migrated = await indexDefinitions(reference);
    for (const name of DEFERRABLE_READ_INDEXES) expect(migrated, name).to.have.property(name);
  });

  after(async () => {
    for (const database of databases) await database.drop();
    await chain?.close();
  });

  it("ends a cold start with every index exactly as the migrations define it (pg_indexes), and none on record", async () => {
    const database = await freshDatabase("deferred_cold");
    const indexer = await createTestIndexer({ database, client, contracts: { Stablecoin: token }, startBlock });
    await indexer.catchUp();
    await expectLedgerEqualsChain(database, client, token);
    expect(await indexDefinitions(database)).to.deep.equal(migrated);
    expect(await deferredCount(database)).to.equal(0);
  });

  it("keeps reads correct while deferred, and a restarted indexer builds what a stopped cold start left deferred", async () => {
    const database = await freshDatabase("deferred_restart");
    const first = await createTestIndexer({ database, client, contracts: { Stablecoin: token }, startBlock });
    // Stopped during its cold start: it writes the batch in hand and leaves the build to the next start,
    // as a process killed after its last batch and before the build would.
    const running = first.catchUp();
    await first.stop();
    await running;
    expect(await deferredCount(database)).to.equal(DEFERRABLE_READ_INDEXES.length);
    const present = Object.keys(await indexDefinitions(database));
    for (const name of DEFERRABLE_READ_INDEXES) expect(present, name).to.not.include(name);

    // Without the indexes, reads answer the same (sequential scans): a balance at a block, a history page.
    await expectLedgerEqualsChain(database, client, token);
    const head = (await getIndexedHead(database, { chainId: 31337 }))!.number;
    for (const i of [1, 2, 3]) {
      const holder = chain.accounts[i]!.address;
      const onChain = (await client.readContract({
        address: token,
        abi,
        functionName: "balanceOf",
        args: [holder],
        blockNumber: head,
      })) as bigint;
      expect(await getBalance(database, { chainId: 31337, account: holder, token, blockNumber: head })).to.equal(
        onChain,
      );
      const history = await getHistory(database, { chainId: 31337, account: holder, token, limit: 100 });
      expect(history.items.reduce((sum, item) => sum + item.amount, 0n)).to.equal(onChain);
    }

    // The chain moves on; a new instance (a restart, or the standby that took the lock) continues and builds them.
    await send(chain.accounts[2]!, "transfer", [chain.accounts[3]!.address, 5n]);
    const second = await createTestIndexer({ database, client, contracts: { Stablecoin: token }, startBlock });
    await second.catchUp();
    await expectLedgerEqualsChain(database, client, token);
    expect(await indexDefinitions(database)).to.deep.equal(migrated);
    expect(await deferredCount(database)).to.equal(0);
  });

  it("migrates a cold start deferred before 0004 without bringing back the index 0004 drops", async () => {
    // The ledger's migrations up to 0003, as a database created before 0004 was applied them.
    const folder = mkdtempSync(join(tmpdir(), "ledger-migrations-0003-"));
    try {
      cpSync(ledgerMigrations.folder, folder, { recursive: true });
      rmSync(join(folder, "0004_postings_one_account_index.sql"));
      const journalFile = join(folder, "meta", "_journal.json");
      const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { tag: string }[] };
      journal.entries = journal.entries.filter((entry) => entry.tag < "0004");
      writeFileSync(journalFile, JSON.stringify(journal));
      const database = await freshDatabase("deferred_before_0004");
      await runMigrations(database, [{ ...ledgerMigrations, folder }]);
      // A cold start of that version deferred its read indexes, postings_account_history among them, and
      // was stopped before the build (as that version's deferIfEmpty does: definition on record, then drop).
      const deferredThen = [...DEFERRABLE_READ_INDEXES, "postings_account_history"];
      for (const name of deferredThen) {
        await database.query(sql`INSERT INTO ledger_deferred_indexes (name, definition)
          SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`);
        await database.query(sql`DROP INDEX ${sql.identifier(name)}`);
      }
      expect(await deferredCount(database)).to.equal(deferredThen.length);

      await runMigrations(database, [ledgerMigrations]);
      expect(await deferredCount(database)).to.equal(DEFERRABLE_READ_INDEXES.length);
      const indexer = await createTestIndexer({ database, client, contracts: { Stablecoin: token }, startBlock });
      await indexer.catchUp();
      await expectLedgerEqualsChain(database, client, token);
      expect(await indexDefinitions(database)).to.deep.equal(migrated);
      expect(migrated).to.not.have.property("postings_account_history");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("does not defer when the ledger already holds entries (a build would rescan every row)", async () => {
    const database = await freshDatabase("deferred_nonempty");
    const indexer = await createTestIndexer({ database, client, contracts: { Stablecoin: token }, startBlock });
    await indexer.catchUp();
    const readIndexes = createReadIndexes({ database, common: { logger: silentLogger } });
    expect(await readIndexes.deferIfEmpty()).to.equal(false);
    expect(await indexDefinitions(database)).to.deep.equal(migrated);
    expect(await readIndexes.rebuild()).to.deep.equal([]);
  });
});
