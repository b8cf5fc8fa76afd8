/**
 * Several worker processes against one Redis and one database must not collide on nonces.
 *
 * Two worker instances, as close to two processes as a test gets: one is the real worker
 * process (`npm run relayer`, relayer/main.ts) started as a child with Node 22, the other runs
 * `startRelayerWorkers` in this process. They share only what two machines would share: the
 * Redis (same key prefix, so the same queues and key leases), the PostgreSQL database (same
 * schema; PGlite is single-process, so this test uses the server) and the chain — the in-process
 * Hardhat chain is served to the child over HTTP JSON-RPC (test/helpers/json-rpc-server.ts).
 * Each has its own Redis connections, nonce managers and worker id.
 *
 * Keys: this process is configured with relayer keys #1 and #2, the child with #2 and #3, both
 * with operator key #0. Both are started together and the Redis lease arbitrates #2 (and #0):
 * whichever asks first holds it (in practice this process, as the child takes seconds to boot).
 * Each instance also holds one key nobody else is configured with, so both consume the transfer
 * queue — with all keys in both lists, the first to start would lease them all.
 *
 * Run twice: each relay in a transaction of its own, and with batching on (RELAYER_BATCH_SIZE=8 in
 * both instances, so each process gathers the jobs it holds into Settlement.settleAuthorizations).
 *
 * 500 EIP-3009 transfers with distinct random authorisation nonces, from three payers to three
 * recipients, are queued concurrently; ten of them are queued a second time with the same
 * idempotency key through another producer connection (a client retrying against another API
 * process). The test waits until the queue has settled every job (no timed assertion: a hang
 * fails at mocha's timeout, a dead child at once), then checks each relay, each authorisation
 * and each balance on chain, and each key's nonces in the relayer's table and on chain.
 */
import { randomBytes } from "node:crypto";

import { expect } from "chai";
import { and, eq, inArray, sql } from "drizzle-orm";
import { getAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { relayerTransactions } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { createRelayQueue, type RelayQueue } from "../../relayer/queue.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, REDIS_URL, type RelayerFixture } from "./fixture.ts";
import { createSharedWorld, spawnWorkerProcess, type SharedWorld, type WorkerProcess } from "./worker-process.ts";

const TRANSFERS = 500;
const RETRIED = 10;
const [OPERATOR_KEY, KEY_1, KEY_2, KEY_3] = [
  HARDHAT_PRIVATE_KEYS[0],
  HARDHAT_PRIVATE_KEYS[1],
  HARDHAT_PRIVATE_KEYS[2],
  HARDHAT_PRIVATE_KEYS[3],
];
const RELAYERS = [KEY_1, KEY_2, KEY_3].map((key) => privateKeyToAccount(key).address);

type Transfer = { relayId: string; from: Address; to: Address; value: bigint; nonce: Hex };
type TransactionRow = typeof relayerTransactions.$inferSelect;

for (const batchSize of [1, 8]) {
  describe(`Relay workers in two processes sharing one Redis and one database (RELAYER_BATCH_SIZE=${batchSize})`, function () {
    this.timeout(600_000);
    let f: RelayerFixture;
    let world: SharedWorld;
    let database: SharedWorld["database"];
    let child: WorkerProcess | undefined;
    let local: RelayerWorkers | undefined;
    let otherProducer: RelayQueue | undefined;
    let childKeys: { relayers: Address[]; operator: Address | undefined };
    let payers: Address[];
    let recipients: Address[];
    const transfers: Transfer[] = [];
    const retried: { relayId: string; again: string }[] = [];
    const startNonce = new Map<Address, number>();
    const balanceBefore = new Map<Address, bigint>();
    let startBlock: bigint;
    let rows: TransactionRow[];

    const balanceOf = (account: Address) =>
      f.chain.publicClient.readContract({
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        functionName: "balanceOf",
        args: [account],
      });

    /**
     * A recorded, unmined transaction below its key's mined nonce lost its nonce to another
     * transaction (a collision): no version recorded for the same relays at that nonce (the
     * original and its replacements) has a receipt although the chain has moved past it, so it can
     * never mine.
     * @returns a description of the first such transaction, or `undefined`
     */
    const findNonceTakenByAnotherTransaction = async (): Promise<string | undefined> => {
      const open = await database.db
        .select()
        .from(relayerTransactions)
        .where(inArray(relayerTransactions.status, ["signed", "sent"]));
      const minedNonce = new Map<string, number>();
      for (const row of open) {
        if (!minedNonce.has(row.relayer)) {
          const address = getAddress(row.relayer);
          minedNonce.set(row.relayer, await f.chain.publicClient.getTransactionCount({ address, blockTag: "latest" }));
        }
        if (row.nonce >= minedNonce.get(row.relayer)!) continue;
        const atNonce = await database.db
          .select()
          .from(relayerTransactions)
          .where(and(eq(relayerTransactions.relayer, row.relayer), eq(relayerTransactions.nonce, row.nonce)));
        const versions = atNonce.filter((other) => JSON.stringify(other.relayIds) === JSON.stringify(row.relayIds));
        const receipts = await Promise.all(
          versions.map(({ hash }) =>
            f.chain.publicClient.getTransactionReceipt({ hash: hash as Hex }).catch(() => undefined),
          ),
        );
        if (receipts.every((receipt) => receipt === undefined)) {
          return `${row.relayer} nonce ${row.nonce} (relays ${JSON.stringify(row.relayIds)}) was mined as another transaction`;
        }
      }
      return undefined;
    };

    before(async () => {
      f = await createRelayerFixture("concurrency");
      world = await createSharedWorld(f, "relayer_concurrency");
      database = world.database;

      // A third payer, funded by alice through the token's public transfer.
      const dave = f.chain.accounts[13]!;
      const funding = await f.chain.wallet(f.alice).writeContract({
        account: f.alice,
        chain: f.chain.publicClient.chain,
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        functionName: "transfer",
        args: [dave.address, 300_000_000n],
      });
      await f.chain.publicClient.waitForTransactionReceipt({ hash: funding });
      const payerAccounts = [f.alice, f.bob, f.accountOf(dave.address)];
      payers = payerAccounts.map((account) => account.address);
      recipients = [f.carol.address, f.chain.accounts[11]!.address, f.chain.accounts[12]!.address];

      for (const address of RELAYERS) {
        startNonce.set(address, await f.chain.publicClient.getTransactionCount({ address, blockTag: "pending" }));
      }
      for (const address of [...payers, ...recipients]) balanceBefore.set(address, await balanceOf(address));
      startBlock = await f.chain.publicClient.getBlockNumber({ cacheTime: 0 });

      // Both instances start at once and race for the leases on key #2 and the operator key.
      child = spawnWorkerProcess(
        world.workerEnv({
          RELAYER_PRIVATE_KEYS: [KEY_2, KEY_3].join(","),
          RELAYER_OPERATOR_PRIVATE_KEY: OPERATOR_KEY,
          RELAYER_CONCURRENCY: "16",
          RELAYER_REPLACE_AFTER_MS: "60000",
          RELAYER_LEASE_MS: "15000",
          RELAYER_BATCH_SIZE: String(batchSize),
          RELAYER_BATCH_WAIT_MS: "50",
        }),
      );
      local = await f.startWorkers(
        {
          relayerKeys: [KEY_1, KEY_2],
          operatorKey: OPERATOR_KEY,
          concurrency: 16,
          replaceAfterMs: 60_000,
          leaseMs: 15_000,
          batchSize,
          batchWaitMs: 50,
        },
        database,
      );
      childKeys = await child.started;
      otherProducer = createRelayQueue({ redis: REDIS_URL, prefix: f.prefix });

      const runId = randomBytes(4).toString("hex");
      const signed = await Promise.all(
        Array.from({ length: TRANSFERS }, async (_, i) => {
          const from = payerAccounts[i % payerAccounts.length]!;
          const to = recipients[Math.floor(i / payerAccounts.length) % recipients.length]!;
          const value = BigInt(1 + ((i * 7919) % 1_000_000));
          const request = await f.signTransfer(from, to, value);
          return { idempotencyKey: `cc.${runId}.${i}`, request, value };
        }),
      );
      const queue = local.queue;
      const second = otherProducer;
      const enqueued = await Promise.all([
        ...signed.map(({ idempotencyKey, request }) =>
          enqueueRelay(queue, { idempotencyKey, request, requestedBy: "concurrency" }),
        ),
        ...signed
          .slice(0, RETRIED)
          .map(({ idempotencyKey, request }) =>
            enqueueRelay(second, { idempotencyKey, request, requestedBy: "concurrency" }),
          ),
      ]);
      for (const [i, { request, value }] of signed.entries()) {
        transfers.push({
          relayId: enqueued[i]!.relayId,
          from: getAddress(request.from),
          to: getAddress(request.to),
          value,
          nonce: request.nonce,
        });
      }
      for (let i = 0; i < RETRIED; i++) {
        retried.push({ relayId: enqueued[i]!.relayId, again: enqueued[TRANSFERS + i]!.relayId });
      }

      // Settled = every job completed or failed for good. A dead child, or a recorded transaction
      // that can never mine because its nonce went to another transaction, ends the wait at once.
      for (;;) {
        if (child.exitCode() !== null) throw new Error(`the worker process died:\n${child.output().slice(-5_000)}`);
        const lost = await findNonceTakenByAnotherTransaction();
        if (lost) throw new Error(`nonce collision: ${lost}`);
        const counts = await queue.transfers.getJobCounts("completed", "failed");
        if ((counts.completed ?? 0) + (counts.failed ?? 0) >= TRANSFERS) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      rows = await database.db.select().from(relayerTransactions).orderBy(relayerTransactions.id);
    });

    after(async () => {
      await child?.stop();
      // After a failure jobs may still follow transactions that can never mine; close() waits for
      // running jobs, so it is not awaited past a bound (the chain is closed below, ending them).
      const closed = local?.close();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      await otherProducer?.close();
      await world?.close();
      await f?.close();
    });

    it("leases each relayer key to exactly one of the two instances, and gives each instance a key", () => {
      const localRelayers = local!.keys.filter((key) => key !== local!.operatorKey).map((key) => key.address);
      expect(localRelayers).to.include(RELAYERS[0]);
      expect(childKeys.relayers).to.include(RELAYERS[2]);
      expect([...localRelayers, ...childKeys.relayers].sort()).to.deep.equal([...RELAYERS].sort());
      const operators = [local!.operatorKey?.address, childKeys.operator].filter(Boolean);
      expect(operators).to.deep.equal([privateKeyToAccount(OPERATOR_KEY).address]);
    });

    it("queues a transfer enqueued twice with one idempotency key once, and completes every job", async () => {
      for (const { relayId, again } of retried) expect(again).to.equal(relayId);
      const transfersQueue = local!.queue.transfers;
      const failed = await transfersQueue.getFailed(0, 9);
      expect(failed.map((job) => `${job.id}: ${job.failedReason}`)).to.deep.equal([]);
      const counts = await transfersQueue.getJobCounts("completed", "failed", "waiting", "active", "delayed");
      expect(counts).to.deep.equal({ completed: TRANSFERS, failed: 0, waiting: 0, active: 0, delayed: 0 });
    });

    it("confirms every relay, each through exactly one queued, signed and confirmed transition", async () => {
      const relays = await database.query<{ relay_id: string; status: string }>(
        sql`SELECT relay_id, status FROM relays ORDER BY relay_id`,
      );
      expect(relays.map((relay) => relay.relay_id)).to.deep.equal(transfers.map((t) => t.relayId).sort());
      const notConfirmed = relays.filter((relay) => relay.status !== "confirmed");
      expect(notConfirmed, JSON.stringify(notConfirmed.slice(0, 5))).to.deep.equal([]);
      const transitions = await database.query<{ relay_id: string; status: string; count: number }>(
        sql`SELECT relay_id, status, count(*)::int AS count FROM relay_transitions GROUP BY relay_id, status`,
      );
      const repeated = transitions.filter(
        (t) => ["queued", "signed", "mined", "confirmed"].includes(t.status) && t.count !== 1,
      );
      expect(repeated).to.deep.equal([]);
      for (const status of ["queued", "confirmed"]) {
        expect(transitions.filter((t) => t.status === status)).to.have.length(TRANSFERS);
      }
    });

    it("sends every relay at exactly one nonce of one key, and the relay's hash is the mined one", async () => {
      const byRelay = new Map<string, TransactionRow[]>();
      for (const row of rows) {
        for (const relayId of row.relayIds as string[]) byRelay.set(relayId, [...(byRelay.get(relayId) ?? []), row]);
      }
      expect([...byRelay.keys()].sort()).to.deep.equal(transfers.map((t) => t.relayId).sort());
      const relays = await database.query<{ relay_id: string; transaction_hash: string }>(
        sql`SELECT relay_id, transaction_hash FROM relays`,
      );
      const hashOf = new Map(relays.map((relay) => [relay.relay_id, relay.transaction_hash]));
      for (const [relayId, carried] of byRelay) {
        const slots = new Set(carried.map((row) => `${row.relayer}:${row.nonce}`));
        expect([...slots], `${relayId} was sent at several nonces`).to.have.length(1);
        const mined = carried.filter((row) => row.status === "mined");
        expect(mined, `${relayId} mined ${mined.length} times`).to.have.length(1);
        expect(hashOf.get(relayId)).to.equal(mined[0]!.hash);
      }
    });

    it("moves every authorisation on chain exactly once and credits each recipient the sum of its transfers", async () => {
      const used = await f.chain.publicClient.getContractEvents({
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        eventName: "AuthorizationUsed",
        fromBlock: startBlock + 1n,
      });
      const usedKeys = used.map((log) => `${getAddress(log.args.authorizer!)}:${log.args.nonce}`).sort();
      expect(usedKeys).to.deep.equal(transfers.map((t) => `${t.from}:${t.nonce}`).sort());
      for (const t of transfers.filter((_, i) => i % 10 === 0)) {
        const state = await f.chain.publicClient.readContract({
          address: f.contracts.stablecoin,
          abi: stablecoinAbi,
          functionName: "authorizationState",
          args: [t.from, t.nonce],
        });
        expect(state, `authorisation ${t.nonce} of ${t.from}`).to.equal(true);
      }
      for (const address of [...payers, ...recipients]) {
        const credited = transfers.filter((t) => t.to === address).reduce((sum, t) => sum + t.value, 0n);
        const debited = transfers.filter((t) => t.from === address).reduce((sum, t) => sum + t.value, 0n);
        expect(await balanceOf(address), address).to.equal(balanceBefore.get(address)! + credited - debited);
      }
    });

    it("uses contiguous nonces per relayer key, without gap or duplicate, in the table and on chain", async () => {
      for (const relayer of RELAYERS) {
        const start = startNonce.get(relayer)!;
        const byNonce = new Map<number, TransactionRow[]>();
        for (const row of rows.filter((row) => getAddress(row.relayer) === relayer)) {
          byNonce.set(row.nonce, [...(byNonce.get(row.nonce) ?? []), row]);
        }
        const nonces = [...byNonce.keys()].sort((a, b) => a - b);
        expect(nonces, relayer).to.deep.equal(Array.from({ length: nonces.length }, (_, i) => start + i));
        expect(await f.chain.publicClient.getTransactionCount({ address: relayer, blockTag: "latest" })).to.equal(
          start + nonces.length,
        );
        expect(await f.chain.publicClient.getTransactionCount({ address: relayer, blockTag: "pending" })).to.equal(
          start + nonces.length,
        );
        // Several rows at one nonce are an original and its replacements: exactly one of them mined.
        for (const [nonce, versions] of byNonce) {
          const mined = versions.filter((row) => row.status === "mined");
          expect(
            mined,
            `${relayer} nonce ${nonce}: ${versions.map((row) => `${row.hash} ${row.status}`).join(", ")}`,
          ).to.have.length(1);
          const transaction = await f.chain.publicClient.getTransaction({ hash: mined[0]!.hash as Hex });
          expect([getAddress(transaction.from), transaction.nonce]).to.deep.equal([relayer, nonce]);
          const receipt = await f.chain.publicClient.getTransactionReceipt({ hash: mined[0]!.hash as Hex });
          expect(receipt.status, mined[0]!.hash).to.equal("success");
        }
      }
    });

    if (batchSize > 1) {
      it("gathers transfers into batch transactions in both instances", () => {
        const batchesBy = (keys: Address[]) =>
          rows.filter((row) => keys.includes(getAddress(row.relayer)) && (row.relayIds as string[]).length > 1).length;
        const localRelayers = local!.keys.filter((key) => key !== local!.operatorKey).map((key) => key.address);
        expect(batchesBy(localRelayers), "batches of this process").to.be.greaterThan(0);
        expect(batchesBy(childKeys.relayers), "batches of the worker process").to.be.greaterThan(0);
        expect(Math.max(...rows.map((row) => (row.relayIds as string[]).length))).to.be.at.most(batchSize);
      });
    }

    it("has both instances send transactions", () => {
      const sentBy = (keys: Address[]) => rows.filter((row) => keys.includes(getAddress(row.relayer))).length;
      const localRelayers = local!.keys.filter((key) => key !== local!.operatorKey).map((key) => key.address);
      expect(sentBy(localRelayers), "transactions of this process").to.be.greaterThan(0);
      expect(sentBy(childKeys.relayers), "transactions of the worker process").to.be.greaterThan(0);
      expect(sentBy(RELAYERS)).to.equal(rows.length);
    });
  });
}
