/**
 * Issue 11, defects 2 and 3: reorgs under the relayer, at confirmation depth 0 and above.
 *
 * Repro A of the issue: relays confirmed, then the chain goes back (evm_revert) and grows a longer
 * branch without them. The key's nonces on chain are then below what the relayer recorded: a new
 * relay must still go out (the nonce manager re-sends what the node lost instead of being refused
 * "nonce too high" for ever), and every orphaned relay must leave `confirmed` (`reorged`) and be
 * re-sent with the same signed bytes until it mines again — never reported confirmed on a
 * transaction the chain does not hold, never paid twice.
 */
import { expect } from "chai";
import { eq } from "drizzle-orm";
import { getAddress, type Hex } from "viem";

import { relayerTransactions } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { getRelay } from "../../relayer/get-relay.ts";
import type { Relay } from "../../relayer/relay-status.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, type RelayerFixture } from "./fixture.ts";

const KEY = HARDHAT_PRIVATE_KEYS[1];

for (const confirmations of [0, 2]) {
  describe(`Relays across a reorg (RELAYER_CONFIRMATIONS=${confirmations})`, function () {
    this.timeout(90_000);
    let f: RelayerFixture;
    let workers: RelayerWorkers;

    before(async () => {
      f = await createRelayerFixture(`reorg${confirmations}`);
      workers = await f.startWorkers({ relayerKeys: [KEY], confirmations, watchIntervalMs: 100 });
      // Blocks keep coming (as on a real chain), so confirmations above 0 are reached.
      if (confirmations > 0)
        await f.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
    });
    after(async () => {
      await workers?.close();
      await f?.close();
    });

    const relayer = () => getAddress(workers.keys.find((key) => key !== workers.operatorKey)!.address);
    /** Polls until the relay is confirmed and its transaction is on chain in the block it names. */
    const waitConfirmedOnChain = async (relayId: string): Promise<Relay> => {
      for (;;) {
        const relay = await getRelay(f.database, relayId);
        if (relay?.status === "failed") throw new Error(`${relayId} failed: ${relay.errorMessage}`);
        if (relay?.status === "confirmed") {
          const receipt = await f.chain.publicClient
            .getTransactionReceipt({ hash: relay.transactionHash as Hex })
            .catch(() => undefined);
          if (receipt && receipt.blockNumber === relay.blockNumber && receipt.blockHash === relay.blockHash)
            return relay;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    it("re-sends the orphaned relays' own transactions, relays a new one, and pays each exactly once", async () => {
      const startNonce = await f.chain.publicClient.getTransactionCount({ address: relayer() });
      const bobBefore = await f.token.balanceOf(f.bob.address);
      const snapshot = await f.chain.testClient.snapshot();
      const orphaned = [];
      for (let i = 0; i < 5; i++) {
        const request = await f.signTransfer(f.alice, f.bob.address, BigInt(100 + i));
        orphaned.push(
          (
            await enqueueRelay(workers.queue, {
              idempotencyKey: `reorg${confirmations}.a${i}`,
              request,
              requestedBy: "u1",
            })
          ).relayId,
        );
      }
      const first = await Promise.all(orphaned.map(waitConfirmedOnChain));
      await f.chain.testClient.revert({ id: snapshot });
      await f.chain.testClient.mine({ blocks: 35 });
      for (const relay of first) {
        // The block that carried it left the chain. The relayer may already have re-sent the same
        // bytes and had them mined again (its watch runs every 100 ms): then the receipt names
        // another block, never the orphaned one.
        const receipt = await f.chain.publicClient
          .getTransactionReceipt({ hash: relay.transactionHash as Hex })
          .catch(() => undefined);
        expect(receipt?.blockHash, "the reorg took the transaction out of its block").to.not.equal(relay.blockHash);
      }

      const request = await f.signTransfer(f.alice, f.bob.address, 7n);
      const { relayId } = await enqueueRelay(workers.queue, {
        idempotencyKey: `reorg${confirmations}.after`,
        request,
        requestedBy: "u1",
      });
      const after = await waitConfirmedOnChain(relayId);
      const again = await Promise.all(orphaned.map(waitConfirmedOnChain));

      for (const [i, relay] of again.entries()) {
        const statuses = relay.transitions.map((t) => t.status);
        expect(statuses, relay.relayId).to.include("reorged");
        expect(statuses.slice(-1)).to.deep.equal(["confirmed"]);
        // The same signed transaction at the same nonce: nothing new was signed for it.
        expect([relay.transactionHash, relay.nonce]).to.deep.equal([first[i]!.transactionHash, first[i]!.nonce]);
      }
      expect(after.transitions.map((t) => t.status)).to.not.include("reorged");
      expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore + 100n + 101n + 102n + 103n + 104n + 7n);

      const rows = await f.database.db
        .select()
        .from(relayerTransactions)
        .where(eq(relayerTransactions.relayer, relayer()));
      const nonces = [...new Set(rows.map((row) => row.nonce))].sort((a, b) => a - b).filter((n) => n >= startNonce);
      expect(nonces).to.deep.equal(Array.from({ length: 6 }, (_, i) => startNonce + i));
      expect(await f.chain.publicClient.getTransactionCount({ address: relayer() })).to.equal(startNonce + 6);
    });

    if (confirmations > 0) {
      it("does not confirm a relay whose block leaves the chain while its confirmations are counted", async () => {
        await f.chain.provider.request({ method: "evm_setIntervalMining", params: [0] } as never);
        try {
          const bobBefore = await f.token.balanceOf(f.bob.address);
          const snapshot = await f.chain.testClient.snapshot();
          const request = await f.signTransfer(f.alice, f.bob.address, 55n);
          const { relayId } = await enqueueRelay(workers.queue, {
            idempotencyKey: "reorg.during-confirmations",
            request,
            requestedBy: "u1",
          });
          for (;;) {
            const relay = await getRelay(f.database, relayId);
            if (relay?.status === "mined") break;
            if (relay?.status === "confirmed") throw new Error("confirmed without its confirmations");
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          // The block that mined it leaves the chain, and a longer branch without it passes the depth.
          await f.chain.testClient.revert({ id: snapshot });
          await f.chain.testClient.mine({ blocks: confirmations + 3 });
          await f.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
          const relay = await waitConfirmedOnChain(relayId);
          const statuses = relay.transitions.map((t) => t.status);
          expect(statuses).to.include.members(["mined", "reorged", "confirmed"]);
          expect(statuses.indexOf("reorged")).to.be.lessThan(statuses.lastIndexOf("confirmed"));
          expect(statuses.filter((s) => s === "confirmed")).to.have.length(1);
          expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore + 55n);
        } finally {
          await f.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
        }
      });
    }
  });
}
