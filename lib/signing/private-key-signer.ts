import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import type { Signer } from "./signer.ts";

/**
 * A {@link Signer} over a private key from configuration (RELAYER_PRIVATE_KEYS,
 * RELAYER_OPERATOR_PRIVATE_KEY). The key stays inside the returned closure: holders see only the
 * address and the two signing operations.
 */
export function privateKeySigner(privateKey: Hex): Signer {
  const account = privateKeyToAccount(privateKey);
  return {
    address: account.address,
    signTypedData: (typedData) => account.signTypedData(typedData),
    signTransaction: (transaction, options) => account.signTransaction(transaction, options),
  };
}
