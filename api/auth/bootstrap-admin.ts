import { randomUUID } from "node:crypto";

import { and, eq, isNull } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { apiKeys, apiUsers } from "../db/schema.ts";
import { generateApiKey, hashCredential } from "./credentials.ts";

/**
 * Makes sure an admin can log in on a fresh install: the configured bootstrap key is stored
 * (hashed) for an "admin" principal; without one, and with no admin key yet, a key is generated
 * and printed once — the only time it is ever shown.
 * @returns the generated key when one was printed (for `npm start` to show), else undefined
 */
export async function ensureBootstrapAdmin(
  database: Database,
  logger: Logger,
  configuredKey: string | undefined,
): Promise<string | undefined> {
  const adminKeys = await database.db
    .select({ id: apiKeys.id, keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(and(eq(apiKeys.role, "admin"), isNull(apiKeys.revokedAt)));
  if (configuredKey && adminKeys.some((key) => key.keyHash === hashCredential(configuredKey))) return undefined;
  if (!configuredKey && adminKeys.length > 0) return undefined;
  const key = configuredKey ?? generateApiKey();
  const userId = randomUUID();
  await database.db.insert(apiUsers).values({ id: userId, role: "admin", name: "bootstrap admin" });
  await database.db
    .insert(apiKeys)
    .values({ id: randomUUID(), userId, keyHash: hashCredential(key), prefix: key.slice(0, 12), role: "admin" });
  if (configuredKey) {
    logger.info("bootstrap admin key from API_BOOTSTRAP_ADMIN_KEY registered");
    return undefined;
  }
  // Printed once on purpose: it is the newcomer's way in. Only the hash is stored.
  logger.warn(
    { bootstrapAdminKey: key },
    "generated a bootstrap admin API key; it is shown only now — store it (or set API_BOOTSTRAP_ADMIN_KEY)",
  );
  return key;
}
