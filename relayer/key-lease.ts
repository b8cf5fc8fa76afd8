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
 */
export type KeyLease = {
  readonly address: string;
  readonly token: number;
  /** Its lifetime in milliseconds (renewed at a third of it). */
  readonly ms: number;
  /** Whether this process still holds the lease (checked against Redis). */
  stillHeld: () => Promise<boolean>;
  release: () => Promise<void>;
};

const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
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
  return {
    address,
    token,
    ms: leaseMs,
    stillHeld: async () => held && (await redis.get(leaseKey)) === String(token),
    release: async () => {
      held = false;
      clearInterval(timer);
      await redis.eval(RELEASE, 1, leaseKey, String(token));
    },
  };
}
