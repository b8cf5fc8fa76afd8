/**
 * A worker process that dies holding relayer keys must not strand them: once its Redis leases
 * expire, another worker takes the keys over, re-synchronises their nonces from the chain and the
 * recorded transactions, and carries on relaying from them.
 *
 * The dying worker is the real relayer process (`npm run relayer`: relayer/main.ts), killed with SIGKILL so it
 * releases nothing; it reaches the in-process Hardhat chain over HTTP JSON-RPC and shares the
 * PostgreSQL schema (PGlite cannot be shared between processes) and the Redis prefix with the
 * survivor, which runs in this process with the same key list and starts after it, so it holds no
 * key until the other is gone.
 */

import { expect } from "chai";
import { eq } from "drizzle-orm";
import { getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { relayerTransactions } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { getRelay } from "../../relayer/get-relay.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, type RelayerFixture } from "./fixture.ts";
import { createSharedWorld, spawnWorkerProcess, type SharedWorld, type WorkerProcess } from "./worker-process.ts";

const [OPERATOR_KEY, RELAYER_KEY] = [HARDHAT_PRIVATE_KEYS[0], HARDHAT_PRIVATE_KEYS[1]];
const RELAYER = privateKeyToAccount(RELAYER_KEY).address;
const LEASE_MS = 1_000;

describe("Relayer keys of a crashed worker process", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let world: SharedWorld;
  let database: SharedWorld["database"];
  let child: WorkerProcess | undefined;
  let survivor: RelayerWorkers | undefined;

  before(async () => {
    f = await createRelayerFixture("takeover");
    world = await createSharedWorld(f, "relayer_takeover");
    database = world.database;
  });
  after(async () => {
    await child?.kill();
    await survivor?.close();
    await world?.close();
    await f?.close();
  });

  /** Polls the shared PostgreSQL relayer tables (not the fixture's PGlite) until the relay ended. */
  const waitForRelay = async (relayId: string) => {
    for (;;) {
      const relay = await getRelay(database, relayId);
      if (relay && ["confirmed", "failed", "expired", "cancelled"].includes(relay.status)) return relay;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const relayTransfers = async (label: string, count: number) => {
    const relayIds = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const request = await f.signTransfer(f.alice, f.bob.address, BigInt(1 + i));
        const queue = survivor!.queue;
        return (await enqueueRelay(queue, { idempotencyKey: `${label}.${i}`, request, requestedBy: "takeover" }))
          .relayId;
      }),
    );
    return Promise.all(relayIds.map((relayId) => waitForRelay(relayId)));
  };

  it("are taken over by a surviving worker once their leases expire, with contiguous nonces", async () => {
    const startNonce = await f.chain.publicClient.getTransactionCount({ address: RELAYER, blockTag: "pending" });
    const bobBefore = await f.token.balanceOf(f.bob.address);
    child = spawnWorkerProcess(
      world.workerEnv({
        RELAYER_PRIVATE_KEYS: RELAYER_KEY,
        RELAYER_OPERATOR_PRIVATE_KEY: OPERATOR_KEY,
        RELAYER_LEASE_MS: String(LEASE_MS),
      }),
    );
    expect(await child.started).to.deep.equal({
      relayers: [RELAYER],
      operator: privateKeyToAccount(OPERATOR_KEY).address,
    });
    survivor = await f.startWorkers(
      { relayerKeys: [RELAYER_KEY], operatorKey: OPERATOR_KEY, leaseMs: LEASE_MS },
      database,
    );
    expect(survivor.keys).to.deep.equal([]);

    // While the first process lives, it relays (the survivor holds no key and consumes nothing).
    const before = await relayTransfers("alive", 5);
    expect(before.map((relay) => relay.status)).to.deep.equal(Array(5).fill("confirmed"));

    await child.kill();
    const after = await relayTransfers("after-crash", 10);
    expect(after.map((relay) => relay.status)).to.deep.equal(Array(10).fill("confirmed"));
    expect(survivor.keys.map((key) => getAddress(key.address))).to.have.members([
      RELAYER,
      privateKeyToAccount(OPERATOR_KEY).address,
    ]);

    // One key, two processes, one nonce sequence: no gap, no reuse. The crashed process ran on the
    // defaults, which batch transfers, so 15 relays may take fewer than 15 transactions.
    const rows = await database.db.select().from(relayerTransactions).where(eq(relayerTransactions.relayer, RELAYER));
    const nonces = [...new Set(rows.map((row) => row.nonce))].sort((a, b) => a - b);
    const mined = await f.chain.publicClient.getTransactionCount({ address: RELAYER, blockTag: "latest" });
    expect(mined - startNonce).to.be.within(2, 15);
    expect(nonces).to.deep.equal(Array.from({ length: mined - startNonce }, (_, i) => startNonce + i));
    const sum = (n: number) => (BigInt(n) * BigInt(n + 1)) / 2n;
    expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore + sum(5) + sum(10));
  });
});
