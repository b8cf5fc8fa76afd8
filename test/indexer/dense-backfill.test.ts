import { expect } from "chai";
import { sql } from "drizzle-orm";
import { createPublicClient, http, padHex, type Address, type Hash, type PublicClient } from "viem";
import { z } from "zod";

import { stablerailChain } from "../../lib/chain/chain.ts";
import { indexerEnv } from "../../lib/config/indexer.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { createTestIndexer, expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";
import { startNodeWithMintedToken, type HardhatNode } from "./helpers/processes.ts";

/** viem's HTTP transport refuses response bodies above this (its default `maxResponseBodySize`). */
const VIEM_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
// More blocks than the realtime stage follows one by one (32), dense enough that the old default
// first range (2,000 blocks: all of them) asked for ~13 MB.
const BLOCKS = 40;
const PER_BLOCK = 500;

/**
 * Issue 17: on blocks with ~1,000 Transfer events, the default first eth_getLogs range (2,000 blocks)
 * asked for a response larger than viem accepts; viem refused it (and retried it three times), the
 * range was halved until it fit. The backfill must size its ranges by what the node returns, with
 * the settings a user gets, and never send a request whose answer the client refuses.
 */
describe("Indexer backfill on dense blocks with the default settings", () => {
  let node: HardhatNode;
  let token: Address;
  let startBlock: bigint;
  const getLogs: { bytes: number }[] = [];

  before(async () => {
    const world = await startNodeWithMintedToken();
    ({ node, token, startBlock } = world);
    const { account, wallet, abi } = world;
    const recipients = Array.from(
      { length: 250 },
      (_, i) => padHex(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address,
    );
    let nonce = await node.client.getTransactionCount({ address: account.address });
    let last: Hash | undefined;
    await node.client.request({ method: "evm_setAutomine" as never, params: [false] as never });
    for (let block = 0; block < BLOCKS; block++) {
      for (let tx = 0; tx < PER_BLOCK / recipients.length; tx++)
        last = await wallet.writeContract({
          address: token,
          abi,
          functionName: "transferMany",
          args: [recipients, recipients.map((_, i) => BigInt(block * 1_000 + i + 1))],
          gas: 9_000_000n,
          nonce: nonce++,
        });
      await node.client.request({ method: "evm_mine" as never });
    }
    await node.client.request({ method: "evm_setAutomine" as never, params: [true] as never });
    expect((await node.client.waitForTransactionReceipt({ hash: last! })).status).to.equal("success");
  });

  after(async () => {
    await node?.stop();
  });

  it("never asks for an eth_getLogs response the client refuses, and indexes every event once", async () => {
    // The real node over HTTP, every eth_getLogs response's size recorded on the way in.
    const pending: string[] = [];
    const client = createPublicClient({
      chain: stablerailChain(31337, node.url),
      transport: http(node.url, {
        onFetchRequest: async (request) => {
          pending.push(((await request.clone().json()) as { method: string }).method);
        },
        onFetchResponse: async (response) => {
          const method = pending.shift();
          if (method === "eth_getLogs") getLogs.push({ bytes: (await response.clone().arrayBuffer()).byteLength });
        },
      }),
    }) as PublicClient;
    const database = await createTestDatabase("pglite", "dense_backfill");
    try {
      // The settings `npm run indexer` uses when no INDEXER_* variable is set.
      const defaults = indexerEnv.toSettings(z.object(indexerEnv.shape).parse({}));
      const indexer = await createTestIndexer({
        database,
        client,
        contracts: { Stablecoin: token },
        startBlock,
        settings: { getLogs: defaults.getLogs },
      });
      await indexer.catchUp();
      const [row] = await database.query<{ count: string | number }>(
        sql`SELECT count(*) AS count FROM journal_entries`,
      );
      expect(Number(row?.count)).to.equal(BLOCKS * PER_BLOCK + 1);
      await expectLedgerEqualsChain(database, client, token);
    } finally {
      await database.drop();
    }
    const refused = getLogs.filter((response) => response.bytes > VIEM_MAX_RESPONSE_BYTES);
    expect(refused, "eth_getLogs responses over viem's 10 MiB limit").to.deep.equal([]);
    // A probe, then ranges of about the default target (5,000 logs): a handful of requests, not dozens.
    expect(getLogs.length, "eth_getLogs requests").to.be.at.most(2 + Math.ceil((BLOCKS * PER_BLOCK) / 2_500));
  });
});
