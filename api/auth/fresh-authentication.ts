/**
 * Fresh authentication: what a request must show before it mints a credential that would outlive
 * the one in hand (an API key, or another session). A session expires and dies with its parent key;
 * a key it could mint would do neither, so a session alone never suffices.
 *
 * Each accepted proof is a {@link FreshAuthenticationProof}; the request passes when one holds.
 * Today: the request came with an API key itself, or a session re-presents an active API key of its
 * principal (`Stablerail-Parent-Credential`, checked now, not when the session was made), or — for a
 * user with a second factor — a step-up approval bound to this very action (`Stablerail-Step-Up`,
 * api/auth/step-up): without one such a user is answered STEP_UP_REQUIRED with a challenge.
 */
import { and, eq, isNull } from "drizzle-orm";

import { apiKeys } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { PermissionError } from "../errors/api-errors.ts";
import { hashCredential } from "./credentials.ts";
import type { Principal } from "./principal.ts";
import { requireSecurityStepUp } from "./step-up/require-security-step-up.ts";

/** The header a session sends its parent API key in when it must authenticate afresh. */
export const PARENT_CREDENTIAL_HEADER = "stablerail-parent-credential";

/** What asks for fresh authentication. */
export type FreshAuthenticationAction = "create_api_key" | "create_session";

export type FreshAuthenticationRequest = {
  principal: Principal;
  action: FreshAuthenticationAction;
  /** The `Stablerail-Parent-Credential` header as sent, if any. */
  parentCredential?: string | undefined;
  /** The `Stablerail-Step-Up` header as sent, if any. */
  stepUpToken?: string | undefined;
};

/** What a proof may read. */
export type FreshAuthenticationDeps = Pick<
  AppServices,
  "database" | "redis" | "redisPrefix" | "settings" | "totpSecretKey"
>;

/** A proof that held, and the API key that vouched for it (none for a step-up). */
export type FreshAuthentication = { proof: string; apiKeyId: string | undefined };

/**
 * One way to authenticate afresh: `holds` returns the vouching API key's id (or `{}` for a proof
 * without one), or false when the proof is simply absent — it must not throw for that.
 */
export type FreshAuthenticationProof = {
  name: string;
  holds: (
    deps: FreshAuthenticationDeps,
    request: FreshAuthenticationRequest,
  ) => Promise<false | { apiKeyId?: string | undefined }>;
};

/** The request itself authenticated with a long-lived credential: the API key was just checked. */
export const apiKeyInHand: FreshAuthenticationProof = {
  name: "api key in hand",
  holds: async (_deps, { principal }) => principal.via === "api_key" && { apiKeyId: principal.credentialId },
};

/** A session re-presents an active API key of its own principal (with the same role). */
export const parentCredentialPresented: FreshAuthenticationProof = {
  name: "parent credential presented",
  holds: async ({ database }, { principal, parentCredential }) => {
    if (!parentCredential?.startsWith("sr_key_")) return false;
    const [key] = await database.db
      .select({ id: apiKeys.id, role: apiKeys.role })
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.keyHash, hashCredential(parentCredential)),
          eq(apiKeys.userId, principal.userId),
          isNull(apiKeys.revokedAt),
        ),
      );
    return key !== undefined && key.role === principal.role && { apiKeyId: key.id };
  },
};

/**
 * A user with a second factor approved this action (issue 14): the approval is consumed for the
 * action's digest. Without an approval such a user is answered STEP_UP_REQUIRED with a challenge
 * (thrown, so the later proofs are not tried); a user without a factor has none to give (false).
 */
export const stepUpApproved: FreshAuthenticationProof = {
  name: "step-up approved",
  holds: async (deps, { principal, action, stepUpToken }) =>
    (await requireSecurityStepUp(deps, { userId: principal.userId, action, target: null, token: stepUpToken })) ===
      "approved" && {},
};

/** Today's proofs, in order. */
export const defaultFreshAuthenticationProofs: readonly FreshAuthenticationProof[] = [
  apiKeyInHand,
  parentCredentialPresented,
  stepUpApproved,
];

/**
 * Passes when one proof holds.
 * @returns which proof held and the API key that vouched, if any
 * @throws PermissionError FRESH_AUTHENTICATION_REQUIRED (403) naming what to send
 */
export async function requireFreshAuthentication(
  deps: FreshAuthenticationDeps & { freshAuthenticationProofs: readonly FreshAuthenticationProof[] },
  request: FreshAuthenticationRequest,
): Promise<FreshAuthentication> {
  for (const proof of deps.freshAuthenticationProofs) {
    const held = await proof.holds(deps, request);
    if (held) return { proof: proof.name, apiKeyId: held.apiKeyId };
  }
  throw new PermissionError(
    "FRESH_AUTHENTICATION_REQUIRED",
    `A session cannot ${request.action === "create_api_key" ? "create an API key" : "create another session"} on its own: ` +
      `send one of your active API keys in ${PARENT_CREDENTIAL_HEADER}, or call with the API key itself`,
  );
}
