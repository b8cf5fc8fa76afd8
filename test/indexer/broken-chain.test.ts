/**
 * Issue 11, defect 8: a node that answers a broken chain — blocks whose parent hash does not link
 * (as Hardhat's `hardhat_mine` with a count once served zero parent hashes) — right after a reorg.
 * The indexer must not loop "chain reorganised again" with the orphaned entries still in the
 * ledger: it rolls back to the common ancestor at once, keeps the ledger there (equal to the
 * chain at that block), reports the failure (consecutive failures, the error) and resumes once
 * the node serves a linked chain.
 */
import { expect } from "chai";
import { createPublicClient, http, type Abi, type Address, type PublicClient } from "viem";

import { stablerailChain } from "../../lib/chain/chain.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import type { Indexer } from "../../indexer/runtime/create-indexer.ts";
import { createTestChain, type TestChain } from "../helpers/chain.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { serveJsonRpc, type JsonRpcServer } from "../helpers/json-rpc-server.ts";
import { passEverything, startJsonRpcProxy, type JsonRpcProxy } from "../helpers/json-rpc-proxy.ts";
import { compileTestToken, deployTestToken } from "./fixtures/test-token.ts";
import { createTestIndexer, expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";

const ZERO = `0x${"0".repeat(64)}`;

describe("Indexer on a node that serves a broken chain after a reorg", function () {
  this.timeout(60_000);
  let chain: TestChain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let rpc: JsonRpcServer;
  let proxy: JsonRpcProxy;
  let client: PublicClient;
  let indexer: Indexer;
  let token: Address;
  const abi = compileTestToken().abi as Abi;

  const mint = async (to: number, amount: bigint) => {
    const hash = await chain.wallet(chain.accounts[0]!).writeContract({
      address: token,
      abi,
      functionName: "mint",
      args: [chain.accounts[to]!.address, amount],
      account: chain.accounts[0]!,
      chain: null,
    });
    return chain.publicClient.waitForTransactionReceipt({ hash });
  };

  before(async () => {
    chain = await createTestChain();
    database = await createTestDatabase("pglite", "broken_chain");
    const deployed = await deployTestToken(chain.publicClient, chain.wallet(chain.accounts[0]!));
    token = deployed.address;
    rpc = await serveJsonRpc(chain.provider);
    proxy = await startJsonRpcProxy(rpc.url);
    client = createPublicClient({
      chain: stablerailChain(31337, proxy.url),
      transport: http(proxy.url, { retryCount: 0 }),
    }) as PublicClient;
    indexer = await createTestIndexer({
      database,
      client,
      contracts: { Stablecoin: token },
      startBlock: deployed.blockNumber,
    });
  });
  after(async () => {
    await indexer?.stop();
    await proxy?.close();
    await rpc?.close();
    await database?.drop();
    await chain?.close();
  });

  it("rolls the orphaned entries back at once, holds the ledger at the ancestor while the chain does not link, then resumes", async () => {
    await mint(1, 1_000n);
    await indexer.catchUp();
    const ancestor = await chain.publicClient.getBlockNumber();
    const snapshot = await chain.testClient.snapshot();
    for (let i = 0; i < 3; i++) await mint(2, 10n + BigInt(i));
    await indexer.catchUp();
    const orphanedHead = (await getIndexedHead(database, { chainId: 31337 }))!;
    expect(orphanedHead.number).to.equal(ancestor + 3n);

    await chain.testClient.revert({ id: snapshot });
    await mint(3, 5n);
    await chain.testClient.mine({ blocks: 5 });
    // Every block of the new branch above its first one claims a zero parent.
    proxy.setPolicy({
      fault: () => "pass",
      rewrite: ({ method }, result) => {
        const block = result as { number?: string; parentHash?: string } | null;
        if (method !== "eth_getBlockByNumber" || !block?.number) return result;
        return BigInt(block.number) > ancestor + 1n ? { ...block, parentHash: ZERO } : result;
      },
    });
    let failure: Error | undefined;
    await indexer.catchUp().catch((error: Error) => (failure = error));
    expect((failure as { code?: string } | undefined)?.code).to.equal("RPC_CHAIN_NOT_LINKED");
    const held = (await getIndexedHead(database, { chainId: 31337 }))!;
    // The ledger left the orphaned branch: it stands on the node's chain, at the last block that links.
    expect(held.number).to.equal(ancestor + 1n);
    await expectLedgerEqualsChain(database, chain.publicClient, token);

    proxy.setPolicy(passEverything);
    await indexer.catchUp();
    const head = (await getIndexedHead(database, { chainId: 31337 }))!;
    expect(head.number).to.equal(await chain.publicClient.getBlockNumber());
    await expectLedgerEqualsChain(database, chain.publicClient, token);
  });
});
