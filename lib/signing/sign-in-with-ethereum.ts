/**
 * Sign-In with Ethereum (EIP-4361): a wallet proves it controls an address by signing a readable
 * message naming the site, a nonce and a validity window. Parsing, the check of every field against
 * what the relying party expects (pure: {@link siweMessageProblem}) and the signature check (EOA, or
 * ERC-1271 / ERC-6492 through the chain for contract wallets) live here; issuing and consuming nonces
 * is the API's (api/auth/sign-in-with-ethereum.ts).
 */
import {
  BaseError,
  getAddress,
  HttpRequestError,
  isAddress,
  TimeoutError,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { parseSiweMessage } from "viem/siwe";

/** The fields of a SIWE message as parsed (any may be missing or malformed in a hostile message). */
export type ParsedSiweMessage = ReturnType<typeof parseSiweMessage>;

/** What the relying party expects of every message it accepts. */
export type SiweExpectations = {
  /** The origin users reach the service at, e.g. `https://wallet.example.com` (API_PUBLIC_ORIGIN). */
  origin: string;
  chainId: number;
  now: Date;
  /** How old `issuedAt` may be (the nonce's lifetime), in seconds. */
  maxAgeSeconds: number;
  /** Clock difference tolerated between the signer and us, in seconds. */
  clockSkewSeconds: number;
};

/** The `domain` a message must name for `origin`: its RFC 3986 authority (host, and port if any). */
export const siweDomainOf = (origin: string) => new URL(origin).host;

/** The address and nonce a SIWE message names, and its fields, or undefined when it is not one. */
export function readSiweMessage(
  message: string,
): { address: Address; nonce: string; fields: ParsedSiweMessage } | undefined {
  const fields = parseSiweMessage(message);
  if (!fields.address || !isAddress(fields.address, { strict: false }) || !fields.nonce) return undefined;
  return { address: getAddress(fields.address), nonce: fields.nonce, fields };
}

const validDate = (date: Date | undefined): date is Date => date instanceof Date && !Number.isNaN(date.getTime());

/**
 * Why a parsed message is not one the relying party accepts, or undefined when every field holds:
 * version 1; domain = the origin's authority; URI on the origin; scheme (if given) the origin's;
 * chain id; `issuedAt` present, not in the future and not older than `maxAgeSeconds`;
 * `expirationTime` (if given) still ahead; `notBefore` (if given) reached. Pure.
 * @example siweMessageProblem(readSiweMessage(text)!.fields, { origin: "https://app.example", chainId: 1, now: new Date(), maxAgeSeconds: 300, clockSkewSeconds: 60 })
 */
export function siweMessageProblem(fields: ParsedSiweMessage, expected: SiweExpectations): string | undefined {
  const origin = new URL(expected.origin);
  const skew = expected.clockSkewSeconds * 1000;
  const now = expected.now.getTime();
  if (fields.version !== "1") return "version must be 1";
  if (fields.domain !== origin.host) return `domain must be ${origin.host}`;
  if (fields.scheme !== undefined && `${fields.scheme}:` !== origin.protocol)
    return `scheme must be ${origin.protocol.replace(":", "")}`;
  if (!fields.uri || !URL.canParse(fields.uri) || new URL(fields.uri).origin !== origin.origin)
    return `uri must be on ${origin.origin}`;
  if (fields.chainId !== expected.chainId) return `chain id must be ${expected.chainId}`;
  if (!validDate(fields.issuedAt)) return "issuedAt is required (RFC 3339)";
  if (fields.issuedAt.getTime() > now + skew) return "issuedAt is in the future";
  if (fields.issuedAt.getTime() < now - expected.maxAgeSeconds * 1000 - skew)
    return `issuedAt is older than ${expected.maxAgeSeconds} seconds`;
  if (fields.expirationTime !== undefined) {
    if (!validDate(fields.expirationTime)) return "expirationTime is malformed";
    if (fields.expirationTime.getTime() <= now) return "the message has expired";
  }
  if (fields.notBefore !== undefined) {
    if (!validDate(fields.notBefore)) return "notBefore is malformed";
    if (fields.notBefore.getTime() > now + skew) return "the message is not valid yet (notBefore)";
  }
  return undefined;
}

/**
 * Whether `signature` is `address`'s EIP-191 signature of `message` — an EOA's, or a contract
 * wallet's through ERC-1271 (or ERC-6492 before deployment) on the chain.
 */
export async function verifySiweSignature(
  client: PublicClient,
  p: { message: string; signature: Hex; address: Address },
): Promise<boolean> {
  try {
    return await client.verifyMessage({ address: p.address, message: p.message, signature: p.signature });
  } catch (error) {
    // The chain not answering (a contract wallet's check) is an outage, not a bad signature.
    if (error instanceof BaseError && error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError))
      throw error;
    // A malformed signature (not a point on the curve, a bad recovery byte) is simply not a match.
    return false;
  }
}
