/**
 * Issue 11, defect 4: the indexer process must survive PostgreSQL dropping its connections —
 * including the session that holds its advisory lock — reconnect, take its lock again and resume
 * exactly where its checkpoint is, instead of dying on an unhandled 'error' event and leaving the
 * ledger silently behind the chain.
 */
import { expect } from "chai";

import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";
import { createIndexerWorld, type IndexerWorld } from "./helpers/indexer-world.ts";
import { spawnIndexer } from "./helpers/processes.ts";

describe("Indexer process when PostgreSQL terminates its sessions", function () {
  this.timeout(120_000);
  let world: IndexerWorld;
  let indexer: ReturnType<typeof spawnIndexer> | undefined;

  before(async () => (world = await createIndexerWorld("idx_connection_loss")));
  after(async () => {
    if (indexer && indexer.child.exitCode === null) {
      indexer.child.kill("SIGKILL");
      await indexer.exited;
    }
    await world?.close();
  });

  /** Waits until the ledger reaches `block`; fails at once if the indexer process died. */
  const waitForIndexed = async (block: bigint) => {
    for (;;) {
      if (indexer!.child.exitCode !== null || indexer!.child.signalCode !== null)
        throw new Error(`the indexer process died:\n${indexer!.output().slice(-4_000)}`);
      const head = await getIndexedHead(world.database, { chainId: 31337 }).catch(() => undefined);
      if (head && head.number >= block) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it("reconnects, takes its lock again and indexes every later block, three times over", async () => {
    indexer = spawnIndexer(world.env());
    await waitForIndexed((await world.mint(1, 1_000n)).blockNumber);
    for (let round = 0; round < 3; round++) {
      const terminated = await world.terminateBackends();
      expect(terminated, "backends terminated").to.be.greaterThan(0);
      // Movements after the loss must reach the ledger through new sessions.
      await world.mint(2, 10n + BigInt(round));
      const receipt = await world.mint(3, 20n + BigInt(round));
      await waitForIndexed(receipt.blockNumber);
    }
    await expectLedgerEqualsChain(world.database, world.chain.publicClient, world.token);
    expect(indexer.output()).to.match(/lost the database session/);
    expect(indexer.output()).to.match(/indexer active/);
    indexer.child.kill("SIGTERM");
    expect(await indexer.exited).to.equal(0);
  });
});
