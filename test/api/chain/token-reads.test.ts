/**
 * The API's token reads remember balance, freeze flags and pause per block (api/chain/chain-head.ts):
 * these tests hold them to what a fresh read of the chain would answer right after each change.
 */
import { expect } from "chai";
import type { Address } from "viem";

import { createTokenReads } from "../../../api/chain/token-reads.ts";
import { createTestChain, type TestChain } from "../../helpers/chain.ts";
import { deployStablecoin, ONE } from "../../helpers/stablecoin.ts";

describe("createTokenReads (reads remembered per block)", () => {
  let chain: TestChain;
  let roles: Awaited<ReturnType<typeof deployStablecoin>>;
  let reads: ReturnType<typeof createTokenReads>;
  let alice: Address;
  let bob: Address;

  before(async () => {
    chain = await createTestChain();
    roles = await deployStablecoin(chain.connection);
    reads = createTokenReads(chain.publicClient, (await roles.token.getAddress()) as Address);
    alice = roles.alice.address as Address;
    bob = roles.bob.address as Address;
  });
  after(async () => chain.close());

  it("answers a balance changed by a transfer mined just before the read", async () => {
    const before = await reads.balanceOf(alice);
    await (await roles.token.connect(roles.alice).transfer(bob, ONE)).wait();
    expect(await reads.balanceOf(alice)).to.equal(before - ONE);
  });

  it("answers a freeze and a pause mined just before the read", async () => {
    expect(await reads.isFrozen(bob)).to.equal(false);
    expect(await reads.isPaused()).to.equal(false);
    await (await roles.token.connect(roles.freezer).getFunction("freeze")(bob)).wait();
    expect(await reads.isFrozen(bob)).to.equal(true);
    await (await roles.token.connect(roles.pauser).getFunction("pause")()).wait();
    expect(await reads.isPaused()).to.equal(true);
  });

  it("keeps every read of a pinned run at the head read first in it, and moves on after it", async () => {
    const { balanceAfter, balanceInside, timeInside, timeFirst } = await reads.pinned(async () => {
      const timeFirst = await reads.chainTime();
      const balanceFirst = await reads.balanceOf(alice);
      // A block mined inside the run (nothing in the API does this) is not seen by the run's reads.
      await chain.testClient.increaseTime({ seconds: 100 });
      await chain.testClient.mine({ blocks: 1 });
      return {
        timeFirst,
        timeInside: await reads.chainTime(),
        balanceInside: await reads.balanceOf(alice),
        balanceAfter: balanceFirst,
      };
    });
    expect(timeInside).to.equal(timeFirst);
    expect(balanceInside).to.equal(balanceAfter);
    expect(await reads.chainTime()).to.be.greaterThanOrEqual(timeFirst + 100n);
  });

  it("shares one answer among concurrent reads of the same address at one block", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => reads.balanceOf(alice)));
    expect(new Set(answers).size).to.equal(1);
    expect(answers[0]).to.equal(
      await chain.publicClient.readContract({
        address: (await roles.token.getAddress()) as Address,
        abi: [
          {
            type: "function",
            name: "balanceOf",
            stateMutability: "view",
            inputs: [{ name: "a", type: "address" }],
            outputs: [{ type: "uint256" }],
          },
        ] as const,
        functionName: "balanceOf",
        args: [alice],
      }),
    );
  });
});
