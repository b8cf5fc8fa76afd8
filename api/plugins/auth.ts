/**
 * Authentication: `Authorization: Bearer <credential>` where the credential is an API key
 * (`sr_key_…`) or a session token (`sr_sess_…`); both are looked up by their SHA-256 on every
 * request — nothing is cached, so a revocation is seen at once by every API process. A session
 * authenticates only while it is unexpired, unrevoked and (for a session made from an API key)
 * while its parent key is active.
 *
 * This plugin only identifies the caller (`request.principal`, or `request.credentialRejected`);
 * the rate limiter runs next (so failed authentications and every other request are counted), then
 * the access plugin answers 401/403 (plugins/access.ts).
 */
import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { alias } from "drizzle-orm/pg-core";

import { preparedOnce } from "../../lib/db/prepared.ts";
import type { Role } from "../auth/credentials.ts";
import { hashCredential } from "../auth/credentials.ts";
import type { Principal } from "../auth/principal.ts";
import { apiKeys, apiSessions, apiUsers } from "../db/schema.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | undefined;
    /** A credential was sent but is unknown, revoked, expired or malformed. */
    credentialRejected: boolean;
  }
  interface FastifyContextConfig {
    /** Roles allowed to call the route; absent = public (health, docs, SIWE nonce). */
    roles?: readonly Role[];
    /** The route moves money: an Idempotency-Key is required and honoured. */
    idempotent?: boolean;
    /** A frozen principal may still call this write (revoking its own credentials). */
    allowFrozen?: boolean;
  }
}

const parentKeys = alias(apiKeys, "parent_keys");

// Every authenticated request runs one of these: built once (lib/db/prepared.ts).
const principalOfApiKey = preparedOnce((db) =>
  db
    .select({ id: apiKeys.id, userId: apiKeys.userId, role: apiUsers.role, frozen: apiUsers.frozen })
    .from(apiKeys)
    .innerJoin(apiUsers, eq(apiUsers.id, apiKeys.userId))
    .where(and(eq(apiKeys.keyHash, sql.placeholder("hash")), isNull(apiKeys.revokedAt))),
);

const principalOfSession = preparedOnce((db) =>
  db
    .select({
      id: apiSessions.id,
      userId: apiSessions.userId,
      parentKeyId: apiSessions.parentKeyId,
      role: apiUsers.role,
      frozen: apiUsers.frozen,
    })
    .from(apiSessions)
    .innerJoin(apiUsers, eq(apiUsers.id, apiSessions.userId))
    .leftJoin(parentKeys, eq(parentKeys.id, apiSessions.parentKeyId))
    .where(
      and(
        eq(apiSessions.tokenHash, sql.placeholder("hash")),
        gt(apiSessions.expiresAt, sql.placeholder("now")),
        isNull(apiSessions.revokedAt),
        // A key's session lives while its key does; a SIWE session has no parent key.
        or(
          isNull(apiSessions.parentKeyId),
          and(eq(parentKeys.userId, apiSessions.userId), isNull(parentKeys.revokedAt)),
        ),
      ),
    ),
);

/**
 * The principal a credential authenticates, or undefined.
 * @param database - the API's database
 * @param credential - the bearer token as sent
 */
export async function resolvePrincipal(app: FastifyInstance, credential: string): Promise<Principal | undefined> {
  const hash = hashCredential(credential);
  const db = app.database.db;
  if (credential.startsWith("sr_key_")) {
    const [row] = await principalOfApiKey(db).execute({ hash });
    return row
      ? { userId: row.userId, role: row.role as Role, credentialId: row.id, via: "api_key", frozen: row.frozen }
      : undefined;
  }
  if (credential.startsWith("sr_sess_")) {
    const [row] = await principalOfSession(db).execute({ hash, now: new Date().toISOString() });
    return row
      ? {
          userId: row.userId,
          role: row.role as Role,
          credentialId: row.id,
          via: "session",
          parentKeyId: row.parentKeyId ?? undefined,
          frozen: row.frozen,
        }
      : undefined;
  }
  return undefined;
}

/** Bearer credentials are short ASCII tokens; anything else is refused without a lookup. */
const BEARER = /^Bearer ([A-Za-z0-9_-]{1,200})$/i;

export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest("principal", undefined);
    app.decorateRequest("credentialRejected", false);
    app.addHook("onRequest", async (request) => {
      const header = request.headers.authorization;
      if (header === undefined) return;
      const match = BEARER.exec(header);
      const principal = match ? await resolvePrincipal(app, match[1]!) : undefined;
      if (principal) request.principal = principal;
      else request.credentialRejected = true;
    });
  },
  { name: "auth", dependencies: ["db", "errors"] },
);
