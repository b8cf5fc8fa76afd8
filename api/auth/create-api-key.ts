import { randomUUID } from "node:crypto";

import { and, count, eq, isNull } from "drizzle-orm";

import { apiKeys } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { generateApiKey, hashCredential } from "./credentials.ts";
import { requireFreshAuthentication } from "./fresh-authentication.ts";
import type { Principal } from "./principal.ts";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Creates an API key for `principal` itself, with its role (a key never carries another role), shown
 * once: only its SHA-256 is stored. A key outlives any session, so a session must authenticate afresh
 * (api/auth/fresh-authentication.ts); a principal holds at most API_MAX_API_KEYS_PER_USER active keys.
 * @throws FRESH_AUTHENTICATION_REQUIRED, ConflictError API_KEY_LIMIT_REACHED
 */
export async function createApiKey(
  services: Pick<
    AppServices,
    "database" | "settings" | "freshAuthenticationProofs" | "redis" | "redisPrefix" | "totpSecretKey"
  >,
  input: { principal: Principal; parentCredential?: string | undefined; stepUpToken?: string | undefined },
): Promise<ApiKeyRow & { apiKey: string }> {
  const { principal } = input;
  await requireFreshAuthentication(services, {
    principal,
    action: "create_api_key",
    parentCredential: input.parentCredential,
    stepUpToken: input.stepUpToken,
  });
  const db = services.database.db;
  const [active] = await db
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, principal.userId), isNull(apiKeys.revokedAt)));
  const max = services.settings.maxApiKeysPerUser;
  if ((active?.n ?? 0) >= max) {
    throw new ConflictError(
      "API_KEY_LIMIT_REACHED",
      `You hold ${max} active API keys, the most one principal may; revoke one (DELETE /v1/api-keys/:keyId) first`,
      { details: { max } },
    );
  }
  const apiKey = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: randomUUID(),
      userId: principal.userId,
      keyHash: hashCredential(apiKey),
      prefix: apiKey.slice(0, 12),
      role: principal.role,
    })
    .returning();
  return { ...row!, apiKey };
}
