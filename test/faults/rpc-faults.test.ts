/**
 * Fault suite (issue 11, defect 2 repro B): a loopback JSON-RPC proxy in front of the relay workers
 * and the indexer adds latency and fails one call in ten — a JSON-RPC error, a request dropped
 * before forwarding, an answer dropped after it (the node acted, the caller never heard), a 502
 * after forwarding. A broadcast lost either way must not strand the key: the nonce manager re-sends
 * what the node lost at our nonces and fills gaps, so every relay still lands exactly once. Run with
 * batching off and on (RELAYER_BATCH_SIZE=4).
 */
import { expect } from "chai";

import type { ProxyFault } from "../helpers/json-rpc-proxy.ts";
import { createFaultWorld, sized, type FaultWorld } from "./helpers/fault-world.ts";

const FAULTS: ProxyFault[] = ["error", "drop-before", "drop-after", "bad-gateway-after"];

for (const batchSize of [1, 4]) {
  describe(`Fault suite: a lossy, slow node in front of workers and indexer (RELAYER_BATCH_SIZE=${batchSize})`, function () {
    this.timeout(180_000);
    let world: FaultWorld;

    before(async () => {
      world = await createFaultWorld(`rpc_faults_${batchSize}`);
      await world.startFollowingIndexer();
      await world.startWorkers({ batchSize, batchWaitMs: 100, concurrency: 16, watchIntervalMs: 200 });
    });
    after(async () => world?.close());

    it("lands every relay exactly once while one call in ten fails before or after forwarding", async () => {
      world.proxy.setPolicy({
        fault: () => (Math.random() < 0.1 ? FAULTS[Math.floor(Math.random() * FAULTS.length)]! : "pass"),
        latencyMs: () => 5 + Math.floor(Math.random() * 40),
      });
      await world.submitTransfers("rpc", sized(40, 200));
      await world.submitPayouts("rpc", sized(3, 15));
      await world.waitForOutcomes(120_000);
      const counts = world.proxy.counts();
      expect(counts["drop-after"] + counts["bad-gateway-after"], "answers lost after forwarding").to.be.greaterThan(0);
      expect(counts["drop-before"] + counts.error, "calls refused or lost before forwarding").to.be.greaterThan(0);
      world.proxy.setPolicy({ fault: () => "pass" });
      const relays = await world.expectInvariants({ boundMs: 60_000 });
      expect(
        relays
          .filter((relay) => relay.status !== "confirmed")
          .map((relay) => `${relay.relayId} ${relay.status} ${relay.errorCode}`),
        "a lossy node costs no movement",
      ).to.deep.equal([]);
    });
  });
}
