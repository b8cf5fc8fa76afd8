/**
 * Sign-In with Ethereum (EIP-4361): a wallet proves it controls an address by signing a readable
 * message naming the site, a nonce and a validity window. Parsing and the signature check (EOA, or
 * ERC-1271 through the chain for contract wallets) live here; issuing and consuming nonces is the
 * API's (api/auth/sign-in-with-ethereum.ts).
 */
import { getAddress, type Address, type Hex, type PublicClient } from "viem";
import { parseSiweMessage, verifySiweMessage } from "viem/siwe";

/** The address and nonce a SIWE message names, or undefined when it is not one. */
export function readSiweMessage(message: string): { address: Address; nonce: string } | undefined {
  const parsed = parseSiweMessage(message);
  if (!parsed.address || !parsed.nonce) return undefined;
  return { address: getAddress(parsed.address), nonce: parsed.nonce };
}

/**
 * Whether `signature` is the named address's signature of `message`, for `domain` and `nonce`,
 * within the message's validity window.
 */
export function verifySiweSignature(
  client: PublicClient,
  p: { message: string; signature: Hex; domain: string; nonce: string },
): Promise<boolean> {
  return verifySiweMessage(client, p);
}
