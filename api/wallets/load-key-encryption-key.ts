import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import type { Logger } from "../../lib/logging/logger.ts";

/**
 * The key-encryption key for custodial wallets: from configuration (API_KEY_ENCRYPTION_KEY), or —
 * for the local stack only — generated once into DATA_DIR/api-kek.hex (mode 0600) and logged as such.
 */
export async function loadKeyEncryptionKey(
  configured: Buffer | undefined,
  dataDir: string,
  logger: Logger,
): Promise<Buffer> {
  if (configured) return configured;
  const path = join(dataDir, "api-kek.hex");
  try {
    return Buffer.from((await readFile(path, "utf8")).trim(), "hex");
  } catch {
    await mkdir(dataDir, { recursive: true });
    const key = randomBytes(32);
    await writeFile(path, key.toString("hex"), { mode: 0o600, flag: "wx" });
    logger.warn(
      { path },
      "API_KEY_ENCRYPTION_KEY is unset: generated a key-encryption key for custodial wallets (local use only; set it in production)",
    );
    return key;
  }
}
