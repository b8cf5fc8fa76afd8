import { expect } from "chai";
import { createPublicClient, custom, type PublicClient } from "viem";

import { stablerailChain } from "../../lib/chain/chain.ts";
import { bumpFees, estimateFees } from "../../relayer/gas-fees.ts";

describe("bumpFees (replacement at the same nonce)", () => {
  it("raises both fees by more than the 10 % nodes require, rounded up", () => {
    const bumped = bumpFees({ maxFeePerGas: 1_000n, maxPriorityFeePerGas: 100n });
    expect(bumped.maxFeePerGas).to.equal(1_126n);
    expect(bumped.maxPriorityFeePerGas).to.equal(114n);
    for (const [before, after] of [
      [1_000n, bumped.maxFeePerGas],
      [100n, bumped.maxPriorityFeePerGas],
    ] as const) {
      expect(after * 10n > before * 11n, `${after} ≥ 110 % of ${before}`).to.equal(true);
    }
  });

  it("raises even a fee of 1 wei (integer rounding never leaves it unchanged)", () => {
    const bumped = bumpFees({ maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
    expect(bumped.maxFeePerGas > 1n && bumped.maxPriorityFeePerGas > 1n).to.equal(true);
  });

  it("never goes below the current estimate, and keeps maxFee at least the tip", () => {
    const bumped = bumpFees(
      { maxFeePerGas: 1_000n, maxPriorityFeePerGas: 100n },
      { maxFeePerGas: 5_000n, maxPriorityFeePerGas: 2_000n },
    );
    expect(bumped).to.deep.equal({ maxFeePerGas: 5_000n, maxPriorityFeePerGas: 2_000n });
    const tipAboveFee = bumpFees(
      { maxFeePerGas: 10n, maxPriorityFeePerGas: 10n },
      { maxFeePerGas: 1n, maxPriorityFeePerGas: 50n },
    );
    expect(tipAboveFee.maxFeePerGas >= tipAboveFee.maxPriorityFeePerGas).to.equal(true);
  });
});

describe("estimateFees (EIP-1559 fees for the next send)", () => {
  /** A client of a chain whose latest block has `baseFee` and whose node suggests `tip`; counts what it is asked. */
  const chainAnswering = (baseFee: bigint, tip: bigint) => {
    const asked: string[] = [];
    const block = {
      number: "0x10",
      hash: `0x${"11".repeat(32)}`,
      parentHash: `0x${"22".repeat(32)}`,
      timestamp: "0x1",
      baseFeePerGas: `0x${baseFee.toString(16)}`,
      gasLimit: "0x1c9c380",
      gasUsed: "0x0",
      transactions: [],
    };
    const client = createPublicClient({
      chain: stablerailChain(31337, "http://chain.invalid"),
      transport: custom({
        request: async ({ method }: { method: string }) => {
          asked.push(method);
          if (method === "eth_getBlockByNumber") return block;
          if (method === "eth_maxPriorityFeePerGas") return `0x${tip.toString(16)}`;
          throw new Error(`not asked for in this test: ${method}`);
        },
      }),
    }) as PublicClient;
    return { client, asked };
  };

  it("prices the latest base fee × 1.2 plus the node's tip (one full block's rise of headroom)", async () => {
    const { client } = chainAnswering(1_000_000_000n, 2_000_000n);
    const fees = await estimateFees(client);
    expect(fees.maxPriorityFeePerGas).to.equal(2_000_000n);
    expect(fees.maxFeePerGas).to.equal(1_200_000_000n + 2_000_000n);
    // A full block raises the base fee by 12.5 %: still covered. Two full blocks (26.6 %): not.
    expect(fees.maxFeePerGas - fees.maxPriorityFeePerGas >= 1_125_000_000n).to.equal(true);
    expect(fees.maxFeePerGas - fees.maxPriorityFeePerGas >= 1_265_625_000n).to.equal(false);
  });

  it("serves the callers of one event-loop turn with one read, and a later turn with a new one", async () => {
    const { client, asked } = chainAnswering(7n, 1n);
    const sameTurn = await Promise.all([estimateFees(client), estimateFees(client), estimateFees(client)]);
    expect(asked.filter((m) => m === "eth_getBlockByNumber")).to.have.length(1);
    expect(new Set(sameTurn).size, "one answer shared").to.equal(1);
    await estimateFees(client);
    expect(asked.filter((m) => m === "eth_getBlockByNumber")).to.have.length(2);
  });
});
