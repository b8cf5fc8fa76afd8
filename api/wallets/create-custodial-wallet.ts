import { randomUUID } from "node:crypto";

import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import type { Database } from "../../lib/db/database.ts";
import { wallets } from "../db/schema.ts";
import { encryptPrivateKey } from "./key-encryption.ts";

/**
 * Creates a custodial wallet: the key is generated here, encrypted at once and only the
 * ciphertext is stored; the plaintext never leaves this function.
 */
export async function createCustodialWallet(database: Database, kek: Buffer, userId: string) {
  const id = randomUUID();
  const privateKey = generatePrivateKey();
  const address = privateKeyToAccount(privateKey).address;
  const [row] = await database.db
    .insert(wallets)
    .values({ id, userId, kind: "custodial", address, encryptedKey: encryptPrivateKey(kek, id, privateKey) })
    .returning();
  return row!;
}
