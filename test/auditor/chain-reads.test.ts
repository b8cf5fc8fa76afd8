import { expect } from "chai";
import { padHex, type Abi, type Address } from "viem";

import { createChainReader } from "../../auditor/reconcile/chain-reads.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { createTestChain, type TestChain } from "../helpers/chain.ts";
import { compileTestToken, deployTestToken } from "../indexer/fixtures/test-token.ts";

describe("Auditor chain reads (batched balanceOf through Multicall3)", () => {
  let chain: TestChain;
  let token: Address;
  const holders = Array.from({ length: 1_200 }, (_, i) => padHex(`0x${(0x1_0000 + i).toString(16)}`, { size: 20 }));

  before(async () => {
    chain = await createTestChain();
    const wallet = chain.wallet(chain.accounts[0]!);
    ({ address: token } = await deployTestToken(chain.publicClient, wallet));
    const { abi } = compileTestToken();
    await chain.publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: token,
        abi,
        functionName: "mint",
        args: [holders[777]!, 4_242n],
        account: chain.accounts[0]!,
        chain: null,
      }),
    });
  });
  after(async () => {
    await chain?.close();
  });

  // The local stack has no Multicall3, so reads run deployless: the batch travels as contract
  // creation code, which EIP-3860 caps at 49,152 bytes — a batch of 500 balanceOf is about 112 kB.
  it("reads 1,200 balances deployless at the default batch size, every one of them, within the init code limit", async () => {
    const reader = createChainReader(chain.publicClient);
    expect(reader.mode).to.equal("deployless-multicall3");
    const block = await chain.publicClient.getBlockNumber();
    const results = await reader.readAll(
      holders.map((holder) => ({
        address: token,
        abi: stablecoinAbi as Abi,
        functionName: "balanceOf",
        args: [holder],
      })),
      block,
    );
    expect(results.filter((r) => r.status !== "success")).to.deep.equal([]);
    expect(results).to.have.length(holders.length);
    expect(results[777]).to.deep.equal({ status: "success", result: 4_242n });
    expect(results.filter((r) => r.status === "success" && r.result !== 0n)).to.have.length(1);
  });
});
