import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

import type { Hex } from "viem";

/**
 * Custodial private keys at rest: AES-256-GCM under the key-encryption key, with the wallet id
 * as associated data, so a ciphertext copied onto another wallet's row fails to decrypt.
 * Stored as base64 of iv (12) ‖ tag (16) ‖ ciphertext.
 */
export function encryptPrivateKey(kek: Buffer, walletId: string, privateKey: Hex): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kek, iv);
  cipher.setAAD(Buffer.from(walletId));
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(privateKey.slice(2), "hex")), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64");
}

/**
 * Reverses {@link encryptPrivateKey}.
 * @throws when the key-encryption key, the wallet id or the ciphertext does not match
 */
export function decryptPrivateKey(kek: Buffer, walletId: string, stored: string): Hex {
  const raw = Buffer.from(stored, "base64");
  const decipher = createDecipheriv("aes-256-gcm", kek, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(walletId));
  decipher.setAuthTag(raw.subarray(12, 28));
  const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  return `0x${plain.toString("hex")}`;
}
