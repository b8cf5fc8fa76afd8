import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import { Redis } from "ioredis";

import { acquireKeyLease, type KeyLease } from "../../relayer/key-lease.ts";

import { REDIS_URL } from "./fixture.ts";

const ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("Key lease: how recent a check must be to stand", function () {
  this.timeout(20_000);
  let redis: Redis;
  let other: Redis;
  let prefix: string;
  let lease: KeyLease;
  // Every script this process sent to Redis (renewals, checks, the release), in order.
  let scripts: string[];
  // The next script's request is lost on its way (as on a dropped connection).
  let loseNext = false;
  const checks = () => scripts.filter((script) => script.includes("PTTL")).length;
  const leaseKey = () => `${prefix}:relayer-lease:${ADDRESS.toLowerCase()}`;

  beforeEach(async () => {
    prefix = `test-key-lease-${randomUUID()}`;
    scripts = [];
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    other = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const send = redis.eval.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as { eval: (...args: unknown[]) => Promise<unknown> }).eval = (...args: unknown[]) => {
      scripts.push(String(args[0]));
      if (loseNext) {
        loseNext = false;
        return Promise.reject(new Error("Connection is closed."));
      }
      return send(...args);
    };
    await new Promise((resolve) => redis.once("ready", resolve));
    lease = (await acquireKeyLease(redis, prefix, ADDRESS, 6_000, () => undefined))!;
    expect(lease).to.not.equal(undefined);
  });
  afterEach(async () => {
    await lease.release().catch(() => undefined);
    redis.disconnect();
    other.disconnect();
  });

  it("shares one check among the callers of its freshness, and asks Redis again once it is older", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => lease.stillHeld(200)));
    expect(answers).to.deep.equal(Array(20).fill(true));
    expect(checks()).to.equal(1);
    expect(await lease.stillHeld(200)).to.equal(true);
    expect(checks()).to.equal(1);
    await sleep(250);
    expect(await lease.stillHeld(200)).to.equal(true);
    expect(checks()).to.equal(2);
    // Without a freshness, every call is a check of its own.
    await lease.stillHeld();
    await lease.stillHeld();
    expect(checks()).to.equal(4);
  });

  it("finds the lease taken by another process once the check it relies on is older than allowed", async () => {
    expect(await lease.stillHeld(200)).to.equal(true);
    // Redis loses the lease (a restart, a flush) and another process takes the key.
    await other.del(leaseKey());
    expect(await other.set(leaseKey(), "999999", "PX", 60_000, "NX")).to.equal("OK");
    expect(await lease.stillHeld()).to.equal(false);
    await sleep(250);
    expect(await lease.stillHeld(200)).to.equal(false);
  });

  it("never lets a check stand past the lifetime Redis gave the lease when it answered", async () => {
    // The lease's renewals stop reaching Redis: it has 100 ms left.
    await other.pexpire(leaseKey(), 100);
    expect(await lease.stillHeld(10_000)).to.equal(true);
    const sent = checks();
    await sleep(150);
    // The check is fresh enough by its age, but the lifetime it was answered with has run out:
    // nobody stopped another process from taking the key since.
    expect(await lease.stillHeld(10_000)).to.equal(false);
    expect(checks()).to.equal(sent);
    expect(await other.set(leaseKey(), "999999", "PX", 60_000, "NX")).to.equal("OK");
  });

  it("does not reuse a check that failed: the next caller asks Redis again", async () => {
    loseNext = true;
    const failed = await lease.stillHeld(10_000).then(
      () => "answered",
      () => "failed",
    );
    expect(failed).to.equal("failed");
    const before = checks();
    expect(await lease.stillHeld(10_000)).to.equal(true);
    expect(checks()).to.equal(before + 1);
  });
});
