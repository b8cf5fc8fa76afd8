/**
 * The in-process chains tests run on keep the wall clock, however late in a run they are created:
 * the API signs deadlines by chain time and the relayer expires relays by its own clock, so a chain
 * that starts behind makes valid authorizations expire (seen in CI: x402 and payment relays
 * RELAY_EXPIRED late in a 15-minute run, never when the file ran alone).
 */
import { expect } from "chai";
import { setTimeout as sleep } from "node:timers/promises";

import { createTestChain } from "../helpers/chain.ts";

describe("test chains (test/helpers/chain.ts)", () => {
  it("start with their clock at the wall clock, also one created seconds after another", async () => {
    const lagSeconds = async (chain: Awaited<ReturnType<typeof createTestChain>>) => {
      await chain.testClient.mine({ blocks: 1 });
      const block = await chain.publicClient.getBlock({ blockTag: "latest" });
      return Date.now() / 1000 - Number(block.timestamp);
    };
    const first = await createTestChain();
    // Hardhat once started every chain at the date its config was loaded: a chain created after
    // this pause would then be at least 3 s behind, and later in a run minutes behind.
    await sleep(3_000);
    const second = await createTestChain();
    try {
      for (const chain of [first, second]) {
        const lag = await lagSeconds(chain);
        expect(lag).to.be.lessThan(2).and.greaterThan(-2);
      }
    } finally {
      await first.close();
      await second.close();
    }
  });
});
