/**
 * Fault suite (issue 11): the queue's Redis — a test-owned `redis-server` with its own port and
 * folder, append-only with fsync on every write (the durable setting a production queue uses) — is
 * killed mid-run and restarted, then shut down for a 10 s outage and started again, while the
 * workers relay. The workers reconnect on their own; every relay accepted before, between and
 * after lands exactly once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { Redis } from "ioredis";

import { createFaultWorld, sized, type FaultWorld } from "./helpers/fault-world.ts";

/** A free loopback port (the kernel picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
    ],
    { stdio: "ignore" },
  );
  return new Promise((resolve, reject) => {
    const until = Date.now() + 10_000;
    const probe = async () => {
      const redis = new Redis({
        port,
        host: "127.0.0.1",
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      redis.on("error", () => undefined);
      try {
        await redis.connect();
        await redis.ping();
        redis.disconnect();
        resolve(child);
      } catch {
        redis.disconnect();
        if (Date.now() > until) reject(new Error(`redis-server on ${port} did not start`));
        else setTimeout(() => void probe(), 50);
      }
    };
    void probe();
  });
}

const stop = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });

describe("Fault suite: the queue's Redis restarted mid-run and down for 10 s", function () {
  this.timeout(180_000);
  let world: FaultWorld;
  let redis: ChildProcess;
  let port: number;
  let dir: string;

  before(async () => {
    port = await freePort();
    dir = await mkdtemp(join(tmpdir(), "stablerail-faults-redis-"));
    redis = await startRedis(port, dir);
    world = await createFaultWorld("redis_restart", { redisUrl: `redis://127.0.0.1:${port}` });
    await world.startFollowingIndexer();
    await world.startWorkers({ concurrency: 16 });
    world.proxy.setPolicy({ fault: () => "pass", latencyMs: () => 5 + Math.floor(Math.random() * 20) });
  });
  after(async () => {
    await world?.close();
    if (redis) await stop(redis, "SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Until the producer's connection is back (it fails fast while Redis is away, as the API's 503 does). */
  const producerReconnected = async () => {
    for (const until = Date.now() + 30_000; ;) {
      const ok = await Promise.all([
        world.producer.transfers.getJobCounts("wait"),
        world.producer.operator.getJobCounts("wait"),
      ])
        .then(() => true)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > until) throw new Error("the producer did not reconnect to Redis");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("lands every relay accepted before, between and after the restarts exactly once", async () => {
    const size = sized(30, 150);
    await world.submitTransfers("before", size);
    await world.submitPayouts("before", 2);
    // A crash mid-run: nothing Redis acknowledged is lost (fsync on every write), the workers reconnect.
    await stop(redis, "SIGKILL");
    redis = await startRedis(port, dir);
    await producerReconnected();
    await world.submitTransfers("between", size);
    // An outage of 10 s (a clean shutdown), then the same server again.
    await stop(redis, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    redis = await startRedis(port, dir);
    await producerReconnected();
    await world.submitTransfers("after", size);
    const relays = await world.expectInvariants({ boundMs: 120_000 });
    expect(
      relays
        .filter((relay) => relay.status !== "confirmed")
        .map((relay) => `${relay.relayId} ${relay.status} ${relay.errorCode}`),
      "a Redis restart costs no movement",
    ).to.deep.equal([]);
    expect(relays).to.have.length(3 * size + 2);
  });
});
