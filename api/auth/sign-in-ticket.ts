/**
 * Sign-in tickets: what a correct password earns a user with a second factor — a 5-minute,
 * single-use proof that the first factor passed, allowing 5 wrong second-factor answers. Kept in
 * Redis (shared by every API process) under the ticket's SHA-256; the ticket itself is shown once.
 */
import { randomBytes } from "node:crypto";

import type { Redis } from "ioredis";

import { AuthenticationError } from "../errors/api-errors.ts";
import { hashCredential } from "./credentials.ts";

export const SIGN_IN_TICKET_TTL_SECONDS = 300;
export const SIGN_IN_TICKET_MAX_WRONG = 5;

type Deps = { redis: Redis; redisPrefix: string };

/** What a ticket remembers of the sign-in it continues. */
export type SignInTicketState = { userId: string; deviceHash: string; passkeyChallenge: string | null };

const keyOf = (deps: Deps, ticket: string) => `${deps.redisPrefix}:sign-in-ticket:${hashCredential(ticket)}`;

const invalid = () =>
  new AuthenticationError(
    "SIGN_IN_TICKET_INVALID",
    "The sign-in ticket is unknown, expired, used or out of attempts: sign in with your password again",
  );

/** Issues a ticket. @returns the ticket (shown once) and when it expires */
export async function issueSignInTicket(deps: Deps, state: SignInTicketState) {
  const ticket = `sr_ticket_${randomBytes(32).toString("base64url")}`;
  const key = keyOf(deps, ticket);
  await deps.redis
    .multi()
    .hset(key, {
      userId: state.userId,
      deviceHash: state.deviceHash,
      passkeyChallenge: state.passkeyChallenge ?? "",
      wrong: 0,
    })
    .expire(key, SIGN_IN_TICKET_TTL_SECONDS)
    .exec();
  return { ticket, expiresAt: new Date(Date.now() + SIGN_IN_TICKET_TTL_SECONDS * 1000) };
}

/** Reads a live ticket. @throws SIGN_IN_TICKET_INVALID */
export async function readSignInTicket(deps: Deps, ticket: string): Promise<SignInTicketState> {
  const fields = await deps.redis.hgetall(keyOf(deps, ticket));
  if (!fields.userId || Number(fields.wrong) >= SIGN_IN_TICKET_MAX_WRONG) throw invalid();
  return {
    userId: fields.userId,
    deviceHash: fields.deviceHash ?? "",
    passkeyChallenge: fields.passkeyChallenge || null,
  };
}

/** Counts a wrong answer; the fifth ends the ticket. */
export async function countWrongAnswer(deps: Deps, ticket: string): Promise<void> {
  const key = keyOf(deps, ticket);
  const [[, wrong], [, ttl]] = ((await deps.redis.multi().hincrby(key, "wrong", 1).ttl(key).exec()) ?? []) as [
    [unknown, number],
    [unknown, number],
  ];
  // No TTL: the ticket had just gone and HINCRBY made a stray hash; remove it with the exhausted ones.
  if (wrong >= SIGN_IN_TICKET_MAX_WRONG || ttl < 0) await deps.redis.del(key);
}

/**
 * Uses the ticket up. Only one of two concurrent right answers gets a session: the other finds it
 * gone. @throws SIGN_IN_TICKET_INVALID when it was already used
 */
export async function consumeSignInTicket(deps: Deps, ticket: string): Promise<void> {
  if ((await deps.redis.del(keyOf(deps, ticket))) !== 1) throw invalid();
}
