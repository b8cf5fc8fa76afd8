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

import { and, eq, inArray, ne, or, sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Address } from "viem";

import { preparedOnce } from "../../lib/db/prepared.ts";
import { UnavailableError } from "../../lib/errors/base.ts";
import { moneyMovements } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";

/** Statuses the door records that reserve funds until the relayer takes over. */
const reservingStatuses = ["pending", "held"];
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

/** The door's unfinished movements from a sender: on every money movement, so built once. */
const unfinishedFrom = preparedOnce((db) =>
  db
    .select({ total: sql<string | null>`sum(${moneyMovements.amount})::text` })
    .from(moneyMovements)
    .where(
      and(
        eq(moneyMovements.from, sql.placeholder("from")),
        ne(moneyMovements.id, sql.placeholder("exceptId")),
        eq(moneyMovements.userId, sql.placeholder("userId")),
        inArray(moneyMovements.status, reservingStatuses),
      ),
    ),
);

/**
 * The funds reserved from `from` by the user's other accepted movements.
 * @param p.kind - the movement being decided's kind: a signer's funds (a transfer, a payment, a
 *   refund) are summed by the relayer in one statement; a contract's the older way
 * @param p.exceptId - the movement being decided (a retry must not reserve against itself)
 * @param p.exceptRelayId - that movement's relay id, for the same reason
 */
export async function reservedFunds(
  services: Pick<AppServices, "database" | "relay">,
  p: { userId: string; from: Address; exceptId: string; exceptRelayId?: string | undefined; kind?: string | undefined },
): Promise<bigint> {
  if (p.kind !== undefined && contractFundedKinds.has(p.kind)) return reservedFromContract(services, p);
  const db = services.database.db;
  // Both in flight at once: the door's unfinished movements, and what the user's relays not yet
  // mined take from `from` (the relayer sums them; a mined relay is in the chain balance already).
  const [unfinished, unmined] = await Promise.all([
    unfinishedFrom(db).execute({ from: p.from, exceptId: p.exceptId, userId: p.userId }),
    services.relay.sumUnminedRelays({ requestedBy: p.userId, sender: p.from, exceptRelayId: p.exceptRelayId }),
  ]);
  return BigInt(unfinished[0]?.total ?? 0) + unmined;
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
  // One sum in the database: the door's unfinished movements and the queued ones not yet mined.
  const [row] = await db
    .select({ total: sql<string | null>`sum(${moneyMovements.amount})::text` })
    .from(moneyMovements)
    .where(
      and(
        eq(moneyMovements.from, p.from),
        ne(moneyMovements.id, p.exceptId),
        or(
          and(eq(moneyMovements.userId, p.userId), inArray(moneyMovements.status, reservingStatuses)),
          unmined.length > 0
            ? and(inArray(moneyMovements.relayId, unmined), eq(moneyMovements.status, "queued"))
            : undefined,
        ),
      ),
    );
  return BigInt(row?.total ?? 0);
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
