/**
 * Authentication: `Authorization: Bearer <credential>` where the credential is an API key
 * (`sr_key_…`) or a session token (`sr_sess_…`); both are looked up by their SHA-256.
 * Routes declare who may call them with `config: { roles: [...] }` (checked here, for every
 * route); ownership of the resource is then checked by the route through `assertOwner`.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

import { NotFoundError } from "../../lib/errors/base.ts";
import type { Role } from "../auth/credentials.ts";
import { hashCredential } from "../auth/credentials.ts";
import { readsEverything, type Principal } from "../auth/principal.ts";
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

/**
 * Throws unless the principal owns the resource or is staff allowed to see it. A stranger gets
 * 404 (not 403) so resource ids cannot be probed.
 */
export function assertOwner(request: FastifyRequest, ownerUserId: string, { write = false } = {}): void {
  const principal = request.principal;
  if (!principal)
    throw new AuthenticationError("UNAUTHENTICATED", "Send Authorization: Bearer <API key or session token>");
  if (principal.userId === ownerUserId) return;
  if (!write && readsEverything(principal.role)) return;
  if (write && (principal.role === "admin" || principal.role === "operator")) {
    throw new PermissionError("FORBIDDEN", "Staff may not move a user's funds; the owner must");
  }
  throw new NotFoundError("NOT_FOUND", "No such resource");
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
