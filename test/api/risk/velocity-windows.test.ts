/**
 * The velocity windows' running totals in Redis (api/risk/velocity-windows.ts) against the plain
 * definition they replace: every movement of the user's set whose time is inside the window, read
 * back and added up. Real Redis, the server's own clock; windows of 1 and 2 seconds so movements
 * leave them while the test runs.
 */
import { randomUUID } from "node:crypto";

import { expect } from "chai";
import { Redis } from "ioredis";

import {
  admitToWindows,
  releaseFromWindows,
  windowKeys,
  type WindowTotals,
} from "../../../api/risk/velocity-windows.ts";
import { createRandom } from "../../../lib/seeded-random.ts";
import { TEST_REDIS_URL } from "../helpers/api-fixture.ts";

type Movement = { id: string; amount: bigint; to: string };
const MAX_UINT256 = 2n ** 256n - 1n;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Velocity windows' running totals (api/risk/velocity-windows.ts)", function () {
  this.timeout(60_000);
  let redis: Redis;
  const prefix = `velocity-test-${process.pid}`;

  before(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const setKey = (userId: string) => windowKeys(prefix, userId).set;

  /** The definition: the set's members inside each window at `now`, and the movement itself. */
  async function definedTotals(userId: string, lengths: readonly number[], now: number, movement: Movement) {
    const flat = await redis.zrange(setKey(userId), "0", "-1", "WITHSCORES");
    const members: { at: number; amount: bigint; to: string; id: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [id, amount, to] = flat[i]!.split("|");
      members.push({ id: id!, amount: BigInt(amount!), to: to!, at: Number(flat[i + 1]) });
    }
    return [...new Set(lengths)]
      .sort((a, b) => a - b)
      .map((seconds): WindowTotals => {
        const inside = members.filter((m) => m.at > now - seconds * 1000);
        if (!inside.some((m) => m.id === movement.id)) throw new Error(`${movement.id} was not admitted`);
        return {
          seconds,
          count: inside.length,
          amount: inside.reduce((sum, m) => sum + m.amount, 0n),
          recipients: new Set(inside.map((m) => m.to)).size,
        };
      });
  }

  async function admitAndCheck(userId: string, lengths: readonly number[], movement: Movement, label: string) {
    const admitted = await admitToWindows(redis, prefix, userId, lengths, movement);
    // The set after the admission holds exactly what the window held then, plus the movement: the
    // script is atomic, and this test is the user's only writer.
    expect(admitted.totals, label).to.deep.equal(await definedTotals(userId, lengths, admitted.now, movement));
    return admitted;
  }

  it("equals the windows read back in full, over 160 admissions, releases and rebuilds while movements leave 1 s and 2 s windows", async () => {
    const { next } = createRandom(17);
    const userId = randomUUID();
    const lengths = [1, 2, 3600];
    const recipients = Array.from({ length: 5 }, (_, i) => `0x${String(i + 1).repeat(40)}`);
    const admitted: Movement[] = [];
    let released = 0;
    let rebuilt = 0;
    for (let step = 0; step < 160; step += 1) {
      const roll = next();
      if (roll > 0.95) {
        // The totals lost: the next admission rebuilds them from the set, movements half out of
        // the short windows included.
        await redis.del(windowKeys(prefix, userId).totals);
        rebuilt += 1;
      }
      if (roll < 0.2 && admitted.length > 0) {
        // Release any earlier movement: still inside every window, gone from the short ones, or
        // released already (which changes nothing).
        const movement = admitted[Math.floor(next() * admitted.length)]!;
        await releaseFromWindows(redis, prefix, userId, movement);
        released += 1;
        continue;
      }
      const size = next();
      const amount =
        size < 0.1
          ? 0n
          : size < 0.2
            ? MAX_UINT256 - BigInt(Math.floor(next() * 1000))
            : BigInt(Math.floor(next() * 10 ** Math.floor(next() * 15)));
      const movement = { id: randomUUID(), amount, to: recipients[Math.floor(next() * recipients.length)]! };
      admitted.push(movement);
      await admitAndCheck(userId, lengths, movement, `step ${step}`);
      if (next() < 0.15) await sleep(Math.floor(next() * 400));
    }
    expect(released, "the sequence released some movements").to.be.greaterThan(10);
    expect(rebuilt, "and rebuilt the totals a few times").to.be.greaterThan(2);
  });

  it("sums amounts past 2⁶⁴ and 2²⁵⁶ exactly", async () => {
    const userId = randomUUID();
    let last: WindowTotals[] = [];
    for (let i = 0; i < 5; i += 1) {
      ({ totals: last } = await admitToWindows(redis, prefix, userId, [3600], {
        id: randomUUID(),
        amount: MAX_UINT256,
        to: "0xabc",
      }));
    }
    expect(last).to.deep.equal([{ seconds: 3600, count: 5, amount: 5n * MAX_UINT256, recipients: 1 }]);
  });

  it("rebuilds the totals when the rule set's windows change, or when Redis lost them or the set", async () => {
    const userId = randomUUID();
    const to = "0x" + "a".repeat(40);
    for (let i = 0; i < 4; i += 1)
      await admitAndCheck(userId, [60, 3600], { id: randomUUID(), amount: 7n, to }, "first");
    // Another window appears (and one goes): its totals are counted from the set once.
    const grown = await admitAndCheck(userId, [30, 86_400], { id: randomUUID(), amount: 7n, to }, "windows changed");
    expect(grown.totals.map((t) => t.count)).to.deep.equal([5, 5]);
    // The totals lost (evicted, say): rebuilt from the set.
    await redis.del(windowKeys(prefix, userId).totals);
    const rebuilt = await admitAndCheck(userId, [30, 86_400], { id: randomUUID(), amount: 7n, to }, "totals lost");
    expect(rebuilt.totals.map((t) => t.count)).to.deep.equal([6, 6]);
    // The set lost: the totals count no movement the set does not hold.
    await redis.del(setKey(userId));
    const fresh = await admitAndCheck(userId, [30, 86_400], { id: randomUUID(), amount: 7n, to }, "set lost");
    expect(fresh.totals.map((t) => t.count)).to.deep.equal([1, 1]);
    // The scripts flushed from Redis (a restart): loaded again on NOSCRIPT.
    await redis.script("FLUSH");
    const reloaded = await admitAndCheck(userId, [30, 86_400], { id: randomUUID(), amount: 7n, to }, "scripts flushed");
    expect(reloaded.totals.map((t) => t.count)).to.deep.equal([2, 2]);
  });

  it("counts a movement admitted twice once, and a release of an unknown or released movement changes nothing", async () => {
    const userId = randomUUID();
    const movement = { id: randomUUID(), amount: 5n, to: "0xbeef" };
    await admitAndCheck(userId, [3600], movement, "first");
    const again = await admitAndCheck(userId, [3600], movement, "again");
    expect(again.totals).to.deep.equal([{ seconds: 3600, count: 1, amount: 5n, recipients: 1 }]);

    const other = { id: randomUUID(), amount: 9n, to: "0xcafe" };
    await admitAndCheck(userId, [3600], other, "other");
    await releaseFromWindows(redis, prefix, userId, { id: randomUUID(), amount: 9n, to: "0xcafe" });
    // Same id, another amount: another member, so not this movement.
    await releaseFromWindows(redis, prefix, userId, { ...other, amount: 10n });
    await releaseFromWindows(redis, prefix, userId, other);
    await releaseFromWindows(redis, prefix, userId, other);
    const third = { id: randomUUID(), amount: 1n, to: "0xbeef" };
    const after = await admitAndCheck(userId, [3600], third, "after releases");
    expect(after.totals).to.deep.equal([{ seconds: 3600, count: 2, amount: 6n, recipients: 1 }]);
  });

  it("keeps one user's windows apart from another's", async () => {
    const [alice, mallory] = [randomUUID(), randomUUID()];
    const big = { id: randomUUID(), amount: 10n ** 12n, to: "0x1" };
    await admitToWindows(redis, prefix, alice, [3600], big);
    // Mallory cannot take Alice's movement out of Alice's windows, nor count it in hers.
    await releaseFromWindows(redis, prefix, mallory, big);
    const own = await admitToWindows(redis, prefix, mallory, [3600], { id: randomUUID(), amount: 1n, to: "0x1" });
    expect(own.totals[0]).to.deep.include({ count: 1, amount: 1n });
    const hers = await admitToWindows(redis, prefix, alice, [3600], { id: randomUUID(), amount: 1n, to: "0x1" });
    expect(hers.totals[0]).to.deep.include({ count: 2, amount: 10n ** 12n + 1n });
  });
});
