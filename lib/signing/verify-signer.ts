import { getAddress, type Address, type Hex, type RecoverTypedDataAddressParameters } from "viem";

import { StablerailError, ValidationError } from "../errors/base.ts";
import { recoverSigner } from "./secp256k1.ts";
import { typedDataDigest } from "./typed-data-digest.ts";

/**
 * The one signer check of every typed-data signature a service verifies: `signature` is
 * `expected`'s EIP-712 signature of exactly `typedData` — the message the service rebuilt itself
 * (current nonces, the window the wallet signed), so a stale or altered message recovers another
 * address. ECDSA only (EOAs, and EIP-7702-delegated EOAs signing with their key), under the
 * contracts' rule (v 27 or 28, low s: see `recoverSigner`), so what passes here passes on chain.
 * @param what - what was signed, for the messages ("typed data", "forward request")
 * @throws ValidationError SIGNATURE_INVALID (not a signature), StablerailError SIGNER_MISMATCH (another key or message)
 */
export async function assertSignedBy(
  typedData: Omit<RecoverTypedDataAddressParameters, "signature">,
  signature: Hex,
  expected: Address,
  what: string,
): Promise<void> {
  let signer: ReturnType<typeof recoverSigner>;
  try {
    signer = recoverSigner(typedDataDigest(typedData as Parameters<typeof typedDataDigest>[0]), signature);
  } catch (error) {
    // The typed data itself cannot be hashed (an address, an integer out of its type's range).
    throw new ValidationError("SIGNATURE_INVALID", `The ${what} cannot be hashed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof signer !== "string")
    throw new ValidationError(
      "SIGNATURE_INVALID",
      `The signature is not a valid 65-byte ECDSA signature of the ${what}: ${signer.reason}`,
    );
  if (signer !== expected.toLowerCase()) {
    throw new StablerailError(
      "SIGNER_MISMATCH",
      `The ${what} was not signed by the wallet ${getAddress(expected)} (another key, or stale typed data: sign exactly what GET …/typed-data returned)`,
      { details: { expected: getAddress(expected), recovered: getAddress(signer) } },
    );
  }
}
