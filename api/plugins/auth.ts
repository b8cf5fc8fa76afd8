/**
 * Authentication: `Authorization: Bearer <credential>` where the credential is an API key
 * (`sr_key_…`) or a session token (`sr_sess_…`); both are looked up by their SHA-256.
 * Routes declare who may call them with `config: { roles: [...] }` (checked here, for every
 * route); ownership of the resource is then checked by the use case through `assertOwner`
 * (api/auth/access.ts).
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import type { Role } from "../auth/credentials.ts";
import { hashCredential } from "../auth/credentials.ts";
import type { Principal } from "../auth/principal.ts";
import { apiKeys, apiSessions, apiUsers } from "../db/schema.ts";
import { AuthenticationError, PermissionError } from "../errors/api-errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** Roles allowed to call the route; absent = public (health, docs, SIWE nonce). */
    roles?: readonly Role[];
    /** The route moves money: an Idempotency-Key is required and honoured. */
    idempotent?: boolean;
  }
}

async function resolvePrincipal(app: FastifyInstance, credential: string): Promise<Principal | undefined> {
  const hash = hashCredential(credential);
  const db = app.database.db;
  if (credential.startsWith("sr_key_")) {
    const [row] = await db
      .select({ id: apiKeys.id, userId: apiKeys.userId, role: apiKeys.role })
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)));
    return row ? { userId: row.userId, role: row.role as Role, credentialId: row.id, via: "api_key" } : undefined;
  }
  if (credential.startsWith("sr_sess_")) {
    const [row] = await db
      .select({ id: apiSessions.id, userId: apiSessions.userId, role: apiUsers.role })
      .from(apiSessions)
      .innerJoin(apiUsers, eq(apiUsers.id, apiSessions.userId))
      .where(and(eq(apiSessions.tokenHash, hash), gt(apiSessions.expiresAt, new Date())));
    return row ? { userId: row.userId, role: row.role as Role, credentialId: row.id, via: "session" } : undefined;
  }
  return undefined;
}

export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest("principal", undefined);
    app.addHook("onRequest", async (request) => {
      const header = request.headers.authorization;
      if (header) {
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        const principal = match ? await resolvePrincipal(app, match[1]!) : undefined;
        if (!principal)
          throw new AuthenticationError("UNAUTHENTICATED", "The credential is unknown, revoked or expired");
        request.principal = principal;
      }
      const allowed = request.routeOptions.config.roles;
      if (!allowed) return;
      if (!request.principal)
        throw new AuthenticationError("UNAUTHENTICATED", "Send Authorization: Bearer <API key or session token>");
      if (!allowed.includes(request.principal.role)) {
        throw new PermissionError(
          "FORBIDDEN",
          `This route is for ${allowed.join(", ")}; your credential has role ${request.principal.role}`,
        );
      }
    });
  },
  { name: "auth", dependencies: ["db", "errors"] },
);
