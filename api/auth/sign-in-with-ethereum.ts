/**
 * Sign-In with Ethereum nonces and verification for the API's two SIWE routes (sign-in, and
 * self-custody wallet registration).
 *
 * A nonce is 128 bits from the CSPRNG (`crypto.randomBytes`), kept in Redis for five minutes,
 * bound to whoever asked for it — the principal, when the request carried a credential, else the
 * client address — and consumed only by a valid signature of a message that passes every check: a
 * caller who learns or guesses a nonce can neither use nor burn it. The message must name the
 * configured origin (API_PUBLIC_ORIGIN: its host as domain, a URI on it), the chain's id, and an
 * issuedAt within the nonce's lifetime (lib/signing/sign-in-with-ethereum.ts checks the fields).
 */
import { randomBytes } from "node:crypto";

import type { Redis } from "ioredis";
import type { Address, Hex, PublicClient } from "viem";
import { z } from "zod";

import { UnavailableError } from "../../lib/errors/base.ts";
import {
  readSiweMessage,
  siweDomainOf,
  siweMessageProblem,
  verifySiweSignature,
} from "../../lib/signing/sign-in-with-ethereum.ts";
import { AuthenticationError } from "../errors/api-errors.ts";
import { isRedisUnavailable } from "../errors/dependency-errors.ts";
import { signatureInput } from "../schemas/common.ts";
import type { Principal } from "./principal.ts";

/** A server nonce is valid for this long and only once. */
export const SIWE_NONCE_TTL_SECONDS = 300;
/** Clock difference tolerated between a wallet and the API when judging issuedAt / notBefore. */
const CLOCK_SKEW_SECONDS = 60;

/** Who a nonce is bound to: the principal that asked for it, or the client address of an anonymous caller. */
export function siweRequesterOf(request: { principal: Principal | undefined; ip: string }): string {
  return request.principal ? `user:${request.principal.userId}` : `ip:${request.ip}`;
}

type SiweServices = {
  publicClient: PublicClient;
  redis: Redis;
  redisPrefix: string;
  chainId: number;
  settings: { publicOrigin: string };
};

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isRedisUnavailable(error))
      throw new UnavailableError("REDIS_UNAVAILABLE", "Redis is unavailable; retry later", { cause: error });
    throw error;
  }
}

const nonceKey = (prefix: string, nonce: string) => `${prefix}:siwe:${nonce}`;

/**
 * Issues a single-use nonce bound to `requester`, and what the message must name.
 * @returns the nonce and the domain, URI and chain id to put in the message, and when the nonce expires
 */
export async function issueSiweNonce(services: SiweServices, requester: string) {
  const nonce = randomBytes(16).toString("hex");
  const issuedAt = new Date();
  await guarded(() =>
    services.redis.set(nonceKey(services.redisPrefix, nonce), requester, "EX", SIWE_NONCE_TTL_SECONDS),
  );
  return {
    nonce,
    domain: siweDomainOf(services.settings.publicOrigin),
    uri: services.settings.publicOrigin,
    chainId: services.chainId,
    version: "1" as const,
    issuedAt,
    expiresAt: new Date(issuedAt.getTime() + SIWE_NONCE_TTL_SECONDS * 1000),
  };
}

/** The body of every route that takes a Sign-In with Ethereum proof. */
export const siweBody = z.object({ message: z.string().min(1).max(4000), signature: signatureInput }).strict();

/**
 * Verifies a SIWE sign-in by `requester`, in this order, consuming the nonce only at the end:
 * the message's fields (SIWE_MESSAGE_INVALID with the reason), the nonce — issued by us, unexpired,
 * to this requester (SIWE_NONCE_INVALID) — the signature (SIWE_MESSAGE_INVALID), then the nonce is
 * deleted; a concurrent use of the same nonce loses that race (SIWE_NONCE_INVALID).
 * @returns the checksummed address that signed in
 */
export async function verifySiweSignIn(
  services: SiweServices,
  requester: string,
  { message, signature }: { message: string; signature: Hex },
): Promise<Address> {
  const parsed = readSiweMessage(message);
  if (!parsed) throw new AuthenticationError("SIWE_MESSAGE_INVALID", "Not a Sign-In with Ethereum message");
  const problem = siweMessageProblem(parsed.fields, {
    origin: services.settings.publicOrigin,
    chainId: services.chainId,
    now: new Date(),
    maxAgeSeconds: SIWE_NONCE_TTL_SECONDS,
    clockSkewSeconds: CLOCK_SKEW_SECONDS,
  });
  if (problem) {
    throw new AuthenticationError("SIWE_MESSAGE_INVALID", `The Sign-In with Ethereum message is refused: ${problem}`, {
      details: { reason: problem },
    });
  }
  const key = nonceKey(services.redisPrefix, parsed.nonce);
  const boundTo = await guarded(() => services.redis.get(key));
  if (boundTo !== requester) {
    throw new AuthenticationError(
      "SIWE_NONCE_INVALID",
      "The nonce is unknown, expired, already used or was issued to another caller; GET a new one",
    );
  }
  if (!(await verifySiweSignature(services.publicClient, { message, signature, address: parsed.address }))) {
    throw new AuthenticationError("SIWE_MESSAGE_INVALID", "The signature does not match the message's address");
  }
  if ((await guarded(() => services.redis.del(key))) !== 1) {
    throw new AuthenticationError("SIWE_NONCE_INVALID", "The nonce was just used by another request; GET a new one");
  }
  return parsed.address;
}
