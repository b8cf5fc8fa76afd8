/**
 * The indexer benchmarks' workload, shared by bench/indexer/index-transfers.ts and
 * bench/indexer/vs-ponder.ts: the test token deployed on a running `hardhat node`, 10^30 minted to
 * account #0, then `events` real ERC-20 Transfer logs at `perBlock` per block (`transferMany`, 250
 * logs per transaction, automine off and `evm_mine` per block) to 1,000 recycled recipients.
 */
import { createWalletClient, http, padHex, type Abi, type Address, type Hash } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailChain } from "../../lib/chain/chain.ts";
import { HARDHAT_PRIVATE_KEYS } from "../../test/helpers/chain.ts";
import { compileTestToken, deployTestToken } from "../../test/indexer/fixtures/test-token.ts";
import type { HardhatNode } from "../../test/indexer/helpers/processes.ts";

const PER_TX = 250;

export type TransferChain = {
  token: { address: Address; blockNumber: bigint };
  head: bigint;
  /** Transfer logs of the token on the chain: the transfers and the mint. */
  events: number;
  generationMs: number;
};

export async function buildTransferChain(
  node: HardhatNode,
  { events: wanted, perBlock }: { events: number; perBlock: number },
): Promise<TransferChain> {
  const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[0]);
  const wallet = createWalletClient({ account, chain: stablerailChain(31337, node.url), transport: http(node.url) });
  const { abi } = compileTestToken();
  const token = await deployTestToken(node.client, wallet);
  await node.client.waitForTransactionReceipt({
    hash: await wallet.writeContract({
      address: token.address,
      abi: abi as Abi,
      functionName: "mint",
      args: [account.address, 10n ** 30n],
    }),
  });
  const recipients = Array.from(
    { length: 1000 },
    (_, i) => padHex(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address,
  );
  const generationStart = Date.now();
  let last: Hash | undefined;
  let transfers = 0;
  let nonce = await node.client.getTransactionCount({ address: account.address });
  await node.client.request({ method: "evm_setAutomine" as never, params: [false] as never });
  while (transfers < wanted) {
    for (let inBlock = 0; inBlock < perBlock && transfers < wanted;) {
      const count = Math.min(PER_TX, wanted - transfers, perBlock - inBlock);
      const to = Array.from({ length: count }, (_, i) => recipients[(transfers + i) % recipients.length]!);
      last = await wallet.writeContract({
        address: token.address,
        abi: abi as Abi,
        functionName: "transferMany",
        args: [to, to.map((_, i) => BigInt(i + 1))],
        gas: 9_000_000n,
        nonce: nonce++,
      });
      transfers += count;
      inBlock += count;
    }
    await node.client.request({ method: "evm_mine" as never });
  }
  await node.client.request({ method: "evm_setAutomine" as never, params: [true] as never });
  const receipt = await node.client.waitForTransactionReceipt({ hash: last! });
  if (receipt.status !== "success") throw new Error("a transferMany transaction reverted");
  const head = await node.client.getBlockNumber();
  return { token, head, events: transfers + 1, generationMs: Date.now() - generationStart };
}
