import { and, eq, isNull } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { NotFoundError } from "../../lib/errors/base.ts";
import { apiKeys, apiSessions } from "../db/schema.ts";
import type { Principal } from "./principal.ts";

/**
 * Revokes one of `principal`'s own API keys and every session made from it. The sessions stop at
 * once anyway — a session authenticates only while its parent key is active (plugins/auth.ts) —
 * and are marked revoked too, so the session list says so.
 * @throws NotFoundError NOT_FOUND for a key that is not the principal's, or already revoked
 */
export async function revokeApiKey(database: Database, principal: Principal, keyId: string): Promise<void> {
  const now = new Date();
  const rows = await database.db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, principal.userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (rows.length === 0) throw new NotFoundError("NOT_FOUND", "No such API key");
  await database.db
    .update(apiSessions)
    .set({ revokedAt: now })
    .where(and(eq(apiSessions.parentKeyId, keyId), isNull(apiSessions.revokedAt)));
}
