/**
 * Session use cases: open one (from an API key, or by Sign-In with Ethereum), list and revoke one's
 * own. Tokens are 256 random bits, shown once, stored hashed, expiring after API_SESSION_TTL_SECONDS.
 */
import { randomUUID } from "node:crypto";

import { and, count, desc, eq, gt, isNull, or } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";

import { NotFoundError } from "../../lib/errors/base.ts";
import { apiKeys, apiSessions, apiUsers } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError, PermissionError } from "../errors/api-errors.ts";
import { generateSessionToken, hashCredential } from "./credentials.ts";
import { requireFreshAuthentication } from "./fresh-authentication.ts";
import type { Principal } from "./principal.ts";

/** Active sessions one principal may hold at once (a client that opens one per request is refused, not served). */
export const MAX_ACTIVE_SESSIONS_PER_USER = 100;

export type OpenedSession = { id: string; token: string; expiresAt: Date };
type Services = Pick<AppServices, "database" | "settings">;

const parentKeys = alias(apiKeys, "parent_keys");
/** A session that still authenticates: unexpired, unrevoked, and its parent key (if any) active. */
const activeSession = (userId: string) =>
  and(
    eq(apiSessions.userId, userId),
    gt(apiSessions.expiresAt, new Date()),
    isNull(apiSessions.revokedAt),
    or(isNull(apiSessions.parentKeyId), isNull(parentKeys.revokedAt)),
  );

/** How a session was opened and from where (the session list, the risk rules' new-device check). */
export type SessionOrigin = {
  method: "api_key" | "siwe" | "password" | "passkey";
  ip?: string | undefined;
  userAgent?: string | undefined;
  deviceHash?: string | undefined;
};

async function openSession(
  services: Services,
  row: { userId: string; parentKeyId: string | null; walletId: string | null } & Partial<SessionOrigin>,
): Promise<OpenedSession> {
  const db = services.database.db;
  const [active] = await db
    .select({ n: count() })
    .from(apiSessions)
    .leftJoin(parentKeys, eq(parentKeys.id, apiSessions.parentKeyId))
    .where(activeSession(row.userId));
  if ((active?.n ?? 0) >= MAX_ACTIVE_SESSIONS_PER_USER) {
    throw new ConflictError(
      "SESSION_LIMIT_REACHED",
      `You hold ${MAX_ACTIVE_SESSIONS_PER_USER} active sessions; reuse one, or revoke some (DELETE /v1/auth/sessions/:id)`,
    );
  }
  const token = generateSessionToken();
  const id = randomUUID();
  const expiresAt = new Date(Date.now() + services.settings.sessionTtlSeconds * 1000);
  await db.insert(apiSessions).values({ id, tokenHash: hashCredential(token), expiresAt, ...row });
  return { id, token, expiresAt };
}

/**
 * Exchanges the principal's API key for a session bound to it (revoking the key ends the session).
 * From a session, only with fresh authentication (a new session would otherwise extend it for ever).
 * @throws FRESH_AUTHENTICATION_REQUIRED, SESSION_LIMIT_REACHED
 */
export async function openKeySession(
  services: Services & Pick<AppServices, "freshAuthenticationProofs" | "redis" | "redisPrefix" | "totpSecretKey">,
  input: { principal: Principal; parentCredential?: string | undefined; stepUpToken?: string | undefined },
): Promise<OpenedSession> {
  const { principal } = input;
  const fresh = await requireFreshAuthentication(services, {
    principal,
    action: "create_session",
    parentCredential: input.parentCredential,
    stepUpToken: input.stepUpToken,
  });
  const parentKeyId = fresh.apiKeyId ?? principal.parentKeyId;
  if (!parentKeyId) {
    throw new PermissionError("FRESH_AUTHENTICATION_REQUIRED", "A session must be opened with an API key");
  }
  return openSession(services, { userId: principal.userId, parentKeyId, walletId: null });
}

/**
 * Opens a session for the owner of a self-custody wallet that just signed in with Ethereum.
 * @throws PermissionError ACCOUNT_FROZEN for a frozen owner, SESSION_LIMIT_REACHED
 */
export async function openSiweSession(
  services: Services,
  wallet: { id: string; userId: string },
): Promise<OpenedSession> {
  const [owner] = await services.database.db
    .select({ frozen: apiUsers.frozen })
    .from(apiUsers)
    .where(eq(apiUsers.id, wallet.userId));
  if (!owner || owner.frozen) {
    throw new PermissionError("ACCOUNT_FROZEN", "This account is frozen: it cannot sign in; contact support");
  }
  return openSession(services, { userId: wallet.userId, parentKeyId: null, walletId: wallet.id });
}

/**
 * Opens a session for a custodial user who just proved a password (and a second factor where one is
 * enrolled) or a passkey: bound to no API key, it lives until it expires or is revoked.
 * @throws PermissionError ACCOUNT_FROZEN for a frozen user, SESSION_LIMIT_REACHED
 */
export async function openSignInSession(
  services: Services,
  input: { userId: string } & SessionOrigin,
): Promise<OpenedSession> {
  const [user] = await services.database.db
    .select({ frozen: apiUsers.frozen })
    .from(apiUsers)
    .where(eq(apiUsers.id, input.userId));
  if (!user || user.frozen) {
    throw new PermissionError("ACCOUNT_FROZEN", "This account is frozen: it cannot sign in; contact support");
  }
  return openSession(services, { ...input, parentKeyId: null, walletId: null });
}

/** The principal's sessions that still authenticate, newest first (never their tokens). */
export async function listSessions(services: Pick<AppServices, "database">, principal: Principal) {
  const rows = await services.database.db
    .select({
      id: apiSessions.id,
      parentKeyId: apiSessions.parentKeyId,
      walletId: apiSessions.walletId,
      method: apiSessions.method,
      ip: apiSessions.ip,
      userAgent: apiSessions.userAgent,
      createdAt: apiSessions.createdAt,
      expiresAt: apiSessions.expiresAt,
    })
    .from(apiSessions)
    .leftJoin(parentKeys, eq(parentKeys.id, apiSessions.parentKeyId))
    .where(activeSession(principal.userId))
    .orderBy(desc(apiSessions.createdAt));
  return rows.map(({ method, ...row }) => ({
    ...row,
    // Sessions from before issue 14 have no method: told by their ids.
    kind: (method as SessionOrigin["method"] | null) ?? (row.walletId ? "siwe" : "api_key"),
    current: principal.via === "session" && principal.credentialId === row.id,
  }));
}

/**
 * Revokes one of the principal's own sessions (the current one included): it stops authenticating
 * at once, in every API process.
 * @throws NotFoundError SESSION_NOT_FOUND for another principal's session or one already ended
 */
export async function revokeSession(services: Pick<AppServices, "database">, principal: Principal, sessionId: string) {
  const rows = await services.database.db
    .update(apiSessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiSessions.id, sessionId), eq(apiSessions.userId, principal.userId), isNull(apiSessions.revokedAt)))
    .returning({ id: apiSessions.id });
  if (rows.length === 0) throw new NotFoundError("SESSION_NOT_FOUND", "No such session");
}
