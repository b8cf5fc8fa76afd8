import type { Redis } from "ioredis";

/**
 * A Redis lease on one relayer key, with a fencing token.
 *
 * Why: several worker processes may run against one Redis. Nonces of a key are only safe when
 * one process at a time hands them out, so each key is leased: `SET lease NX PX` with a value
 * that is a fencing token from `INCR fence`. The holder renews at a third of the lease time and
 * checks the token (a Lua compare) before every broadcast; a process that stalled past its lease
 * finds a newer token and stops sending from that key instead of racing the new owner. A new
 * owner re-synchronises the nonce from the chain and the recorded transactions on acquisition.
 *
 * A check may be reused for a bounded time: each one answers the lifetime Redis still gives the
 * lease (PTTL), and nobody can take the lease before that runs out (`SET NX`). So a check sent at
 * most `maxAgeMs` ago still stands while it is inside that lifetime — the bound a broadcast waiting
 * in its key's line already accepted — and a busy key asks Redis about once per `maxAgeMs` instead
 * of once per send (a round trip that was about a third of a relay's Redis requests).
 */
export type KeyLease = {
  readonly address: string;
  readonly token: number;
  /** Its lifetime in milliseconds (renewed at a third of it). */
  readonly ms: number;
  /**
   * Whether this process still holds the lease, by a check sent to Redis at most `maxAgeMs` ago
   * (default 0: a check of its own) and answered inside the lifetime Redis then gave the lease.
   * Callers that arrive while a check is in flight share it.
   */
  stillHeld: (maxAgeMs?: number) => Promise<boolean>;
  release: () => Promise<void>;
};

const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
// The lease's remaining lifetime in ms when `token` holds it, else -3 (PTTL's own answers are -2 and -1).
const CHECK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PTTL", KEYS[1]) else return -3 end`;
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

/**
 * Tries to take the lease on `address`.
 * @returns the lease, or `undefined` when another process holds it
 */
export async function acquireKeyLease(
  redis: Redis,
  prefix: string,
  address: string,
  leaseMs: number,
  onLost: () => void,
): Promise<KeyLease | undefined> {
  const leaseKey = `${prefix}:relayer-lease:${address.toLowerCase()}`;
  const token = await redis.incr(`${prefix}:relayer-fence:${address.toLowerCase()}`);
  const taken = await redis.set(leaseKey, String(token), "PX", leaseMs, "NX");
  if (taken !== "OK") return undefined;
  let held = true;
  const timer = setInterval(
    () => {
      redis
        .eval(RENEW, 1, leaseKey, String(token), String(leaseMs))
        .then((renewed) => {
          if (renewed === 0 && held) {
            held = false;
            clearInterval(timer);
            onLost();
          }
        })
        .catch(() => undefined);
    },
    Math.max(Math.floor(leaseMs / 3), 50),
  );
  timer.unref();

  // The latest check: when it was sent (performance.now()) and the lifetime it was answered with.
  let latest: { sentAt: number; msLeft: Promise<number> } | undefined;
  const check = () => {
    const sent = { sentAt: performance.now(), msLeft: redis.eval(CHECK, 1, leaseKey, String(token)).then(Number) };
    latest = sent;
    // A failed check proves nothing either way: the next caller asks again.
    sent.msLeft.catch(() => {
      if (latest === sent) latest = undefined;
    });
    return sent;
  };
  return {
    address,
    token,
    ms: leaseMs,
    stillHeld: async (maxAgeMs = 0) => {
      if (!held) return false;
      const reusable = latest && maxAgeMs > 0 && performance.now() - latest.sentAt <= maxAgeMs;
      const { sentAt, msLeft } = reusable ? latest! : check();
      const left = await msLeft;
      // -1 (no expiry) cannot happen to a key set with PX; it is not taken for "held for ever".
      return held && left > 0 && performance.now() < sentAt + left;
    },
    release: async () => {
      held = false;
      clearInterval(timer);
      await redis.eval(RELEASE, 1, leaseKey, String(token));
    },
  };
}
