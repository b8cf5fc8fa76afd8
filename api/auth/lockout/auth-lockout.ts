/**
 * Brute-force protection of every password, code and passkey check: failures are counted in Redis
 * (shared by every API process) per account and per client address; past API_AUTH_MAX_FAILURES of
 * one account, or API_AUTH_MAX_FAILURES_PER_IP from one address, within API_AUTH_LOCKOUT_SECONDS,
 * every attempt — right or wrong — is 429 TOO_MANY_ATTEMPTS until the lock expires.
 *
 * The invariant: an attempt is counted as a failure *before* it is checked, and uncounted only when
 * it succeeds. Checking first and counting after would let a burst of parallel guesses all pass the
 * check before any failure is recorded; reserving first bounds the guesses to the limit whatever the
 * concurrency. When Redis does not answer the check fails closed (503 REDIS_UNAVAILABLE): an
 * unmetered password check is the one thing this must never allow.
 */
import { createHash } from "node:crypto";

import type { Redis } from "ioredis";

import { StablerailError } from "../../../lib/errors/base.ts";

export type AuthLockoutSettings = { maxFailures: number; maxFailuresPerIp: number; lockoutSeconds: number };

/** An account or address is locked: 429 with Retry-After. */
export class TooManyAttemptsError extends StablerailError {
  override name = "TooManyAttemptsError";
  constructor(scope: "account" | "address", retryAfterSeconds: number) {
    super("TOO_MANY_ATTEMPTS", `Too many failed attempts for this ${scope}; try again in ${retryAfterSeconds} s`, {
      details: { scope, retryAfterSeconds },
    });
  }
}

/** Whose attempts these are: an account (a user id, or an unknown email's hash) and the client address. */
export type AttemptSubject = { account: string; ip: string };

/** An attempt in flight: settle it with `succeeded()` (uncounts it) or leave it counted. */
export type ReservedAttempt = { succeeded: () => Promise<void> };

type Deps = { redis: Redis; redisPrefix: string; settings: { authLockout: AuthLockoutSettings } };

/** The account key of an email no user has: hashed, so the raw address is not kept in Redis. */
export const unknownEmailAccount = (email: string) =>
  `email-${createHash("sha256").update(email).digest("hex").slice(0, 32)}`;

/**
 * Counts one attempt for the account and the address, and refuses it when either is past its limit.
 * @returns the reservation: call `succeeded()` once the check passed (resets the account's count)
 * @throws TooManyAttemptsError (429) when locked; Redis errors (→ 503) when Redis does not answer
 * @example
 * const attempt = await reserveAttempt(services, { account: user.id, ip: request.ip });
 * if (!(await verifyPassword(password, hash))) throw new AuthenticationError("INVALID_CREDENTIALS", "…");
 * await attempt.succeeded();
 */
export async function reserveAttempt(deps: Deps, subject: AttemptSubject): Promise<ReservedAttempt> {
  const { maxFailures, maxFailuresPerIp, lockoutSeconds } = deps.settings.authLockout;
  const accountKey = `${deps.redisPrefix}:auth-lockout:account:${subject.account}`;
  const ipKey = `${deps.redisPrefix}:auth-lockout:ip:${subject.ip}`;
  const results = await deps.redis.multi().incr(accountKey).pttl(accountKey).incr(ipKey).pttl(ipKey).exec();
  if (!results) throw new Error("auth lockout: the Redis transaction was discarded");
  for (const [error] of results) if (error) throw error;
  const [accountCount, accountTtl, ipCount, ipTtl] = results.map(([, value]) => Number(value));
  const windowMs = lockoutSeconds * 1000;
  // The window starts at the first failure; the lock runs its full length from the attempt that locked.
  const expire = deps.redis.multi();
  if (accountTtl! < 0 || accountCount === maxFailures + 1) expire.pexpire(accountKey, windowMs);
  if (ipTtl! < 0 || ipCount === maxFailuresPerIp + 1) expire.pexpire(ipKey, windowMs);
  await expire.exec();
  const retryAfter = (ttl: number) => Math.max(1, Math.ceil((ttl < 0 ? windowMs : ttl) / 1000));
  if (accountCount! > maxFailures) {
    throw new TooManyAttemptsError("account", retryAfter(accountCount === maxFailures + 1 ? windowMs : accountTtl!));
  }
  if (ipCount! > maxFailuresPerIp) {
    throw new TooManyAttemptsError("address", retryAfter(ipCount === maxFailuresPerIp + 1 ? windowMs : ipTtl!));
  }
  let settled = false;
  return {
    succeeded: async () => {
      if (settled) return;
      settled = true;
      // A success resets the account's count and takes this attempt off the address's.
      await deps.redis.multi().del(accountKey).decr(ipKey).exec();
    },
  };
}
