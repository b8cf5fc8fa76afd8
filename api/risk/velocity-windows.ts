/**
 * The sliding windows of a user's accepted movements, kept in Redis so every API process counts
 * the same. Per user, a sorted set holds the movements of the longest window (score = Redis server
 * time in ms, member = movement id, amount and recipient), and a hash holds each window's running
 * totals: count, amount and distinct recipients.
 *
 * {@link admitToWindows} moves every window's edge up to now, adds the new movement and returns
 * the totals in one Lua script, atomic on the Redis server. So two processes admitting at once
 * each see the other's movement if it came first: counts and sums are exact across processes,
 * never both under a limit on the same room. A movement the engine then refuses (or that fails
 * before it is recorded) is taken out again with {@link releaseFromWindows}.
 *
 * Why running totals: reading the whole window back on every admission cost time in proportion
 * to the user's activity (214 ms for 100,000 movements in 30 days; bench/risk/user-activity.ts).
 * Each movement now enters each window once and leaves it once, so an admission costs the same
 * however many movements the windows hold (0.3–0.5 ms with its release, 100 to 100,000).
 *
 * Amounts are summed exactly without big-number arithmetic in Lua. A decimal amount is cut into
 * 9-digit limbs and each limb is added to its own integer field (HINCRBY, signed 64-bit). The
 * fields never carry; a field's value stays below count × 10⁹, and {@link admitToWindows} adds the
 * limbs up as bigint.
 *
 * The hash can always be rebuilt from the set. A script that finds it missing, built for other
 * windows (the rule set changed), or counting other members than the set holds rebuilds it there
 * and then. The set stays the record; the totals are derived from it. A rebuild reads the whole
 * set once (218 ms of Redis for 100,000 movements, 22 ms for 10,000), so it happens once per user
 * after the windows change, not per admission.
 */
import { createHash } from "node:crypto";

import type { Redis } from "ioredis";

/** One window's totals, the movement being admitted included. */
export type WindowTotals = { seconds: number; count: number; amount: bigint; recipients: number };

/** Decimal digits per limb of a summed amount: a limb is below 10⁹, so HINCRBY never nears 2⁶³. */
const LIMB_DIGITS = 9;
/** Limbs of a uint256 amount (78 digits). */
const LIMBS = Math.ceil(78 / LIMB_DIGITS);

// The hash's fields, per window length L (ms): h:L the window's edge (members at or before it have
// left the totals), n:L its count, d:L its distinct recipients, r:L:<address> the movements to that
// recipient, s:L:<i> limb i of its amount. And w (the window lengths it was built for), n (the
// members of the set it counts) and now (the latest clock it used, so its clock never runs back).
const TOTALS_LUA = `
local set, totals = KEYS[1], KEYS[2]
local LIMB_DIGITS, LIMBS = ${LIMB_DIGITS}, ${LIMBS}
local function fmt(x) return string.format('%.0f', x) end
local function lengthsOf(spec)
  local lengths = {}
  for l in string.gmatch(spec, '[^,]+') do lengths[#lengths + 1] = l end
  return lengths
end
-- A member's amount (decimal) and recipient.
local function partsOf(member)
  local _, _, amount, to = string.find(member, '^[^|]*|(%d+)|(.*)$')
  return amount, to
end
-- An amount's nonzero limbs, by index (limb 0 the lowest 9 digits).
local function limbsOf(amount)
  local limbs, i, e = {}, 0, #amount
  while e > 0 do
    local s = math.max(1, e - LIMB_DIGITS + 1)
    local limb = tonumber(string.sub(amount, s, e))
    if limb ~= 0 then limbs[i] = limb end
    i, e = i + 1, s - 1
  end
  return limbs
end
-- Adds (sign 1) or takes away (sign -1) one movement in window L's totals.
local function bumpParts(L, amount, to, sign)
  redis.call('HINCRBY', totals, 'n:' .. L, sign)
  for i, limb in pairs(limbsOf(amount)) do
    redis.call('HINCRBY', totals, 's:' .. L .. ':' .. i, fmt(sign * limb))
  end
  local r = redis.call('HINCRBY', totals, 'r:' .. L .. ':' .. to, sign)
  if sign == 1 and r == 1 then redis.call('HINCRBY', totals, 'd:' .. L, 1) end
  if sign == -1 and r == 0 then
    redis.call('HDEL', totals, 'r:' .. L .. ':' .. to)
    redis.call('HINCRBY', totals, 'd:' .. L, -1)
  end
end
local function bump(L, member, sign)
  local amount, to = partsOf(member)
  bumpParts(L, amount, to, sign)
end
`;

// KEYS[1] the user's set, KEYS[2] its totals; ARGV[1] the window lengths in ms, ascending, joined by
// commas; ARGV[2] the member to add. Returns [now_ms, then per window: count, recipients, limb 0..].
// The server's clock (TIME) is the only clock: processes' clocks may differ.
const ADMIT = `${TOTALS_LUA}
local spec = ARGV[1]
local lengths = lengthsOf(spec)
local edges = {}
local longest = tonumber(lengths[#lengths])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = { 'w', 'n', 'now' }
for _, L in ipairs(lengths) do fields[#fields + 1] = 'h:' .. L end
local built = redis.call('HMGET', totals, unpack(fields))
if built[3] and tonumber(built[3]) > now then now = tonumber(built[3]) end

-- Rebuilt in one pass over the set, added up in Lua and written at the end: a user with 100,000
-- movements would otherwise cost some 2 million calls, and Redis serves no one while a script runs.
-- A limb's sum stays exact as a Lua number while below 2^53, so it is written out every million.
local function rebuild()
  redis.call('DEL', totals)
  redis.call('ZREMRANGEBYSCORE', set, '-inf', fmt(now - longest))
  local windows = {}
  for k, L in ipairs(lengths) do windows[k] = { L = L, edge = now - tonumber(L), n = 0, d = 0, s = {}, r = {} } end
  local function flushSums(w)
    for i, sum in pairs(w.s) do redis.call('HINCRBY', totals, 's:' .. w.L .. ':' .. i, fmt(sum)) end
    w.s = {}
  end
  local members = redis.call('ZRANGEBYSCORE', set, '(' .. fmt(now - longest), '+inf', 'WITHSCORES')
  for m = 1, #members, 2 do
    local amount, to = partsOf(members[m])
    local at, limbs = tonumber(members[m + 1]), limbsOf(amount)
    for _, w in ipairs(windows) do
      if at > w.edge then
        w.n = w.n + 1
        for i, limb in pairs(limbs) do w.s[i] = (w.s[i] or 0) + limb end
        if w.n % 1000000 == 0 then flushSums(w) end
        local c = w.r[to]
        if c then w.r[to] = c + 1 else w.r[to], w.d = 1, w.d + 1 end
      end
    end
  end
  for _, w in ipairs(windows) do
    flushSums(w)
    redis.call('HSET', totals, 'h:' .. w.L, fmt(w.edge), 'n:' .. w.L, w.n, 'd:' .. w.L, w.d)
    local pairs_ = {}
    for to, c in pairs(w.r) do
      pairs_[#pairs_ + 1] = 'r:' .. w.L .. ':' .. to
      pairs_[#pairs_ + 1] = c
      if #pairs_ >= 2000 then redis.call('HSET', totals, unpack(pairs_)); pairs_ = {} end
    end
    if #pairs_ > 0 then redis.call('HSET', totals, unpack(pairs_)) end
  end
  redis.call('HSET', totals, 'w', spec, 'n', redis.call('ZCARD', set))
end

if built[1] ~= spec or tonumber(built[2]) ~= redis.call('ZCARD', set) then
  rebuild()
else
  for k, L in ipairs(lengths) do
    local from = built[3 + k]
    local edge = fmt(now - tonumber(L))
    if tonumber(from) < tonumber(edge) then
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', set, '(' .. from, edge)) do bump(L, m, -1) end
      edges[#edges + 1] = 'h:' .. L
      edges[#edges + 1] = edge
    end
  end
  local gone = redis.call('ZREMRANGEBYSCORE', set, '-inf', fmt(now - longest))
  if gone > 0 then redis.call('HINCRBY', totals, 'n', -gone) end
end

-- NX: a member admitted twice keeps its first score, and counts once.
if redis.call('ZADD', set, 'NX', fmt(now), ARGV[2]) == 1 then
  local amount, to = partsOf(ARGV[2])
  for _, L in ipairs(lengths) do bumpParts(L, amount, to, 1) end
  redis.call('HINCRBY', totals, 'n', 1)
end
redis.call('HSET', totals, 'now', fmt(now), unpack(edges))
redis.call('PEXPIRE', set, longest)
redis.call('PEXPIRE', totals, longest)

local wanted = {}
for _, L in ipairs(lengths) do
  wanted[#wanted + 1] = 'n:' .. L
  wanted[#wanted + 1] = 'd:' .. L
  for i = 0, LIMBS - 1 do wanted[#wanted + 1] = 's:' .. L .. ':' .. i end
end
local reply = { fmt(now) }
for _, v in ipairs(redis.call('HMGET', totals, unpack(wanted))) do reply[#reply + 1] = v or '0' end
return reply
`;

// KEYS as ADMIT's; ARGV[1] the member. Takes it out of the set, and out of the totals of every
// window it has not left yet. Returns 1 if it was there.
const RELEASE = `${TOTALS_LUA}
local score = redis.call('ZSCORE', set, ARGV[1])
if not score then return 0 end
redis.call('ZREM', set, ARGV[1])
local spec = redis.call('HGET', totals, 'w')
-- No totals: the next admission rebuilds them from the set.
if not spec then return 1 end
for _, L in ipairs(lengthsOf(spec)) do
  if tonumber(score) > tonumber(redis.call('HGET', totals, 'h:' .. L)) then bump(L, ARGV[1], -1) end
end
redis.call('HINCRBY', totals, 'n', -1)
return 1
`;

/** The user's keys: the sorted set of movements (the record) and the hash of totals derived from it. */
export function windowKeys(prefix: string, userId: string) {
  const set = `${prefix}:risk:window:${userId}`;
  return { set, totals: `${set}:totals` };
}
const keysOf = (prefix: string, userId: string) => {
  const { set, totals } = windowKeys(prefix, userId);
  return [set, totals] as const;
};
const memberOf = (movementId: string, amount: bigint, to: string) => `${movementId}|${amount}|${to.toLowerCase()}`;

/** Runs a script by its digest, loading it on the first NOSCRIPT (a restarted or flushed Redis). */
async function runScript(redis: Redis, script: Script, keys: readonly string[], args: readonly string[]) {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
type Script = { source: string; sha: string };
const script = (source: string): Script => ({ source, sha: createHash("sha1").update(source).digest("hex") });
const admitScript = script(ADMIT);
const releaseScript = script(RELEASE);

/**
 * Adds a movement to the user's windows and reads their totals, atomically.
 * @param windowSeconds - the windows' lengths (any order; repeats are counted once)
 * @returns the server time (ms) and each window's totals with this movement, in the order of
 *   `windowSeconds` without repeats
 */
export async function admitToWindows(
  redis: Redis,
  prefix: string,
  userId: string,
  windowSeconds: readonly number[],
  movement: { id: string; amount: bigint; to: string },
): Promise<{ now: number; totals: WindowTotals[] }> {
  const lengths = [...new Set(windowSeconds)].sort((a, b) => a - b);
  if (lengths.length === 0) lengths.push(1);
  const reply = (await runScript(redis, admitScript, keysOf(prefix, userId), [
    lengths.map((s) => s * 1000).join(","),
    memberOf(movement.id, movement.amount, movement.to),
  ])) as string[];
  const perWindow = 2 + LIMBS;
  const totals = lengths.map((seconds, index): WindowTotals => {
    const at = 1 + index * perWindow;
    let amount = 0n;
    for (let limb = LIMBS - 1; limb >= 0; limb -= 1) {
      amount = amount * 10n ** BigInt(LIMB_DIGITS) + BigInt(reply[at + 2 + limb]!);
    }
    return { seconds, count: Number(reply[at]), recipients: Number(reply[at + 1]), amount };
  });
  return { now: Number(reply[0]), totals };
}

/** Takes a movement out of the user's windows (refused, failed before recording, or rejected by review). */
export async function releaseFromWindows(
  redis: Redis,
  prefix: string,
  userId: string,
  movement: { id: string; amount: bigint; to: string },
): Promise<void> {
  await runScript(redis, releaseScript, keysOf(prefix, userId), [memberOf(movement.id, movement.amount, movement.to)]);
}
