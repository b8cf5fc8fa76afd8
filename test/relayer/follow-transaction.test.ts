import { expect } from "chai";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { HttpRequestError, type Hex, type PublicClient } from "viem";

import { followTransaction } from "../../relayer/follow-transaction.ts";
import type { RelayerKey } from "../../relayer/nonce-manager.ts";

import { createRelayerFixture, logger, REDIS_URL, startRelayerKey, type RelayerFixture } from "./fixture.ts";

/** Faults found by the fault suite in how the relayer follows a key's transactions, reproduced one by one. */
describe("Following a key's transactions on a chain that fails or reorganises", function () {
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

  /**
   * A node failing one call in ten: a receipt read that failed was taken for "not mined", so a
   * relay whose transaction had executed ended failed with RELAY_NONCE_TAKEN — and a failed relay
   * may be submitted again. Only the node's "no receipt" may count as not mined.
   */
  describe("followTransaction when the node fails receipt reads", () => {
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
      const key = await startRelayerKey(f, redis, 7);
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

  /**
   * Found by the fault suite (a 1-block reorg while relaying, RELAYER_CONFIRMATIONS=3): the key's
   * mined count was read at "latest" and the receipts a moment later. A reorg between the two reads
   * mixed two chains — the nonce used (before it) and our transaction gone (after it) — so a
   * transaction that mined again on the new branch was called dropped: its relay ended failed
   * RELAY_NONCE_TAKEN, or its record said dropped while it mined (the key's books then lacked a
   * nonce), or the nonce was filled by a self-send. Here the reorg is made to land exactly there.
   */
  describe("A reorg between the relayer's reads of a key's count and of its receipts", () => {
    const rpc = (method: string, params: unknown[] = []) => f.chain.provider.request({ method, params } as never);

    /**
     * The fixture's client, which can be armed: its first read of the key's count past `nonce` after
     * that happens on a branch where the pending transaction was mined — and the chain is reorganised
     * back to `snapshot` (the transaction unmined) before the count is returned: the reorg lands
     * right after that read.
     */
    function reorgAfterCountRead(client: PublicClient) {
      let armed: { nonce: number; snapshot: string } | undefined;
      const proxy = new Proxy(client, {
        get(target, property, receiver) {
          if (property === "getTransactionCount")
            return async (args: Parameters<PublicClient["getTransactionCount"]>[0]) => {
              if (!armed) return target.getTransactionCount(args);
              await rpc("evm_mine");
              const count = await target.getTransactionCount(args);
              if (count <= armed.nonce) return count;
              expect(await rpc("evm_revert", [armed.snapshot])).to.equal(true);
              armed = undefined;
              return count;
            };
          return Reflect.get(target, property, receiver) as unknown;
        },
      }) as PublicClient;
      return { client: proxy, arm: (nonce: number, snapshot: string) => (armed = { nonce, snapshot }) };
    }

    /** A key whose reads go through a client that can stage the reorg. */
    async function startKey(index: number) {
      const reads = reorgAfterCountRead(f.chain.publicClient);
      const key = await startRelayerKey(f, redis, index, { client: reads.client });
      return { key, reads };
    }

    async function statusOf(hash: Hex) {
      const rows = await f.database.query<{ status: string }>(
        sql`SELECT status FROM relayer_transactions WHERE hash = ${hash}`,
      );
      return rows[0]?.status;
    }

    /** Mines until `hash` is in a block (re-broadcasting it if the reorg took it out of the mempool too). */
    async function mineUntilMined(key: RelayerKey, raw: Hex, hash: Hex) {
      for (let i = 0; i < 20; i++) {
        await key.broadcast(raw).catch(() => undefined);
        await rpc("evm_mine");
        const receipt = await f.chain.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
        if (receipt) return receipt;
      }
      throw new Error(`${hash} never mined`);
    }

    it("keeps following the transaction instead of failing its relay as nonce taken", async () => {
      const { key, reads } = await startKey(8);
      await rpc("evm_setAutomine", [false]);
      try {
        const call = { to: key.address, data: "0x" as Hex, value: 0n };
        const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
        const sent = await key.send(call, 21_000n, fees, []);
        reads.arm(sent.nonce, (await rpc("evm_snapshot")) as string);
        const followed = followTransaction({
          publicClient: reads.client,
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
        // Whatever it concludes, it concludes on the chain as the reorg left it (nothing mined there yet).
        const outcome = Promise.race([
          followed.then((receipt) => ({ receipt })),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500)),
        ]);
        const early = await outcome.then(
          (settled) => settled && `mined ${settled.receipt.transactionHash}`,
          (error: unknown) => `threw ${(error as Error).message}`,
        );
        expect(early, "no verdict while the transaction is unmined on the new branch").to.equal(undefined);
        const mined = await mineUntilMined(key, sent.raw, sent.hash);
        const receipt = await followed;
        expect(receipt.transactionHash).to.equal(sent.hash);
        expect(receipt.blockHash).to.equal(mined.blockHash);
        expect(await statusOf(sent.hash)).to.equal("mined");
      } finally {
        await rpc("evm_setAutomine", [true]);
        await key.release();
      }
    });

    // The branch the reorg leaves may hold the transaction in its mempool, or not at all.
    for (const [index, snapshotBefore] of [
      [9, false],
      [10, true],
    ] as const) {
      it(`re-synchronises without calling the transaction dropped or filling its nonce (${snapshotBefore ? "the new branch never saw it" : "still in the mempool"})`, async () => {
        const { key, reads } = await startKey(index);
        await rpc("evm_setAutomine", [false]);
        try {
          const call = { to: key.address, data: "0x" as Hex, value: 0n };
          const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
          const early = snapshotBefore ? ((await rpc("evm_snapshot")) as string) : undefined;
          const sent = await key.send(call, 21_000n, fees, []);
          const snapshot = early ?? ((await rpc("evm_snapshot")) as string);
          reads.arm(sent.nonce, snapshot);
          const report = await key.repair();
          expect(report.filled, "nonces filled with a self-send").to.equal(0);
          expect(await statusOf(sent.hash), "the record of a transaction the new branch may still mine").to.not.equal(
            "dropped",
          );
          const mined = await mineUntilMined(key, sent.raw, sent.hash);
          expect((await f.chain.publicClient.getTransaction({ hash: sent.hash })).nonce).to.equal(sent.nonce);
          await key.repair();
          expect(await statusOf(sent.hash)).to.equal("mined");
          const atNonce = await f.database.query<{ hash: string }>(
            sql`SELECT hash FROM relayer_transactions WHERE lower(relayer) = ${key.address.toLowerCase()} AND nonce = ${sent.nonce}`,
          );
          expect(atNonce.map((row) => row.hash)).to.deep.equal([mined.transactionHash]);
        } finally {
          await rpc("evm_setAutomine", [true]);
          await key.release();
        }
      });
    }
  });
});
