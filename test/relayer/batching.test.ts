import { expect } from "chai";
import { eq } from "drizzle-orm";
import { getAddress, hexToBytes, parseEventLogs, toHex, type Address, type Hex, type PrivateKeyAccount } from "viem";

import { settlementAbi } from "../../lib/chain/abis/settlement.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { createBatchCollector } from "../../relayer/batching/collect-batches.ts";
import { buildSettleAuthorizationsCall } from "../../relayer/build-call.ts";
import { relayerTransactions } from "../../relayer/db/schema.ts";
import { enqueueRelay, relayIdFor } from "../../relayer/enqueue-relay.ts";
import { estimateFees } from "../../relayer/gas-fees.ts";
import type { Relay } from "../../relayer/relay-status.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, type RelayerFixture } from "./fixture.ts";

type Transfer = Awaited<ReturnType<RelayerFixture["signTransfer"]>>;

describe("createBatchCollector", () => {
  const collector = <T>(maxSize: number, waitMs: number, sent: T[][]) =>
    createBatchCollector<T, T>({
      maxSize,
      waitMs,
      send: async (_group, items) => {
        sent.push(items);
        return items;
      },
    });

  it("sends a batch as soon as it is full, items in the order they came, each getting its own result", async () => {
    const sent: number[][] = [];
    const c = collector<number>(3, 60_000, sent);
    const results = await Promise.all([c.add("t", 1), c.add("t", 2), c.add("t", 3)]);
    expect(results).to.deep.equal([1, 2, 3]);
    expect(sent).to.deep.equal([[1, 2, 3]]);
    expect(c.waiting).to.equal(0);
  });

  it("sends what a batch holds once its wait is over, and opens a new batch for later items", async () => {
    const sent: number[][] = [];
    const c = collector<number>(10, 1, sent);
    await Promise.all([c.add("t", 1), c.add("t", 2)]);
    await c.add("t", 3);
    expect(sent).to.deep.equal([[1, 2], [3]]);
  });

  it("keeps groups (tokens) in separate batches", async () => {
    const sent: string[][] = [];
    const c = collector<string>(2, 60_000, sent);
    await Promise.all([c.add("a", "a1"), c.add("b", "b1"), c.add("a", "a2"), c.add("b", "b2")]);
    expect(sent).to.deep.equal([
      ["a1", "a2"],
      ["b1", "b2"],
    ]);
  });

  it("rejects every item of a batch whose send throws", async () => {
    const c = createBatchCollector<number, number>({
      maxSize: 2,
      waitMs: 60_000,
      send: async () => {
        throw new Error("node down");
      },
    });
    const results = await Promise.allSettled([c.add("t", 1), c.add("t", 2)]);
    expect(results.map((r) => r.status)).to.deep.equal(["rejected", "rejected"]);
  });
});

/** Starts workers on the fixture's chain with batching settings. */
const startWorkers = (f: RelayerFixture, overrides: Parameters<RelayerFixture["settings"]>[0]) =>
  // Account #3 is the token's freezer: the tests send from it, so no relayer key uses it.
  f.startWorkers({ relayerKeys: [HARDHAT_PRIVATE_KEYS[1], HARDHAT_PRIVATE_KEYS[2]], ...overrides });

const enqueueAll = (workers: RelayerWorkers, label: string, transfers: Transfer[]) =>
  Promise.all(
    transfers.map(
      async (request, i) =>
        (await enqueueRelay(workers.queue, { idempotencyKey: `${label}.${i}`, request, requestedBy: "u1" })).relayId,
    ),
  );

/** Balances of `accounts` on the fixture's token. */
const balancesOf = async (f: RelayerFixture, accounts: Address[]) =>
  new Map(await Promise.all(accounts.map(async (a) => [a, (await f.token.balanceOf(a)) as bigint] as const)));

/** What each account's balance must have moved by after `transfers` settled. */
const expectedMoves = (transfers: Transfer[]) => {
  const moves = new Map<Address, bigint>();
  const add = (account: Address, delta: bigint) => moves.set(account, (moves.get(account) ?? 0n) + delta);
  for (const t of transfers) {
    add(t.from, -BigInt(t.value));
    add(t.to, BigInt(t.value));
  }
  return moves;
};

const expectBalancesMoved = async (f: RelayerFixture, before: Map<Address, bigint>, settled: Transfer[]) => {
  const moves = expectedMoves(settled);
  for (const [account, balance] of before) {
    expect(await f.token.balanceOf(account), account).to.equal(balance + (moves.get(account) ?? 0n));
  }
};

describe("Relay workers with batching (RELAYER_BATCH_SIZE=10)", function () {
  this.timeout(180_000);
  let f: RelayerFixture;
  let workers: RelayerWorkers;

  before(async () => {
    f = await createRelayerFixture("batching");
    // A long wait makes the batches' shape independent of timing: 10 + 10 close full, the last 5 on their wait.
    workers = await startWorkers(f, { batchSize: 10, batchWaitMs: 1_000, concurrency: 32 });
  });
  after(async () => {
    await workers.close();
    await f.close();
  });

  it("settles 25 concurrent transfers in fewer transactions than relays, each relay confirmed with its batch index", async () => {
    const recipients = [f.carol.address, f.chain.accounts[12]!.address, f.chain.accounts[13]!.address];
    const payers = [f.alice, f.bob];
    const transfers = await Promise.all(
      Array.from({ length: 25 }, (_, i) => f.signTransfer(payers[i % 2]!, recipients[i % 3]!, BigInt(1_000 + i * 37))),
    );
    const before = await balancesOf(f, [...payers.map((p) => p.address), ...recipients]);

    const relayIds = await enqueueAll(workers, "many", transfers);
    const relays: Relay[] = await Promise.all(relayIds.map((id) => f.waitForRelay(id)));

    for (const relay of relays) {
      expect(relay.status, relay.relayId).to.equal("confirmed");
      expect(relay.transitions.map((t) => t.status)).to.deep.equal([
        "queued",
        "signed",
        "submitted",
        "mined",
        "confirmed",
      ]);
    }
    const byHash = new Map<string, Relay[]>();
    for (const relay of relays)
      byHash.set(relay.transactionHash!, [...(byHash.get(relay.transactionHash!) ?? []), relay]);
    expect(byHash.size).to.be.greaterThan(0).and.lessThan(25);
    const batches = [...byHash.entries()].filter(([, carried]) => carried.length > 1);
    expect(batches.length).to.be.greaterThan(0);
    for (const [hash, carried] of batches) {
      // One Settlement transaction per batch, one AuthorizationSettled per relay it carries, at the relay's index.
      const receipt = await f.chain.publicClient.getTransactionReceipt({ hash: hash as Hex });
      expect(getAddress(receipt.to!)).to.equal(f.contracts.settlement);
      const settled = parseEventLogs({ abi: settlementAbi, eventName: "AuthorizationSettled", logs: receipt.logs });
      expect(settled).to.have.length(carried.length);
      expect(carried.map((r) => r.batchIndex).sort((a, b) => a! - b!)).to.deep.equal(carried.map((_, i) => i));
      for (const relay of carried) {
        const transfer = transfers[relayIds.indexOf(relay.relayId)]!;
        const event = settled.find((e) => e.args.index === BigInt(relay.batchIndex!));
        expect(event?.args.nonce).to.equal(transfer.nonce);
      }
    }
    await expectBalancesMoved(f, before, transfers);
  });

  it("gives a batch transaction what the Settlement requires left per item (authorizationGasRequired), not the node's estimate", async () => {
    const transfers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => f.signTransfer(i % 2 ? f.bob : f.alice, f.carol.address, BigInt(500 + i))),
    );
    const relays = await Promise.all((await enqueueAll(workers, "budget", transfers)).map((id) => f.waitForRelay(id)));
    const required = await f.chain.publicClient.readContract({
      address: f.contracts.settlement,
      abi: settlementAbi,
      functionName: "authorizationGasRequired",
    });
    const hashes = new Set(relays.map((relay) => relay.transactionHash as Hex));
    for (const hash of hashes) {
      const carried = relays.filter((relay) => relay.transactionHash === hash);
      if (carried.length < 2) continue;
      const transaction = await f.chain.publicClient.getTransaction({ hash });
      // Enough for every item to be attempted even if each burnt its whole per-item limit; the node's estimate
      // (the gas the batch uses) would have the contract skip the tail.
      expect(transaction.gas).to.be.at.least(BigInt(carried.length) * (required + 65n));
      const receipt = await f.chain.publicClient.getTransactionReceipt({ hash });
      expect(
        parseEventLogs({ abi: settlementAbi, eventName: "AuthorizationsSkipped", logs: receipt.logs }),
      ).to.have.length(0);
    }
    for (const relay of relays) expect(relay.status).to.equal("confirmed");
  });
});

describe("A settlement batch with bad items", function () {
  this.timeout(180_000);
  let f: RelayerFixture;
  let workers: RelayerWorkers;
  let dave: PrivateKeyAccount;
  let mallory: Address;

  before(async () => {
    f = await createRelayerFixture("batch-bad");
    dave = f.chain.accounts[10] as PrivateKeyAccount;
    mallory = f.chain.accounts[11]!.address;
    const signers = await f.chain.connection.ethers.getSigners();
    const [freezer, minter] = [signers[3]!, signers[5]!];
    await (await f.token.connect(minter).getFunction("mint")(dave.address, 1_000_000n)).wait();
    await (await f.token.connect(freezer).getFunction("freeze")(dave.address)).wait();
    // The batch closes when its six chain-bound items have joined, whatever the timing.
    workers = await startWorkers(f, {
      batchSize: 6,
      batchWaitMs: 10_000,
      allowlist: [f.alice.address, f.bob.address, f.carol.address],
    });
  });
  after(async () => {
    await workers.close();
    await f.close();
  });

  it("fails only the bad items with their decoded custom errors, confirms the others, and moves nothing twice", async () => {
    const usedNonce = toHex(Buffer.alloc(32, 9));
    const used = await f.signTransfer(f.alice, f.carol.address, 5n, usedNonce);
    // The authorisation is spent before the batch: directly on the token, by someone else.
    const spender = f.chain.wallet(f.chain.accounts[14]!);
    const spent = await spender.writeContract({
      address: f.contracts.stablecoin,
      abi: stablecoinAbi,
      functionName: "transferWithAuthorization",
      args: [used.from, used.to, 5n, 0n, BigInt(used.validBefore), usedNonce, used.signature],
      chain: spender.chain,
      account: f.chain.accounts[14]!,
    });
    await f.chain.publicClient.waitForTransactionReceipt({ hash: spent });

    const good = [
      await f.signTransfer(f.alice, f.bob.address, 101n),
      await f.signTransfer(f.bob, f.carol.address, 202n),
      await f.signTransfer(f.alice, f.carol.address, 303n),
    ];
    const expired = { ...(await f.signTransfer(f.bob, f.carol.address, 7n)), validBefore: "1" };
    const frozen = await f.signTransfer(dave, f.bob.address, 11n);
    const notAllowed = await f.signTransfer(f.alice, mallory, 13n);
    const before = await balancesOf(f, [f.alice.address, f.bob.address, f.carol.address, dave.address, mallory]);

    const relayIds = await enqueueAll(workers, "bad", [...good, used, expired, frozen, notAllowed]);
    const relays = await Promise.all(relayIds.map((id) => f.waitForRelay(id)));
    const [g1, g2, g3, reused, late, frozenRelay, refused] = relays as [
      Relay,
      Relay,
      Relay,
      Relay,
      Relay,
      Relay,
      Relay,
    ];

    const batch = [g1, g2, g3, reused, late, frozenRelay];
    expect(new Set(batch.map((r) => r.transactionHash)).size).to.equal(1);
    expect(batch.map((r) => r.batchIndex).sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);
    for (const relay of [g1, g2, g3]) expect(relay.status).to.equal("confirmed");
    for (const relay of [reused, late, frozenRelay]) {
      expect(relay.status).to.equal("failed");
      expect(relay.errorCode).to.equal("RELAY_REVERTED");
      expect(relay.transitions.map((t) => t.status)).to.deep.equal([
        "queued",
        "signed",
        "submitted",
        "mined",
        "failed",
      ]);
    }
    expect(reused.errorMessage).to.contain(`StablecoinAuthorizationUsed(${f.alice.address}, ${usedNonce})`);
    // The signature no longer matches validBefore=1, but expiry is checked first.
    expect(late.errorMessage).to.contain("StablecoinAuthorizationExpired(1)");
    expect(frozenRelay.errorMessage).to.contain(`StablecoinAccountFrozen(${dave.address})`);

    expect(refused.status).to.equal("failed");
    expect(refused.errorCode).to.equal("RELAY_POLICY_RECIPIENT_NOT_ALLOWED");
    expect(refused.transactionHash).to.equal(null);

    await expectBalancesMoved(f, before, good);
  });
});

describe("Batch safety: a batch that did not settle, a stuck batch", function () {
  this.timeout(180_000);
  let f: RelayerFixture;
  let workers: RelayerWorkers;

  before(async () => {
    f = await createRelayerFixture("batch-safety");
    workers = await startWorkers(f, { batchSize: 3, batchWaitMs: 10_000, replaceAfterMs: 300 });
  });
  after(async () => {
    await f.chain.testClient.setAutomine(true);
    await workers.close();
    await f.close();
  });

  it("retries alone only the items of a reverted batch whose authorisation is unused, failing the one used elsewhere", async () => {
    const a = await f.signTransfer(f.alice, f.carol.address, 1_111n);
    const b = await f.signTransfer(f.bob, f.carol.address, 2_222n);
    const [idA, idB] = [relayIdFor("rev.a"), relayIdFor("rev.b")];
    // A batch sent (and recorded) for A and B by a worker that then stopped, that reverts as a whole: it
    // names a token address without code (too little gas would no longer do — the Settlement skips the
    // items it has no gas for). Automine is off so the node takes it instead of refusing it.
    const key = workers.keys[0]!;
    const call = buildSettleAuthorizationsCall(f.chain.accounts[15]!.address, [a, b], f.contracts);
    await f.chain.testClient.setAutomine(false);
    const sent = await key.send(call, 1_000_000n, await estimateFees(f.chain.publicClient), [idA, idB]);
    await f.chain.testClient.mine({ blocks: 1 });
    await f.chain.testClient.setAutomine(true);
    const receipt = await f.chain.publicClient.getTransactionReceipt({ hash: sent.hash });
    expect(receipt.status).to.equal("reverted");
    // Meanwhile B's authorisation is used by someone else.
    const spender = f.chain.wallet(f.chain.accounts[14]!);
    await f.chain.publicClient.waitForTransactionReceipt({
      hash: await spender.writeContract({
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        functionName: "transferWithAuthorization",
        args: [b.from, b.to, 2_222n, 0n, BigInt(b.validBefore), b.nonce, b.signature],
        chain: spender.chain,
        account: f.chain.accounts[14]!,
      }),
    });
    const before = await balancesOf(f, [f.alice.address, f.bob.address, f.carol.address]);

    // The relays' jobs run (as after a restart) and find the batch recorded for them.
    await enqueueRelay(workers.queue, { idempotencyKey: "rev.a", request: a, requestedBy: "u1" });
    await enqueueRelay(workers.queue, { idempotencyKey: "rev.b", request: b, requestedBy: "u1" });
    const relayA = await f.waitForRelay(idA);
    const relayB = await f.waitForRelay(idB);

    expect(relayB.status).to.equal("failed");
    expect(relayB.errorCode).to.equal("RELAY_AUTHORIZATION_USED");
    expect(relayA.status).to.equal("confirmed");
    expect(relayA.transactionHash).to.not.equal(sent.hash);
    expect(relayA.batchIndex, "retried alone").to.equal(null);
    expect(relayA.transitions.map((t) => t.status)).to.deep.equal([
      "queued",
      "mined",
      "queued",
      "signed",
      "submitted",
      "mined",
      "confirmed",
    ]);
    const [row] = await f.database.db.select().from(relayerTransactions).where(eq(relayerTransactions.hash, sent.hash));
    expect(row?.relayIds).to.deep.equal([`released:${idA}`, idB]);
    // Only A moved now (B moved once, before): nothing twice.
    await expectBalancesMoved(f, before, [a]);
  });

  it("retries alone the items a batch skipped for want of gas, failing the one whose authorisation was used meanwhile", async () => {
    const a = await f.signTransfer(f.alice, f.carol.address, 1_001n);
    const b = await f.signTransfer(f.bob, f.carol.address, 2_002n);
    const c = await f.signTransfer(f.alice, f.bob.address, 3_003n);
    const [idA, idB, idC] = [relayIdFor("skip.a"), relayIdFor("skip.b"), relayIdFor("skip.c")];
    // A batch sent (and recorded) by a worker that then stopped, with gas for its first item only: the
    // Settlement attempts A, then has less than authorizationGasRequired left and skips B and C.
    const key = workers.keys[0]!;
    const call = buildSettleAuthorizationsCall(f.contracts.stablecoin, [a, b, c], f.contracts);
    const required = await f.chain.publicClient.readContract({
      address: f.contracts.settlement,
      abi: settlementAbi,
      functionName: "authorizationGasRequired",
    });
    const calldataGas = hexToBytes(call.data).reduce((gas, byte) => gas + (byte === 0 ? 4n : 16n), 0n);
    const gas = 21_000n + calldataGas + required + 25_000n;
    const sent = await key.send(call, gas, await estimateFees(f.chain.publicClient), [idA, idB, idC]);
    const receipt = await f.chain.publicClient.waitForTransactionReceipt({ hash: sent.hash });
    expect(receipt.status).to.equal("success");
    const [skipped] = parseEventLogs({ abi: settlementAbi, eventName: "AuthorizationsSkipped", logs: receipt.logs });
    expect(skipped?.args).to.deep.equal({ firstIndex: 1n, count: 2n });
    // Meanwhile C's authorisation is used by someone else.
    const spender = f.chain.wallet(f.chain.accounts[14]!);
    await f.chain.publicClient.waitForTransactionReceipt({
      hash: await spender.writeContract({
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        functionName: "transferWithAuthorization",
        args: [c.from, c.to, 3_003n, 0n, BigInt(c.validBefore), c.nonce, c.signature],
        chain: spender.chain,
        account: f.chain.accounts[14]!,
      }),
    });
    const before = await balancesOf(f, [f.alice.address, f.bob.address, f.carol.address]);

    // The relays' jobs run (as after a restart) and find the batch recorded for them.
    for (const [label, request] of [
      ["skip.a", a],
      ["skip.b", b],
      ["skip.c", c],
    ] as const)
      await enqueueRelay(workers.queue, { idempotencyKey: label, request, requestedBy: "u1" });
    const [relayA, relayB, relayC] = [await f.waitForRelay(idA), await f.waitForRelay(idB), await f.waitForRelay(idC)];

    expect(relayA.status).to.equal("confirmed");
    expect(relayA.transactionHash).to.equal(sent.hash);
    expect(relayB.status).to.equal("confirmed");
    expect(relayB.transactionHash).to.not.equal(sent.hash);
    expect(relayB.batchIndex, "retried alone").to.equal(null);
    expect(relayB.transitions.map((t) => t.status)).to.deep.equal([
      "queued",
      "mined",
      "queued",
      "signed",
      "submitted",
      "mined",
      "confirmed",
    ]);
    expect(relayC.status).to.equal("failed");
    expect(relayC.errorCode).to.equal("RELAY_AUTHORIZATION_USED");
    const [row] = await f.database.db.select().from(relayerTransactions).where(eq(relayerTransactions.hash, sent.hash));
    expect(row?.relayIds).to.deep.equal([idA, `released:${idB}`, idC]);
    // A moved in the batch (before `before`), B now, C once by someone else: nothing twice.
    await expectBalancesMoved(f, before, [b]);
  });

  it("replaces a stuck batch at its nonce once for all its relays, which end confirmed by the version that mined", async () => {
    const transfers = await Promise.all([
      f.signTransfer(f.alice, f.carol.address, 31n),
      f.signTransfer(f.bob, f.carol.address, 32n),
      f.signTransfer(f.alice, f.bob.address, 33n),
    ]);
    const before = await balancesOf(f, [f.alice.address, f.bob.address, f.carol.address]);
    await f.chain.testClient.setAutomine(false);
    const relayIds = await enqueueAll(workers, "stuck", transfers);
    let rows: (typeof relayerTransactions.$inferSelect)[] = [];
    while (rows.length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = (await f.database.db.select().from(relayerTransactions).orderBy(relayerTransactions.id)).filter((row) =>
        (row.relayIds as string[]).includes(relayIds[0]!),
      );
    }
    await f.chain.testClient.setAutomine(true);
    await f.chain.testClient.mine({ blocks: 1 });
    const relays = await Promise.all(relayIds.map((id) => f.waitForRelay(id)));

    expect(new Set(rows.map((row) => row.nonce)).size).to.equal(1);
    for (const row of rows) expect(row.relayIds).to.deep.equal(relayIds);
    const mined = relays[0]!.transactionHash;
    for (const relay of relays) {
      expect(relay.status).to.equal("confirmed");
      expect(relay.transactionHash).to.equal(mined);
      expect(relay.transitions.map((t) => t.status)).to.include("replaced");
    }
    await expectBalancesMoved(f, before, transfers);
  });
});
