/**
 * The one signing seam. Everything that signs — a custodial wallet's EIP-3009 authorizations, the
 * relayer's transactions — holds a {@link Signer}: an address and the two operations, never a key.
 * Implementations, the only code that ever sees key material:
 * - `private-key-signer.ts`: a key from configuration (the relayer keys, local tools);
 * - `encrypted-key-signer.ts`: a custodial wallet's key, AES-256-GCM encrypted at rest and
 *   decrypted only for the duration of one signature.
 * A KMS or HSM signer is a third implementation of the same type (see CustodialKeys): callers do
 * not change.
 */
import type { LocalAccount } from "viem";

/** Signs EIP-712 typed data and transactions for one address; viem's account methods, nothing more. */
export type Signer = Pick<LocalAccount, "address" | "signTypedData" | "signTransaction">;
