import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { signTransactionWithKey, signTypedDataWithKey } from "./secp256k1.ts";
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
    signTypedData: (typedData) => signTypedDataWithKey(privateKey, typedData),
    signTransaction: (transaction, options) => signTransactionWithKey(privateKey, transaction, options),
  };
}
