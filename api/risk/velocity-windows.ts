/**
 * The sliding windows of a user's accepted movements, kept in Redis so every API process counts
 * the same: one sorted set per user (score = Redis server time in ms, member = movement id, amount
 * and recipient). {@link admitToWindows} reads the window and adds the new movement in one Lua
 * script — atomic on the Redis server — so two processes admitting at once each see the other's
 * movement if it came first: counts and sums are exact across processes, never both under a limit
 * on the same room. A movement the engine then refuses (or that fails before it is recorded) is
 * taken out again with {@link releaseFromWindows}.
 */
import type { Redis } from "ioredis";

/** One movement inside a window. */
export type WindowedMovement = { at: number; amount: bigint; to: string };

// KEYS[1] the user's set; ARGV[1] the longest window (ms); ARGV[2] the member to add ("" adds nothing).
// Returns [now_ms, member1, score1, member2, score2, ...] of the members inside the longest window
// before the addition. The server's clock (TIME) is the only clock: processes' clocks may differ.
const ADMIT = `
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

const keyOf = (prefix: string, userId: string) => `${prefix}:risk:window:${userId}`;
const memberOf = (movementId: string, amount: bigint, to: string) => `${movementId}|${amount}|${to.toLowerCase()}`;

/**
 * Reads the user's movements inside `longestSeconds` and (unless `movement` is undefined) adds this
 * one, atomically.
 * @returns the server time (ms) and the movements already inside the window, this one excluded
 */
export async function admitToWindows(
  redis: Redis,
  prefix: string,
  userId: string,
  longestSeconds: number,
  movement: { id: string; amount: bigint; to: string } | undefined,
): Promise<{ now: number; inside: WindowedMovement[] }> {
  const reply = (await redis.eval(
    ADMIT,
    1,
    keyOf(prefix, userId),
    String(longestSeconds * 1000),
    movement ? memberOf(movement.id, movement.amount, movement.to) : "",
  )) as string[];
  const now = Number(reply[0]);
  const inside: WindowedMovement[] = [];
  for (let i = 1; i < reply.length; i += 2) {
    const [, amount, to] = reply[i]!.split("|");
    inside.push({ at: Number(reply[i + 1]), amount: BigInt(amount!), to: to! });
  }
  return { now, inside };
}

/** Takes a movement out of the user's windows (refused, failed before recording, or rejected by review). */
export async function releaseFromWindows(
  redis: Redis,
  prefix: string,
  userId: string,
  movement: { id: string; amount: bigint; to: string },
): Promise<void> {
  await redis.zrem(keyOf(prefix, userId), memberOf(movement.id, movement.amount, movement.to));
}
