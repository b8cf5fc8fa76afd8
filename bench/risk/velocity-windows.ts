/**
 * The velocity windows' cost against the user's activity (printed, not asserted). A user holds N
 * movements spread over the last 30 days, in the default rule set's windows (2 minutes, 1 hour,
 * 24 hours, 30 days). One unit is one admission (an accepted movement reads its window totals)
 * followed by its release (as if it were refused), so N stays the same through the run.
 *
 * The baseline is the design api/risk/velocity-windows.ts replaced, kept here as it was: one Lua
 * script returns every member of the longest window, and the API parses them and adds up each
 * window. The other path is the running totals of api/risk/velocity-windows.ts. Both run on the
 * same Redis in alternating rounds (bench/lib/alternating-paths.ts). Wall time includes Redis's own
 * time, as every call waits for its reply; CPU is this process's only (the API's share).
 *
 * Run: `tsx bench/risk/velocity-windows.ts` (BENCH_VELOCITY_MEMBERS = "100,1000,10000,100000",
 * BENCH_VELOCITY_UNITS = 100 per size and path; REDIS_URL = redis://127.0.0.1:6379).
 */
import { randomUUID } from "node:crypto";

import { Redis } from "ioredis";

import { loadFileRuleSet } from "../../api/risk/rule-sets.ts";
import { admitToWindows, releaseFromWindows } from "../../api/risk/velocity-windows.ts";
import { compareAlternating, type AlternatingOperation } from "../lib/alternating-paths.ts";
import { printConditions } from "../lib/conditions.ts";

const SIZES = (process.env.BENCH_VELOCITY_MEMBERS ?? "100,1000,10000,100000").split(",").map(Number);
const UNITS = Number(process.env.BENCH_VELOCITY_UNITS ?? 100);
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `bench-velocity-${process.pid}`;
const windows = loadFileRuleSet().windows;
const lengths = windows.map((w) => w.seconds);
const DAY_MS = 86_400_000;

// The replaced design, as it was in api/risk/velocity-windows.ts (0b640e1).
const READ_BACK_ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local horizon = now - tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. horizon)
local members = redis.call('ZRANGEBYSCORE', KEYS[1], horizon, '+inf', 'WITHSCORES')
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
table.insert(members, 1, tostring(now))
return members
`;
async function readBackAdmit(userId: string, movement: { id: string; amount: bigint; to: string }) {
  const key = `${prefix}:risk:window:${userId}`;
  const member = `${movement.id}|${movement.amount}|${movement.to}`;
  const longest = Math.max(...lengths) * 1000;
  const reply = (await redis.eval(READ_BACK_ADMIT, 1, key, String(longest), member)) as string[];
  const now = Number(reply[0]);
  const inside: { at: number; amount: bigint; to: string }[] = [];
  for (let i = 1; i < reply.length; i += 2) {
    const [, amount, to] = reply[i]!.split("|");
    inside.push({ at: Number(reply[i + 1]), amount: BigInt(amount!), to: to! });
  }
  const totals = windows.map(({ seconds }) => {
    const within = inside.filter((m) => m.at > now - seconds * 1000);
    return {
      count: within.length + 1,
      amount: within.reduce((sum, m) => sum + m.amount, movement.amount),
      recipients: new Set([...within.map((m) => m.to), movement.to]).size,
    };
  });
  await redis.zrem(key, member);
  return totals;
}

/** N members with times spread evenly over the last 29 days (a steady user), amounts and recipients varied. */
async function seed(userId: string, members: number) {
  const key = `${prefix}:risk:window:${userId}`;
  const now = Date.now();
  for (let from = 0; from < members; from += 5_000) {
    const batch: (string | number)[] = [];
    for (let i = from; i < Math.min(members, from + 5_000); i++) {
      const at = now - 60_000 - Math.floor(((i + 0.5) / members) * (29 * DAY_MS));
      batch.push(
        at,
        `${randomUUID()}|${1_000_000 + ((i * 7919) % 1_000_000_000)}|0x${(i % 40).toString(16).padStart(40, "0")}`,
      );
    }
    await redis.zadd(key, ...batch);
  }
  await redis.pexpire(key, 30 * DAY_MS);
}

type Path = "read back" | "running totals";
const users = new Map<string, string>();
const userOf = (path: Path, members: number) => users.get(`${path}|${members}`)!;
for (const members of SIZES) {
  for (const path of ["read back", "running totals"] as const) {
    const userId = randomUUID();
    users.set(`${path}|${members}`, userId);
    await seed(userId, members);
  }
}

const movement = (i: number) => ({ id: randomUUID(), amount: 5_000_000n + BigInt(i), to: "0x" + "ab".repeat(20) });
const operations: AlternatingOperation<Path>[] = SIZES.map((members) => ({
  name: `${members.toLocaleString("en-US")} movements in 30 days`,
  run: async (path, i) => {
    const userId = userOf(path, members);
    const m = movement(i);
    if (path === "read back") return readBackAdmit(userId, m);
    await admitToWindows(redis, prefix, userId, lengths, m);
    await releaseFromWindows(redis, prefix, userId, m);
  },
}));

console.log(
  `## Velocity windows: one admission and its release, against the user's activity\n\n` +
    `${UNITS} per size and path, windows ${windows.map((w) => w.name).join(", ")}, Redis ${(await redis.info("server")).match(/redis_version:(\S+)/)?.[1]}.\n`,
);
printConditions("start");
await compareAlternating<Path>({
  paths: [
    ["read back", "read back"],
    ["running totals", "running totals"],
  ],
  operations,
  units: UNITS,
  // The largest size costs the baseline half a second a call: a short warm-up (it also builds the totals).
  warmUpCalls: 5,
  label: "the user's window holds",
});
printConditions("end");

const keys = await redis.keys(`${prefix}:*`);
for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
redis.disconnect();
