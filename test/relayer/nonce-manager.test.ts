import { expect } from "chai";
import { Redis } from "ioredis";
import { eq } from "drizzle-orm";
import { HttpRequestError, encodeFunctionData, keccak256, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { relayerTransactions } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { getRelay } from "../../relayer/get-relay.ts";
import { acquireKeyLease } from "../../relayer/key-lease.ts";
import { RelayerKey } from "../../relayer/nonce-manager.ts";

import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, logger, REDIS_URL, startRelayerKey, type RelayerFixture } from "./fixture.ts";

describe("RelayerKey nonce manager", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let redis: Redis;

  before(async () => {
    f = await createRelayerFixture("nonce");
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  const openKey = (index: number) => startRelayerKey(f, redis, index);
  const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
  const selfSend = (key: RelayerKey) => ({ to: key.address, data: "0x" as Hex, value: 0n });

  it("re-synchronises from the chain on start and hands out contiguous nonces", async () => {
    const key = await openKey(4);
    const start = await f.chain.publicClient.getTransactionCount({ address: key.address });
    expect(key.pendingNonce).to.equal(start);
    const sent = await Promise.all(Array.from({ length: 20 }, () => key.send(selfSend(key), 21_000n, fees, [])));
    expect(sent.map((s) => s.nonce).sort((a, b) => a - b)).to.deep.equal(
      Array.from({ length: 20 }, (_, i) => start + i),
    );
    expect(await f.chain.publicClient.getTransactionCount({ address: key.address })).to.equal(start + 20);
    await key.release();
  });

  it("refuses a second lease on a key another process holds", async () => {
    const key = await openKey(5);
    const second = await acquireKeyLease(redis, f.prefix, key.address, 5_000, () => undefined);
    expect(second).to.equal(undefined);
    await key.release();
  });

  it("re-sends a transaction recorded but never broadcast (a crash between sign and send) at its nonce", async () => {
    const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[6]!);
    const nonce = await f.chain.publicClient.getTransactionCount({ address: account.address });
    const raw = await account.signTransaction({
      chainId: 31337,
      type: "eip1559",
      nonce,
      to: account.address,
      value: 0n,
      gas: 21_000n,
      ...fees,
    });
    // What RelayerKey.send records before broadcasting; the process "crashes" before the broadcast.
    await f.database.db.insert(relayerTransactions).values({
      relayer: account.address,
      nonce,
      hash: keccak256(raw),
      raw,
      relayIds: [],
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      status: "signed",
    });
    expect(await f.chain.publicClient.getTransactionCount({ address: account.address })).to.equal(nonce);
    const key = await openKey(6);
    expect(await f.chain.publicClient.getTransactionCount({ address: account.address })).to.equal(nonce + 1);
    expect(key.pendingNonce).to.equal(nonce + 1);
    const [row] = await f.database.db
      .select()
      .from(relayerTransactions)
      .where(eq(relayerTransactions.hash, keccak256(raw)));
    expect(row?.status).to.equal("sent");
    await key.release();
  });

  it("keeps the record of a transaction the node refused in its answer but took (Hardhat mines a reverting one)", async () => {
    // Found by the reorg fault test: Hardhat answers eth_sendRawTransaction with an error for a
    // transaction that runs out of gas, and mines it all the same. Taking the answer for a refusal
    // gave its nonce back: the chain then held a transaction of the key the relayer had no record of.
    const key = await openKey(8);
    const nonce = await f.chain.publicClient.getTransactionCount({ address: key.address });
    // A token transfer with too little gas for its execution (but above the intrinsic cost).
    const call = {
      to: f.contracts.stablecoin,
      data: encodeFunctionData({ abi: stablecoinAbi, functionName: "transfer", args: [key.address, 0n] }),
      value: 0n,
    };
    const sent = await key.send(call, 24_000n, fees, []);
    const receipt = await f.chain.publicClient.getTransactionReceipt({ hash: sent.hash });
    expect([receipt.status, sent.nonce]).to.deep.equal(["reverted", nonce]);
    const rows = await f.database.db
      .select()
      .from(relayerTransactions)
      .where(eq(relayerTransactions.relayer, key.address));
    expect(rows.map((r) => [r.nonce, r.hash])).to.deep.equal([[nonce, sent.hash]]);
    expect(key.pendingNonce).to.equal(nonce + 1);
    await key.release();
  });

  it("fills a nonce gap below a recorded transaction with a 0-value self-send", async () => {
    const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[7]!);
    const nonce = await f.chain.publicClient.getTransactionCount({ address: account.address });
    const raw = await account.signTransaction({
      chainId: 31337,
      type: "eip1559",
      nonce: nonce + 1,
      to: account.address,
      value: 0n,
      gas: 21_000n,
      ...fees,
    });
    await f.database.db.insert(relayerTransactions).values({
      relayer: account.address,
      nonce: nonce + 1,
      hash: keccak256(raw),
      raw,
      relayIds: [],
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      status: "signed",
    });
    const key = await openKey(7);
    expect(key.pendingNonce).to.equal(nonce + 2);
    for (;;) {
      if ((await f.chain.publicClient.getTransactionCount({ address: account.address })) === nonce + 2) break;
      await f.chain.testClient.mine({ blocks: 1 });
    }
    const rows = await f.database.db
      .select()
      .from(relayerTransactions)
      .where(eq(relayerTransactions.relayer, account.address));
    expect(rows.map((r) => r.nonce).sort()).to.deep.equal([nonce, nonce + 1]);
    await key.release();
  });

  it("re-sends what the node lost before a new send, which goes out at the next nonce once the node agrees", async () => {
    // The node's pending count is read while a send is signed and recorded (nonce-manager.ts); a
    // count below ours must still hold the broadcast back until the lost transaction is out again.
    const key = await openKey(6);
    try {
      await f.chain.testClient.setAutomine(false);
      const lost = await key.send(selfSend(key), 21_000n, fees, ["lost"]);
      await f.chain.testClient.dropTransaction({ hash: lost.hash });
      expect(await f.chain.publicClient.getTransactionCount({ address: key.address, blockTag: "pending" })).to.equal(
        lost.nonce,
      );
      const next = await key.send({ to: key.address, data: "0x", value: 1n }, 21_000n, fees, ["next"]);
      expect(next.nonce).to.equal(lost.nonce + 1);
      // Both are in the node's pool now, the lost one re-sent from its recorded bytes.
      expect(await f.chain.publicClient.getTransactionCount({ address: key.address, blockTag: "pending" })).to.equal(
        lost.nonce + 2,
      );
      await f.chain.testClient.mine({ blocks: 1 });
      const [lostReceipt, nextReceipt] = await Promise.all(
        [lost.hash, next.hash].map((hash) => f.chain.publicClient.getTransactionReceipt({ hash })),
      );
      expect(lostReceipt?.status).to.equal("success");
      expect(nextReceipt?.status).to.equal("success");
      const rows = await f.database.db
        .select()
        .from(relayerTransactions)
        .where(eq(relayerTransactions.relayer, key.address));
      const recorded = rows.filter((row) => row.nonce >= lost.nonce).map((row) => [row.nonce, row.hash]);
      expect(recorded.sort()).to.deep.equal(
        [
          [lost.nonce, lost.hash],
          [next.nonce, next.hash],
        ].sort(),
      );
    } finally {
      await f.chain.testClient.setAutomine(true);
      await key.release();
    }
  });
});

describe("Replacement of a stuck transaction", function () {
  this.timeout(120_000);
  let f: RelayerFixture;

  before(async () => (f = await createRelayerFixture("replace")));
  after(async () => f.close());

  it("replaces a transaction not mined in time at the same nonce with fees raised by at least 10%", async () => {
    const workers = await f.startWorkers({ replaceAfterMs: 300, relayerKeys: [HARDHAT_PRIVATE_KEYS[1]] });
    try {
      await f.chain.testClient.setAutomine(false);
      const request = await f.signTransfer(f.alice, f.bob.address, 11n);
      const { relayId } = await enqueueRelay(workers.queue, { idempotencyKey: "stuck", request, requestedBy: "u1" });
      // Until the replacement is out: "replaced" is recorded once it was broadcast, then "submitted".
      let rows: (typeof relayerTransactions.$inferSelect)[] = [];
      for (;;) {
        const transitions = (await getRelay(f.database, relayId))?.transitions.map((t) => t.status) ?? [];
        if (transitions.includes("replaced") && transitions.lastIndexOf("submitted") > transitions.indexOf("replaced"))
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      rows = (await f.database.db.select().from(relayerTransactions).orderBy(relayerTransactions.id)).filter((row) =>
        (row.relayIds as string[]).includes(relayId),
      );
      const [first, second] = rows;
      expect(second?.nonce).to.equal(first?.nonce);
      expect(BigInt(second!.maxFeePerGas) * 10n).to.be.gte(BigInt(first!.maxFeePerGas) * 11n);
      expect(BigInt(second!.maxPriorityFeePerGas) * 10n).to.be.gte(BigInt(first!.maxPriorityFeePerGas) * 11n);
      await f.chain.testClient.setAutomine(true);
      await f.chain.testClient.mine({ blocks: 1 });
      const relay = await f.waitForRelay(relayId);
      expect(relay.status).to.equal("confirmed");
      const statuses = relay.transitions.map((t) => t.status);
      expect(statuses.slice(0, 3)).to.deep.equal(["queued", "signed", "submitted"]);
      expect(statuses).to.include("replaced");
      expect(statuses.slice(-2)).to.deep.equal(["mined", "confirmed"]);
      const minedHash = relay.transactionHash;
      expect(rows.find((row) => row.hash === minedHash)?.nonce).to.equal(first?.nonce);
    } finally {
      await f.chain.testClient.setAutomine(true);
      await workers.close();
    }
  });

  it("fails a relay whose nonce another transaction of the key took, instead of waiting for ever", async () => {
    const relayer = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[1]);
    const workers = await f.startWorkers({ replaceAfterMs: 60_000, relayerKeys: [HARDHAT_PRIVATE_KEYS[1]] });
    try {
      const bobBefore = await f.token.balanceOf(f.bob.address);
      await f.chain.testClient.setAutomine(false);
      const request = await f.signTransfer(f.alice, f.bob.address, 13n);
      const { relayId } = await enqueueRelay(workers.queue, { idempotencyKey: "taken", request, requestedBy: "u1" });
      let row: typeof relayerTransactions.$inferSelect | undefined;
      while (row?.status !== "sent") {
        await new Promise((resolve) => setTimeout(resolve, 50));
        [row] = (await f.database.db.select().from(relayerTransactions)).filter((r) =>
          (r.relayIds as string[]).includes(relayId),
        );
      }
      // The same key, used outside the relayer, replaces the relay's transaction in the mempool.
      await f.chain.wallet(relayer).sendTransaction({
        account: relayer,
        chain: f.chain.publicClient.chain,
        to: relayer.address,
        value: 0n,
        nonce: row.nonce,
        maxFeePerGas: BigInt(row.maxFeePerGas) * 2n,
        maxPriorityFeePerGas: BigInt(row.maxPriorityFeePerGas) * 2n,
      });
      await f.chain.testClient.setAutomine(true);
      await f.chain.testClient.mine({ blocks: 1 });

      const relay = await f.waitForRelay(relayId);
      expect(relay).to.include({ status: "failed", errorCode: "RELAY_NONCE_TAKEN" });
      expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore);
      expect(await f.token.authorizationState(request.from, request.nonce)).to.equal(false);
      const [dropped] = await f.database.db
        .select()
        .from(relayerTransactions)
        .where(eq(relayerTransactions.hash, row.hash));
      expect(dropped?.status).to.equal("dropped");
    } finally {
      await f.chain.testClient.setAutomine(true);
      await workers.close();
    }
  });

  it("continues after transactions the key sent outside the relayer instead of colliding with them", async () => {
    const relayer = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[1]);
    const workers = await f.startWorkers({ relayerKeys: [HARDHAT_PRIVATE_KEYS[1]] });
    try {
      const warmUp = await enqueueRelay(workers.queue, {
        idempotencyKey: "outside.warm",
        request: await f.signTransfer(f.alice, f.bob.address, 1n),
        requestedBy: "u1",
      });
      expect((await f.waitForRelay(warmUp.relayId)).status).to.equal("confirmed");
      // Two transactions from the relayer's key that the relayer knows nothing of.
      for (let i = 0; i < 2; i++) {
        const hash = await f.chain.wallet(relayer).sendTransaction({
          account: relayer,
          chain: f.chain.publicClient.chain,
          to: relayer.address,
          value: 0n,
        });
        await f.chain.publicClient.waitForTransactionReceipt({ hash });
      }
      const after = await enqueueRelay(workers.queue, {
        idempotencyKey: "outside.after",
        request: await f.signTransfer(f.alice, f.bob.address, 2n),
        requestedBy: "u1",
      });
      const relay = await f.waitForRelay(after.relayId);
      expect(relay.status, relay.errorMessage ?? "").to.equal("confirmed");
      const count = await f.chain.publicClient.getTransactionCount({ address: relayer.address });
      expect(relay.nonce).to.equal(count - 1);
    } finally {
      await workers.close();
    }
  });
});

describe("Lease loss: a worker that stalls past its lease and resumes", function () {
  this.timeout(60_000);
  let f: RelayerFixture;
  let redis: Redis;

  before(async () => {
    f = await createRelayerFixture("fencing");
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it("does not broadcast at the new owner's nonces: the fence is checked again after signing, before the broadcast", async () => {
    const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[8]!);
    const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
    // A signer that takes long (a remote signer, or this process stalled): the old owner is held in
    // it while its lease passes to another process.
    let releaseSigner: () => void = () => undefined;
    const signerHeld = new Promise<void>((resolve) => (releaseSigner = resolve));
    let signing: () => void = () => undefined;
    const signingStarted = new Promise<void>((resolve) => (signing = resolve));
    const slow = {
      address: account.address,
      signTypedData: account.signTypedData,
      signTransaction: async (transaction: Parameters<typeof account.signTransaction>[0]) => {
        signing();
        await signerHeld;
        return account.signTransaction(transaction);
      },
    } as typeof account;
    // A lease of 6 s: a check older than 200 ms is made again, and the first renewal (at 2 s) comes
    // after this test, so what stops the old owner is the fence, not a failed renewal.
    const oldLease = (await acquireKeyLease(redis, f.prefix, account.address, 6_000, () => undefined))!;
    const oldOwner = new RelayerKey(slow, f.chain.publicClient, f.database, oldLease, logger);
    releaseSigner();
    await oldOwner.start();
    const start = await f.chain.publicClient.getTransactionCount({ address: account.address });

    let unblock: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    slow.signTransaction = async (transaction) => {
      signing();
      await blocked;
      return account.signTransaction(transaction);
    };
    const elsewhere = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[9]!).address;
    const stalled = oldOwner.send({ to: elsewhere, data: "0x", value: 1n }, 21_000n, fees, ["old-owner"]);
    await signingStarted;
    // The lease expires while the old owner is stalled; another process takes the key and sends at its nonce.
    await redis.del(`${f.prefix}:relayer-lease:${account.address.toLowerCase()}`);
    const newLease = (await acquireKeyLease(redis, f.prefix, account.address, 60_000, () => undefined))!;
    const newOwner = new RelayerKey(account, f.chain.publicClient, f.database, newLease, logger);
    await newOwner.start();
    const theirs = await newOwner.send({ to: account.address, data: "0x", value: 0n }, 21_000n, fees, ["new-owner"]);
    expect(theirs.nonce).to.equal(start);
    // The stall outlasts the freshness of the old owner's last lease check (its start's).
    await new Promise((resolve) => setTimeout(resolve, 300));

    unblock();
    const outcome = await stalled.then(
      () => "sent",
      (error: Error & { code?: string }) => error.code ?? error.message,
    );
    expect(outcome).to.equal("RELAYER_LEASE_LOST");
    const rows = await f.database.db
      .select()
      .from(relayerTransactions)
      .where(eq(relayerTransactions.relayer, account.address));
    expect(rows.map((row) => row.relayIds)).to.deep.equal([["new-owner"]]);
    expect(await f.chain.publicClient.getTransactionCount({ address: account.address })).to.equal(start + 1);
    const mined = await f.chain.publicClient.getTransaction({ hash: theirs.hash });
    expect(mined.nonce).to.equal(start);
    await newOwner.release();
  });
});

describe("The broadcast line: a key signs and records its next send while one is broadcast", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let redis: Redis;

  before(async () => {
    f = await createRelayerFixture("line");
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
  const payTo = (index: number, value: bigint) => ({
    to: privateKeyToAccount(HARDHAT_PRIVATE_KEYS[15]!).address,
    data: "0x" as Hex,
    value: value + BigInt(index),
  });

  /**
   * A client whose first broadcast, once armed, is held at the door until `open` is called; `fault`
   * then decides what that broadcast does instead of reaching the node (nothing: it goes through).
   */
  function holdFirstBroadcast(client: PublicClient) {
    let armed = false;
    let reached: () => void = () => undefined;
    const atDoor = new Promise<void>((resolve) => (reached = resolve));
    let open: (fault?: Error) => void = () => undefined;
    const door = new Promise<Error | undefined>((resolve) => (open = resolve));
    const broadcasts: Hex[] = [];
    const proxy = new Proxy(client, {
      get(target, property, receiver) {
        if (property === "sendRawTransaction")
          return async (args: Parameters<PublicClient["sendRawTransaction"]>[0]) => {
            if (!armed) return target.sendRawTransaction(args);
            broadcasts.push(args.serializedTransaction);
            if (broadcasts.length === 1) {
              reached();
              const fault = await door;
              if (fault) throw fault;
            }
            return target.sendRawTransaction(args);
          };
        return Reflect.get(target, property, receiver) as unknown;
      },
    }) as PublicClient;
    return { client: proxy, arm: () => (armed = true), atDoor, open, broadcasts };
  }

  async function startKey(index: number, leaseMs = 5_000) {
    const node = holdFirstBroadcast(f.chain.publicClient);
    const key = await startRelayerKey(f, redis, index, { client: node.client, leaseMs });
    node.arm();
    const start = await f.chain.publicClient.getTransactionCount({ address: key.address });
    return { key, node, start, address: key.address };
  }

  const recordsFrom = async (address: Hex, nonce: number) =>
    (await f.database.db.select().from(relayerTransactions).where(eq(relayerTransactions.relayer, address)))
      .filter((row) => row.nonce >= nonce)
      .map((row) => ({ nonce: row.nonce, hash: row.hash, relayIds: row.relayIds }))
      .sort((a, b) => a.nonce - b.nonce);

  /** Waits until `count` records of `address` exist from `nonce` up (the sends behind the held one were recorded). */
  async function recorded(address: Hex, nonce: number, count: number) {
    for (let round = 0; round < 200; round += 1) {
      if ((await recordsFrom(address, nonce)).length >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(
      `fewer than ${count} records from nonce ${nonce}: the sends behind the held broadcast were not recorded`,
    );
  }

  it("records the sends behind a broadcast not yet answered, and broadcasts them after it, in nonce order", async () => {
    const { key, node, start, address } = await startKey(1);
    const first = key.send(payTo(0, 1n), 21_000n, fees, ["first"]);
    await node.atDoor;
    const behind = [
      key.send(payTo(1, 1n), 21_000n, fees, ["second"]),
      key.send(payTo(2, 1n), 21_000n, fees, ["third"]),
    ];
    // With the first broadcast still held, both sends behind it are signed and recorded — and none is broadcast.
    await recorded(address, start, 3);
    expect(node.broadcasts).to.have.length(1);
    node.open();
    const sent = await Promise.all([first, ...behind]);
    expect(sent.map((s) => s.nonce)).to.deep.equal([start, start + 1, start + 2]);
    expect(node.broadcasts).to.deep.equal(sent.map((s) => s.raw));
    expect(await f.chain.publicClient.getTransactionCount({ address })).to.equal(start + 3);
    await key.release();
  });

  it("withdraws the sends behind a broadcast the node refused, and sends them at the nonces given back", async () => {
    const { key, node, start, address } = await startKey(2);
    const refused = key.send(payTo(0, 2n), 21_000n, fees, ["refused"]);
    await node.atDoor;
    const behind = [
      key.send(payTo(1, 2n), 21_000n, fees, ["second"]),
      key.send(payTo(2, 2n), 21_000n, fees, ["third"]),
    ];
    await recorded(address, start, 3);
    // The node answers the held broadcast with a refusal (not a lost request): those bytes can never mine.
    node.open(new Error("insufficient funds for gas * price + value"));
    const outcome = await refused.then(
      () => "sent",
      (error: Error) => error.message,
    );
    expect(outcome).to.match(/insufficient funds/);
    const sent = await Promise.all(behind);
    // The refused nonce was given back; the two behind it went out at it and the next, exactly once each.
    expect(sent.map((s) => s.nonce)).to.deep.equal([start, start + 1]);
    expect(await f.chain.publicClient.getTransactionCount({ address })).to.equal(start + 2);
    expect(await recordsFrom(address, start)).to.deep.equal([
      { nonce: start, hash: sent[0]!.hash, relayIds: ["second"] },
      { nonce: start + 1, hash: sent[1]!.hash, relayIds: ["third"] },
    ]);
    for (const { hash, nonce } of sent)
      expect((await f.chain.publicClient.getTransaction({ hash })).nonce).to.equal(nonce);
    await key.release();
  });

  it("keeps the nonce of a broadcast lost in transport, re-sends it from its record, and sends the ones behind after it", async () => {
    const { key, node, start, address } = await startKey(3);
    const lost = key.send(payTo(0, 3n), 21_000n, fees, ["lost"]);
    await node.atDoor;
    const behind = key.send(payTo(1, 3n), 21_000n, fees, ["behind"]);
    await recorded(address, start, 2);
    // The request never reaches the node, and the relayer cannot know whether it did.
    node.open(new HttpRequestError({ url: "http://node.invalid", details: "socket hang up" }));
    const outcome = await lost.then(
      () => "sent",
      (error: Error) => error.name,
    );
    expect(outcome).to.equal("HttpRequestError");
    const after = await behind;
    expect(after.nonce).to.equal(start + 1);
    // The lost one went out from its recorded bytes at its nonce before the one behind it.
    expect(await f.chain.publicClient.getTransactionCount({ address })).to.equal(start + 2);
    const records = await recordsFrom(address, start);
    expect(records.map((row) => [row.nonce, row.relayIds])).to.deep.equal([
      [start, ["lost"]],
      [start + 1, ["behind"]],
    ]);
    expect((await f.chain.publicClient.getTransaction({ hash: records[0]!.hash as Hex })).nonce).to.equal(start);
    await key.release();
  });

  it("checks the lease again for a send that waited in the line past a fraction of it, and broadcasts nothing once it is lost", async () => {
    // Lease of 3 s: a lease check older than 100 ms is made again before the broadcast.
    const { key, node, start, address } = await startKey(4, 3_000);
    const first = key.send(payTo(0, 4n), 21_000n, fees, ["first"]);
    await node.atDoor;
    const behind = key.send(payTo(1, 4n), 21_000n, fees, ["behind"]);
    await recorded(address, start, 2);
    // The process stalls with the send queued; its lease passes to another process meanwhile.
    await redis.del(`${f.prefix}:relayer-lease:${address.toLowerCase()}`);
    const newLease = await acquireKeyLease(redis, f.prefix, address, 60_000, () => undefined);
    expect(newLease).to.not.equal(undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    node.open();
    expect((await first).nonce).to.equal(start);
    const outcome = await behind.then(
      () => "sent",
      (error: Error & { code?: string }) => error.code ?? error.message,
    );
    expect(outcome).to.equal("RELAYER_LEASE_LOST");
    expect(node.broadcasts).to.have.length(1);
    expect(await f.chain.publicClient.getTransactionCount({ address, blockTag: "pending" })).to.equal(start + 1);
    expect((await recordsFrom(address, start)).map((row) => row.relayIds)).to.deep.equal([["first"]]);
    await newLease!.release();
  });
});
