import type { Redis } from "ioredis";
import type { Address, Hex, PublicClient } from "viem";
import { generateSiweNonce } from "viem/siwe";
import { z } from "zod";

import { UnavailableError } from "../../lib/errors/base.ts";
import { readSiweMessage, verifySiweSignature } from "../../lib/signing/sign-in-with-ethereum.ts";
import { AuthenticationError } from "../errors/api-errors.ts";
import { isRedisUnavailable } from "../errors/dependency-errors.ts";
import { signatureInput } from "../schemas/common.ts";

/** A server nonce is valid for this long and only once. */
const NONCE_TTL_SECONDS = 300;

/**
 * Issues a single-use Sign-In with Ethereum nonce (kept in Redis for 5 minutes).
 * @returns the nonce to put in the SIWE message
 */
export async function issueSiweNonce(redis: Redis, prefix: string): Promise<string> {
  const nonce = generateSiweNonce();
  try {
    await redis.set(`${prefix}:siwe:${nonce}`, "1", "EX", NONCE_TTL_SECONDS);
  } catch (error) {
    if (isRedisUnavailable(error))
      throw new UnavailableError("REDIS_UNAVAILABLE", "Redis is unavailable; retry later", { cause: error });
    throw error;
  }
  return nonce;
}

/** What verifying a sign-in needs: the chain (ERC-1271 wallets), Redis (nonces) and the expected domain. */
type SiweServices = {
  publicClient: PublicClient;
  redis: Redis;
  redisPrefix: string;
  settings: { siweDomain: string };
};

/** The body of every route that takes a Sign-In with Ethereum proof. */
export const siweBody = z.object({ message: z.string().min(1).max(4000), signature: signatureInput }).strict();

/**
 * Verifies a SIWE message and its signature (EOA or ERC-1271 through the chain), that it names
 * our domain and a nonce we issued; the nonce is consumed (single use) before the signature is
 * checked, so a replay fails even if the first attempt did.
 * @returns the checksummed address that signed in
 */
export async function verifySiweSignIn(
  { publicClient: client, redis, redisPrefix: prefix, settings }: SiweServices,
  { message, signature }: { message: string; signature: Hex },
): Promise<Address> {
  const domain = settings.siweDomain;
  const parsed = readSiweMessage(message);
  if (!parsed) throw new AuthenticationError("SIWE_MESSAGE_INVALID", "Not a Sign-In with Ethereum message");
  let consumed: number;
  try {
    consumed = await redis.del(`${prefix}:siwe:${parsed.nonce}`);
  } catch (error) {
    if (isRedisUnavailable(error))
      throw new UnavailableError("REDIS_UNAVAILABLE", "Redis is unavailable; retry later", { cause: error });
    throw error;
  }
  if (consumed !== 1)
    throw new AuthenticationError("SIWE_NONCE_INVALID", "The nonce is unknown, expired or already used; GET a new one");
  const valid = await verifySiweSignature(client, { message, signature, domain, nonce: parsed.nonce });
  if (!valid)
    throw new AuthenticationError(
      "SIWE_MESSAGE_INVALID",
      `The message is not for ${domain}, is outside its validity, or the signature does not match its address`,
    );
  return parsed.address;
}
