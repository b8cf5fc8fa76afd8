import { randomBytes, randomUUID } from "node:crypto";

import { expect } from "chai";
import { generatePrivateKey } from "viem/accounts";

import { ensureBootstrapAdmin } from "../../api/auth/bootstrap-admin.ts";
import { apiMigrations } from "../../api/db/migration-set.ts";
import { decryptPrivateKey, encryptPrivateKey } from "../../lib/signing/key-encryption.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { createTestDatabase } from "../helpers/database.ts";

describe("Custodial key encryption (AES-256-GCM, wallet id as associated data)", () => {
  const kek = randomBytes(32);
  const walletId = randomUUID();
  const privateKey = generatePrivateKey();

  it("round-trips a key and never stores it in the clear", () => {
    const stored = encryptPrivateKey(kek, walletId, privateKey);
    expect(Buffer.from(stored, "base64").toString("hex")).to.not.include(privateKey.slice(2));
    expect(decryptPrivateKey(kek, walletId, stored)).to.equal(privateKey);
  });

  it("refuses to decrypt under another wallet id, another key-encryption key, or a tampered ciphertext", () => {
    const stored = encryptPrivateKey(kek, walletId, privateKey);
    expect(() => decryptPrivateKey(kek, randomUUID(), stored)).to.throw();
    expect(() => decryptPrivateKey(randomBytes(32), walletId, stored)).to.throw();
    const raw = Buffer.from(stored, "base64");
    raw[raw.length - 1]! ^= 1;
    expect(() => decryptPrivateKey(kek, walletId, raw.toString("base64"))).to.throw();
  });
});

describe("ensureBootstrapAdmin", () => {
  it("generates and returns an admin key once, then never again; a configured key is registered hashed", async () => {
    const database = await createTestDatabase("pglite", "api_bootstrap");
    try {
      await runMigrations(database, [apiMigrations]);
      const logger = createLogger({ name: "api", level: "silent", format: "json" });
      const generated = await ensureBootstrapAdmin(database, logger, undefined);
      expect(generated).to.match(/^sr_key_/);
      expect(await ensureBootstrapAdmin(database, logger, undefined)).to.equal(undefined);
      const configured = `sr_key_${"b".repeat(43)}`;
      expect(await ensureBootstrapAdmin(database, logger, configured)).to.equal(undefined);
      const rows = await database.query<{ key_hash: string }>(
        (await import("drizzle-orm")).sql`SELECT key_hash FROM api_keys WHERE role = 'admin'`,
      );
      expect(rows).to.have.length(2);
      expect(rows.map((row) => row.key_hash)).to.not.include(configured);
    } finally {
      await database.drop();
    }
  });
});
