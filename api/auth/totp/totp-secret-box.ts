import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * TOTP seeds at rest: AES-256-GCM with the user id as associated data (a ciphertext copied onto
 * another user's row fails to decrypt), stored as base64 of iv (12) ‖ tag (16) ‖ ciphertext.
 * The key is derived from the key-encryption key (HKDF, its own label), so a seed and a wallet key
 * are never encrypted under the same key.
 */
export type TotpSecretBox = {
  seal: (userId: string, secret: string) => string;
  open: (userId: string, stored: string) => string;
};

/** Derives the TOTP seed key from the API's key-encryption key. */
export function totpKeyFrom(keyEncryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", keyEncryptionKey, Buffer.alloc(0), "stablerail totp seeds v1", 32));
}

/**
 * A process without a configured key (a test building the app alone) gets a random one: its
 * factors cannot be read by another process. server.ts always passes the derived key.
 */
const processKey = randomBytes(32);

/** The seal/open pair under `key` (32 bytes), or the process key when none is given. */
export function totpSecretBox(key: Buffer | undefined): TotpSecretBox {
  const k = key ?? processKey;
  return {
    seal(userId, secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", k, iv);
      cipher.setAAD(Buffer.from(userId));
      const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64");
    },
    open(userId, stored) {
      const raw = Buffer.from(stored, "base64");
      const decipher = createDecipheriv("aes-256-gcm", k, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(userId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    },
  };
}
