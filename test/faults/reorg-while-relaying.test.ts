/**
 * Fault suite (issue 11, defects 2 and 3 at a confirmation depth above 0): the chain reorganises
 * while relays are in flight — once shallower than RELAYER_CONFIRMATIONS (nothing was confirmed
 * yet on the lost blocks) and once deeper (relays already reported confirmed lose their block).
 * Blocks keep coming (interval mining), so confirmations are really counted. Every relay must end
 * confirmed on the canonical chain — re-sent with its own signed bytes when its block left —
 * never confirmed on a transaction the chain does not hold, never paid twice; the ledger follows.
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";

import { createFaultWorld, sized, type FaultWorld } from "./helpers/fault-world.ts";

const CONFIRMATIONS = 3;
const FINALITY = 64;
/** The chain mines a block this often on its own (and at once on each transaction: automine). */
const MINING_INTERVAL_MS = 100;

// 1: the lost branch holds mined relays, none yet confirmed; 6: relays confirmed on it are lost.
for (const depth of [1, 6]) {
  describe(`Fault suite: a reorg ${depth} block(s) deep while relaying (RELAYER_CONFIRMATIONS=${CONFIRMATIONS})`, function () {
    this.timeout(180_000);
    let world: FaultWorld;

    before(async () => {
      world = await createFaultWorld(`reorg_${depth}`);
      await world.startFollowingIndexer();
      await world.startWorkers({ confirmations: CONFIRMATIONS, finalityBlocks: FINALITY, watchIntervalMs: 100 });
      await world.f.chain.provider.request({ method: "evm_setIntervalMining", params: [MINING_INTERVAL_MS] } as never);
    });
    after(async () => world?.close());

    const provider = () => world.f.chain.provider;
    const head = () => world.f.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    // The chain mines on its own (MINING_INTERVAL_MS, and at once on each relayed transaction): the head
    // read around the snapshot and the revert is exact only while mining is held, so hold it for
    // those few milliseconds (CI once read the head after a block mined on the new branch, and the
    // reorg seemed to lose no block). The relayer's sends meanwhile wait in the pool.
    const withMiningHeld = async <T>(read: () => Promise<T>): Promise<T> => {
      await provider().request({ method: "evm_setAutomine", params: [false] } as never);
      await provider().request({ method: "evm_setIntervalMining", params: [0] } as never);
      try {
        return await read();
      } finally {
        await provider().request({ method: "evm_setIntervalMining", params: [MINING_INTERVAL_MS] } as never);
        await provider().request({ method: "evm_setAutomine", params: [true] } as never);
      }
    };
    const waitForHead = async (block: bigint, boundMs = 60_000) => {
      const until = Date.now() + boundMs;
      while ((await head()) < block) {
        if (Date.now() > until) throw new Error(`the chain did not reach block ${block} in ${boundMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    it(`re-sends or keeps every relay so each lands once on the canonical chain, confirmed only there`, async () => {
      const { snapshot, snapshotBlock } = await withMiningHeld(async () => ({
        snapshot: (await provider().request({ method: "evm_snapshot", params: [] } as never)) as string,
        snapshotBlock: await head(),
      }));
      const batch = await world.submitTransfers(`reorg${depth}`, sized(30, 150));
      // The lost branch holds mined relays; for the deep reorg, relays already reported confirmed.
      const wanted = depth > CONFIRMATIONS ? ["confirmed"] : ["mined", "confirmed"];
      for (const until = Date.now() + 60_000; ;) {
        const [row] = await world.database.query<{ n: string }>(
          sql`SELECT count(*) AS n FROM relays WHERE status IN (${sql.join(
            wanted.map((status) => sql`${status}`),
            sql`, `,
          )}) AND relay_id IN (${sql.join(
            batch.map((item) => sql`${item.relayId}`),
            sql`, `,
          )})`,
        );
        if (Number(row!.n) >= (depth > CONFIRMATIONS ? 3 : 1) && (await head()) >= snapshotBlock + BigInt(depth)) break;
        if (Date.now() > until) throw new Error(`no relay ${wanted.join(" or ")} on the branch to lose`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { lostHead, reverted, revertedTo } = await withMiningHeld(async () => ({
        lostHead: await head(),
        reverted: await provider().request({ method: "evm_revert", params: [snapshot] } as never),
        revertedTo: await head(),
      }));
      expect(reverted).to.equal(true);
      expect(revertedTo, "the revert's head").to.equal(snapshotBlock);
      expect(lostHead - revertedTo, "blocks lost").to.be.greaterThanOrEqual(depth);
      // Within RELAYER_FINALITY_BLOCKS: a deeper reorg is outside what the relayer promises.
      expect(Number(lostHead - revertedTo), "blocks lost").to.be.lessThan(FINALITY);
      // Past the finality depth of everything that may have been sent: the watch had its chance.
      await world.waitForOutcomes(
        120_000,
        batch.map((item) => item.relayId),
      );
      await waitForHead(lostHead + BigInt(CONFIRMATIONS + 2));
      const relays = await world.expectInvariants({ boundMs: 90_000 });
      expect(
        relays
          .filter((relay) => relay.status !== "confirmed")
          // With its reason and path, so a failure says what happened (this is how the out-of-gas
          // relays ended failed were found: test/relayer/out-of-gas.test.ts).
          .map(
            (relay) =>
              `${relay.relayId} ${relay.status} ${relay.errorCode}: ${relay.errorMessage} ` +
              `via ${relay.transitions.map((t) => t.status).join(" > ")}`,
          ),
        "a reorg costs no movement",
      ).to.deep.equal([]);
      const reorged = relays.filter((relay) => relay.transitions.some((t) => t.status === "reorged"));
      if (depth > CONFIRMATIONS) expect(reorged, "confirmed relays sent back by the reorg").to.not.have.length(0);
    });
  });
}
