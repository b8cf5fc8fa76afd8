import {
  getAddress,
  recoverTypedDataAddress,
  type Address,
  type Hex,
  type RecoverTypedDataAddressParameters,
} from "viem";

import { StablerailError, ValidationError } from "../errors/base.ts";

/**
 * The one signer check of every typed-data signature a service verifies: `signature` is
 * `expected`'s EIP-712 signature of exactly `typedData` — the message the service rebuilt itself
 * (current nonces, the window the wallet signed), so a stale or altered message recovers another
 * address. ECDSA only (EOAs, and EIP-7702-delegated EOAs signing with their key).
 * @param what - what was signed, for the messages ("typed data", "forward request")
 * @throws ValidationError SIGNATURE_INVALID (not a signature), StablerailError SIGNER_MISMATCH (another key or message)
 */
export async function assertSignedBy(
  typedData: Omit<RecoverTypedDataAddressParameters, "signature">,
  signature: Hex,
  expected: Address,
  what: string,
): Promise<void> {
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({ ...typedData, signature } as RecoverTypedDataAddressParameters);
  } catch (error) {
    throw new ValidationError(
      "SIGNATURE_INVALID",
      `The signature is not a valid 65-byte ECDSA signature of the ${what}`,
      {
        cause: error,
      },
    );
  }
  if (getAddress(signer) !== getAddress(expected)) {
    throw new StablerailError(
      "SIGNER_MISMATCH",
      `The ${what} was not signed by the wallet ${getAddress(expected)} (another key, or stale typed data: sign exactly what GET …/typed-data returned)`,
      { details: { expected: getAddress(expected), recovered: getAddress(signer) } },
    );
  }
}
