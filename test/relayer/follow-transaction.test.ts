import { expect } from "chai";
import { Redis } from "ioredis";
import { HttpRequestError, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { followTransaction } from "../../relayer/follow-transaction.ts";
import { acquireKeyLease } from "../../relayer/key-lease.ts";
import { RelayerKey } from "../../relayer/nonce-manager.ts";

import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, logger, REDIS_URL, type RelayerFixture } from "./fixture.ts";

/**
 * Found by the fault suite (a node failing one call in ten): a receipt read that failed was taken
 * for "not mined", so a relay whose transaction had executed ended failed with RELAY_NONCE_TAKEN —
 * and a failed relay may be submitted again. Only the node's "no receipt" may count as not mined.
 */
describe("followTransaction when the node fails receipt reads", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let redis: Redis;

  before(async () => {
    f = await createRelayerFixture("follow");
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  /** The fixture's client, with its next `failures` receipt reads failing as a lost HTTP request would. */
  function failingReceipts(client: PublicClient, failures: number): PublicClient & { failed: () => number } {
    let failed = 0;
    return new Proxy(client, {
      get(target, property, receiver) {
        if (property === "failed") return () => failed;
        if (property === "getTransactionReceipt")
          return async (args: { hash: Hex }) => {
            if (failed < failures) {
              failed++;
              throw new HttpRequestError({ url: "http://127.0.0.1/", details: "socket hang up" });
            }
            return target.getTransactionReceipt(args);
          };
        return Reflect.get(target, property, receiver) as unknown;
      },
    }) as PublicClient & { failed: () => number };
  }

  it("waits for an answer instead of ending a mined transaction as nonce taken", async () => {
    const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[7]!);
    const lease = await acquireKeyLease(redis, f.prefix, account.address, 5_000, () => undefined);
    if (!lease) throw new Error("lease not acquired");
    const key = new RelayerKey(account, f.chain.publicClient, f.database, lease, logger);
    await key.start();
    const call = { to: key.address, data: "0x" as Hex, value: 0n };
    const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
    const sent = await key.send(call, 21_000n, fees, []);
    // Mined at once (automine): the key's count has moved past the nonce when the follow starts.
    expect(await f.chain.publicClient.getTransactionCount({ address: key.address })).to.be.greaterThan(sent.nonce);

    const flaky = failingReceipts(f.chain.publicClient, 4);
    const receipt = await followTransaction({
      publicClient: flaky,
      database: f.database,
      logger,
      key,
      call,
      relayIds: [],
      sent,
      hashes: [sent.hash],
      replaceAfterMs: 3_600_000,
      maxFeePerGasCap: 10n ** 12n,
      pollMs: 10,
    });
    expect(flaky.failed()).to.equal(4);
    expect(receipt.transactionHash).to.equal(sent.hash);
    expect(receipt.status).to.equal("success");
    await key.release();
  });
});
