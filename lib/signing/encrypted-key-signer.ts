import { randomUUID } from "node:crypto";

import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { decryptPrivateKey, encryptPrivateKey } from "./key-encryption.ts";
import type { Signer } from "./signer.ts";

/** A custodial wallet's key as the API stores it: the wallet's id and address, and the key material. */
export type StoredCustodialKey = { walletId: string; address: Address; keyMaterial: string };

/**
 * Where custodial keys live. The API creates and uses wallet keys only through this: the
 * encrypted-key implementation below keeps an AES-256-GCM ciphertext in the wallet's row; a KMS or
 * HSM implementation would keep a key reference there and sign remotely, with no caller changing.
 */
export type CustodialKeys = {
  /** Generates the key of a new wallet; returns its address and the material to store (never the key). */
  generate(walletId?: string): { walletId: string; address: Address; keyMaterial: string };
  /** The signer of a stored wallet key. */
  signer(key: StoredCustodialKey): Signer;
};

/**
 * Custodial keys encrypted under the key-encryption key (API_KEY_ENCRYPTION_KEY), with the wallet id
 * as associated data: the one place that decrypts a wallet key, for one signature at a time (the
 * plaintext is not kept between signatures, and a signature whose derived address differs from the
 * stored one is refused).
 * @param keyEncryptionKey - 32 bytes
 */
export function encryptedKeyCustody(keyEncryptionKey: Buffer): CustodialKeys {
  const accountOf = (key: StoredCustodialKey) => {
    const account = privateKeyToAccount(decryptPrivateKey(keyEncryptionKey, key.walletId, key.keyMaterial));
    if (account.address !== key.address)
      throw new Error(`the stored key of wallet ${key.walletId} is not its address's`);
    return account;
  };
  return {
    generate(walletId = randomUUID()) {
      const privateKey = generatePrivateKey();
      return {
        walletId,
        address: privateKeyToAccount(privateKey).address,
        keyMaterial: encryptPrivateKey(keyEncryptionKey, walletId, privateKey),
      };
    },
    signer(key) {
      return {
        address: key.address,
        // async: a key that does not decrypt rejects the signature instead of throwing at the caller.
        signTypedData: async (typedData) => accountOf(key).signTypedData(typedData),
        signTransaction: async (transaction, options) => accountOf(key).signTransaction(transaction, options),
      };
    },
  };
}
