import { expect } from "chai";
import type { Abi, Address } from "viem";

import { openDatabase, type Database } from "../../lib/db/database.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { startIndexer } from "../../indexer/runtime/start-indexer.ts";
import type { Indexer } from "../../indexer/runtime/create-indexer.ts";
import { createTestChain, type TestChain } from "../helpers/chain.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../helpers/database.ts";
import { compileTestToken, deployTestToken } from "./fixtures/test-token.ts";
import { silentLogger, testIndexerSettings } from "./helpers/indexer-fixture.ts";

const until = async (condition: () => Promise<boolean> | boolean) => {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe("One active indexer per chain and database (PostgreSQL advisory lock)", () => {
  let chain: TestChain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let second: Database;
  let token: Address;
  let startBlock: bigint;
  const indexers: Indexer[] = [];

  before(async () => {
    chain = await createTestChain();
    database = await createTestDatabase("postgres", "standby");
    second = await openDatabase({ url: TEST_POSTGRES_URL, schema: database.schema, poolSize: 3 });
    const deployed = await deployTestToken(chain.publicClient, chain.wallet(chain.accounts[0]!));
    token = deployed.address;
    startBlock = deployed.blockNumber;
  });

  after(async () => {
    for (const indexer of indexers) await indexer.stop();
    await second.close();
    await database.drop();
    await chain.close();
  });

  it("keeps a second instance as a standby while the first runs, and lets it take over when the first stops", async () => {
    const start = (db: Database) =>
      startIndexer({
        common: { logger: silentLogger },
        database: db,
        client: chain.publicClient,
        chainId: 31337,
        contracts: { Stablecoin: token },
        startBlock,
        settings: testIndexerSettings,
      });
    const first = await start(database);
    indexers.push(first);
    await until(() => first.state() === "active");
    const standby = await start(second);
    indexers.push(standby);
    await until(() => standby.state() === "standby");
    // Several lock retries later (standbyRetryMs = 50) it is still waiting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(standby.state()).to.equal("standby");
    expect(first.state()).to.equal("active");

    await first.stop();
    await until(() => standby.state() === "active");
    const { abi } = compileTestToken();
    const hash = await chain.wallet(chain.accounts[0]!).writeContract({
      address: token,
      abi: abi as Abi,
      functionName: "mint",
      args: [chain.accounts[1]!.address, 5n],
      account: chain.accounts[0]!,
      chain: null,
    });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    await until(
      async () => ((await getIndexedHead(database, { chainId: 31337 }))?.number ?? 0n) >= receipt.blockNumber,
    );
    expect(first.state()).to.equal("stopped");
  });
});
