import { randomUUID } from "node:crypto";

import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { decryptPrivateKey, encryptPrivateKey } from "./key-encryption.ts";
import { signTransactionWithKey, signTypedDataWithKey } from "./secp256k1.ts";
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

// Proofs are a few hundred bytes each; past this many wallets a process starts proving again.
const MAX_PROVED = 100_000;

/**
 * Custodial keys encrypted under the key-encryption key (API_KEY_ENCRYPTION_KEY), with the wallet id
 * as associated data: the one place that decrypts a wallet key, for one signature at a time (the
 * plaintext is not kept between signatures, and a signature whose derived address differs from the
 * stored one is refused).
 * @param keyEncryptionKey - 32 bytes
 */
export function encryptedKeyCustody(keyEncryptionKey: Buffer): CustodialKeys {
  // Stored keys already proved to be their wallet's address (wallet id, material, address): deriving
  // the public key is an elliptic-curve multiplication, as costly as the signature itself, and the
  // answer cannot change for the same ciphertext under the same key-encryption key. Only this proof
  // is kept, never a key.
  const proved = new Set<string>();
  const privateKeyOf = (key: StoredCustodialKey) => {
    const privateKey = decryptPrivateKey(keyEncryptionKey, key.walletId, key.keyMaterial);
    const proof = `${key.walletId}|${key.address}|${key.keyMaterial}`;
    if (!proved.has(proof)) {
      if (privateKeyToAccount(privateKey).address !== key.address)
        throw new Error(`the stored key of wallet ${key.walletId} is not its address's`);
      if (proved.size >= MAX_PROVED) proved.clear();
      proved.add(proof);
    }
    return privateKey;
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
        signTypedData: async (typedData) => signTypedDataWithKey(privateKeyOf(key), typedData),
        signTransaction: async (transaction, options) =>
          signTransactionWithKey(privateKeyOf(key), transaction, options),
      };
    },
  };
}
