/**
 * Available balance: the chain balance less the funds of the sender's movements accepted but not
 * yet on chain — `pending` (being queued), `held` (waiting for review) and queued relays with no
 * block yet. Once a relay's transaction is mined the chain balance itself shows it, so it stops
 * being reserved; a failed or dead relay, a declined or denied movement never reserved anything.
 *
 * Two concurrent sends must not both pass on the same funds, so the check and the recording of
 * the movement run under one lock per sender address, held in Redis (every API process shares
 * it): the second send reads the first one's reservation. See {@link withSenderLock}.
 */
import { randomUUID } from "node:crypto";

import { and, eq, inArray, or, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Redis } from "ioredis";
import type { Address } from "viem";

import type { Db } from "../../lib/db/database.ts";
import { UnavailableError } from "../../lib/errors/base.ts";
import { isReserving, moneyMovements } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";

// Past every real block: listOpenRelayIds then returns in-flight relays only, never the confirmed history.
const PAST_ANY_BLOCK = 2n ** 62n;

/**
 * Movement kinds whose `from` is a contract (the escrow, the settlement): their relays carry no
 * signer the relayer can sum by, so their queued reservations are found relay by relay.
 */
const contractFundedKinds: ReadonlySet<string> = new Set([
  "payment.capture",
  "payment.void",
  "payment.reclaim",
  "payout",
]);

/**
 * What the door's own unfinished movements from a sender reserve, as a scalar subquery for a statement of
 * the door's (`total` as text, null when none): the user's `pending` and `held` movements from `from`,
 * except the one with `exceptRelayId` (the movement being decided, on a retry). Read through the partial
 * index, so it costs the same however long the sender's history is.
 * Read it before {@link reservedFunds} asks the relayer, never beside it: see there.
 */
export function unfinishedFromSql(p: {
  from: SQLWrapper;
  userId: SQLWrapper;
  exceptRelayId: SQLWrapper;
}): SQL<string | null> {
  const own = alias(moneyMovements, "unfinished");
  return sql<string | null>`(SELECT sum(${own.amount})::text FROM ${moneyMovements} AS ${own}
    WHERE ${own.from} = ${p.from} AND ${own.userId} = ${p.userId} AND ${isReserving(own.status)}
      AND ${own.relayId} IS DISTINCT FROM ${p.exceptRelayId})`;
}

/**
 * The funds reserved from `from` by the user's other accepted movements.
 * @param p.kind - the movement being decided's kind: a signer's funds (a transfer, a payment, a
 *   refund) are the door's unfinished movements, read by the caller, and the relays the relayer sums
 *   in one statement; a contract's are read here, the older way
 * @param p.unfinished - for a signer's funds: {@link unfinishedFromSql}'s total, read before this call.
 *   Before, not beside: a movement of the same sender decided a moment ago moves from `pending` (counted
 *   here) to a queued relay (counted by the relayer) once its relay is recorded. Read in that order, a
 *   snapshot too old for the relay is also too old for the move, so the movement is counted at least once;
 *   read at the same time, the relayer's read could start first and miss the relay while the door's
 *   missed the pending movement.
 * @param p.exceptId - the movement being decided (a retry must not reserve against itself)
 * @param p.exceptRelayId - that movement's relay id, for the same reason
 */
export async function reservedFunds(
  services: Pick<AppServices, "database" | "relay">,
  p: {
    userId: string;
    from: Address;
    unfinished: bigint;
    exceptId: string;
    exceptRelayId?: string | undefined;
    kind?: string | undefined;
  },
): Promise<bigint> {
  if (p.kind !== undefined && contractFundedKinds.has(p.kind)) return reservedFromContract(services, p);
  // What the user's relays not yet mined take from `from` (a mined relay is in the chain balance already).
  const unmined = await services.relay.sumUnminedRelays({
    requestedBy: p.userId,
    sender: p.from,
    exceptRelayId: p.exceptRelayId,
  });
  return p.unfinished + unmined;
}

/** {@link reservedFunds} for a contract's funds: the user's unmined relays listed, then summed here. */
async function reservedFromContract(
  services: Pick<AppServices, "database" | "relay">,
  p: { userId: string; from: Address; exceptId: string },
): Promise<bigint> {
  const db = services.database.db;
  const openIds = await services.relay.openRelayIds({ requestedBy: p.userId, indexedHead: PAST_ANY_BLOCK });
  const relays = openIds.length > 0 ? await services.relay.getRelays(openIds) : new Map();
  const unmined = [...relays.values()]
    .filter((r) => (r.state === "queued" || r.state === "submitted") && r.blockNumber === undefined)
    .map((r) => r.relayId as string);
  const [row] = await contractReservationQuery(db, { ...p, unmined });
  return BigInt(row?.total ?? 0);
}

/**
 * {@link reservedFromContract}'s sum, in one statement: the door's unfinished movements of the user from
 * the contract (through the partial index), and the queued movements of the relays not yet mined (through
 * the relay id's). The contract's own history — every capture, void or payout of every user — is not read.
 *
 * Each branch of the OR names only the columns of the index it must use: were `from_address = …` a condition
 * of the whole statement, a generic plan (which estimates any address as average, not as the escrow that
 * sent most movements) would read every movement of the contract through (from_address, nonce). So the
 * sender and the movement left out are checked in the sum itself, where no index can be chosen for them.
 */
export function contractReservationQuery(
  db: Db,
  p: { userId: string; from: Address; exceptId: string; unmined: readonly string[] },
) {
  const counted = sql`CASE WHEN ${moneyMovements.from} = ${p.from} AND ${moneyMovements.id} <> ${p.exceptId}
    THEN ${moneyMovements.amount} END`;
  return db
    .select({ total: sql<string | null>`sum(${counted})::text` })
    .from(moneyMovements)
    .where(
      or(
        and(eq(moneyMovements.from, p.from), eq(moneyMovements.userId, p.userId), isReserving(moneyMovements.status)),
        p.unmined.length > 0
          ? and(inArray(moneyMovements.relayId, [...p.unmined]), eq(moneyMovements.status, "queued"))
          : undefined,
      ),
    );
}

// The TTL only frees the lock of a process that died; the wait outlasts it, so a stale lock never refuses.
const LOCK_TTL_MS = 10_000;
const LOCK_WAIT_MS = 15_000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Runs `critical` holding the sender's lock (SET NX with a token, released only by its holder; the
 * TTL frees it if the process dies).
 * When the release fails (Redis went away during the movement — the very failure that refused it),
 * it is retried in the background until Redis answers, so the sender's next movement is not kept
 * waiting for the TTL.
 * @throws UnavailableError SENDER_BUSY (503, retryable) when the lock is not free within 15 s
 */
export async function withSenderLock<T>(
  redis: Redis,
  prefix: string,
  from: Address,
  critical: () => Promise<T>,
): Promise<T> {
  const key = `${prefix}:risk:sender-lock:${from.toLowerCase()}`;
  const token = randomUUID();
  const started = Date.now();
  // This process's movements from one sender wait their turn here first, so only one of them at a
  // time polls Redis: 200 concurrent sends from one wallet otherwise poll SET NX thousands of times
  // a second, and that polling, not the movements, takes the CPU (issue 17).
  const previous = localTurns.get(key) ?? Promise.resolve();
  let endTurn!: () => void;
  const turn = previous.then(() => new Promise<void>((resolve) => (endTurn = resolve)));
  localTurns.set(key, turn);
  try {
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      previous.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), LOCK_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!inTime)
      throw new UnavailableError("SENDER_BUSY", "Another movement from this address is being decided; retry");
    return await underRedisLock(redis, key, token, started, critical);
  } finally {
    // Our turn ends whether we held it or gave up waiting; the next waits for it through `turn`.
    void previous.then(() => endTurn());
    if (localTurns.get(key) === turn) localTurns.delete(key);
  }
}

/** Each sender's last turn in this process (see {@link withSenderLock}). */
const localTurns = new Map<string, Promise<void>>();

async function underRedisLock<T>(
  redis: Redis,
  key: string,
  token: string,
  started: number,
  critical: () => Promise<T>,
): Promise<T> {
  let delay = 2;
  while ((await redis.set(key, token, "PX", LOCK_TTL_MS, "NX")) !== "OK") {
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new UnavailableError("SENDER_BUSY", "Another movement from this address is being decided; retry");
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await critical();
  } finally {
    const release = () => redis.eval(RELEASE, 1, key, token);
    await release().catch(() => releaseInBackground(release, Date.now() + LOCK_TTL_MS));
  }
}

function releaseInBackground(release: () => Promise<unknown>, until: number): void {
  const attempt = () => {
    if (Date.now() > until) return; // the TTL has freed it by now
    release().catch(() => setTimeout(attempt, 25).unref());
  };
  setTimeout(attempt, 25).unref();
}
