import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { roles } from "../../../auth/credentials.ts";
import { PARENT_CREDENTIAL_HEADER } from "../../../auth/fresh-authentication.ts";
import { listSessions, openKeySession, openSiweSession, revokeSession } from "../../../auth/sessions.ts";
import {
  issueSiweNonce,
  SIWE_NONCE_TTL_SECONDS,
  siweBody,
  siweRequesterOf,
  verifySiweSignIn,
} from "../../../auth/sign-in-with-ethereum.ts";
import { wallets } from "../../../db/schema.ts";
import { errorResponse, idParam } from "../../../schemas/common.ts";
import { factorRoutes } from "./factors.ts";
import { audited } from "../../../audit-log/index.ts";
import { STEP_UP_HEADER } from "../../../auth/step-up/require-security-step-up.ts";
import { passkeyRoutes } from "./passkeys.ts";
import { signInRoutes } from "./sign-in.ts";
import { stepUpRoutes } from "./step-up.ts";

const session = z.object({ id: z.string(), token: z.string(), expiresAt: z.date() });
const sessionView = z.object({
  id: z.string(),
  kind: z
    .enum(["api_key", "siwe", "password", "passkey"])
    .describe("made from an API key, by Sign-In with Ethereum, by a password (and second factor) or a passkey"),
  ip: z.string().nullable().describe("the client address it was opened from"),
  userAgent: z.string().nullable(),
  parentKeyId: z.string().nullable().describe("the API key it lives on (revoking the key ends it)"),
  walletId: z.string().nullable().describe("the self-custody wallet that signed in"),
  current: z.boolean().describe("the session this request authenticated with"),
  createdAt: z.date(),
  expiresAt: z.date(),
});
const parentCredentialHeader = z
  .object({
    [PARENT_CREDENTIAL_HEADER]: z
      .string()
      .optional()
      .describe("one of your active API keys, when a session asks: the fresh check of its parent"),
  })
  .loose();
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

/**
 * Sessions for the wallet UI: from an API key (bound to it), or by Sign-In with Ethereum for a
 * self-custody address registered to a user; list and revoke one's own. Tokens are opaque, stored
 * hashed, and expire. Use cases: api/auth/sessions.ts, api/auth/sign-in-with-ethereum.ts.
 */
export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;
  await app.register(signInRoutes);
  await app.register(factorRoutes);
  await app.register(stepUpRoutes);
  await app.register(passkeyRoutes);

  app.get(
    "/siwe/nonce",
    {
      schema: {
        tags: ["auth"],
        summary: `A single-use nonce for a Sign-In with Ethereum message (valid ${SIWE_NONCE_TTL_SECONDS / 60} minutes), with the domain, URI and chain id the message must name`,
        description:
          "The nonce is bound to the caller: ask with your credential to register a self-custody wallet, without one to sign in. It is consumed only by a valid signature.",
        security: [],
        response: {
          200: z.object({
            nonce: z.string(),
            domain: z.string(),
            uri: z.string(),
            chainId: z.number(),
            version: z.literal("1"),
            issuedAt: z.date(),
            expiresAt: z.date(),
          }),
          ...errors,
        },
      },
    },
    async (request) => issueSiweNonce(services, siweRequesterOf(request)),
  );

  app.post(
    "/siwe",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with Ethereum as the owner of a registered self-custody wallet; returns a session token",
        security: [],
        body: siweBody,
        response: { 201: session, ...errors },
      },
    },
    async (request, reply) => {
      const address = await verifySiweSignIn(services, siweRequesterOf(request), request.body);
      const [wallet] = await db
        .select({ id: wallets.id, userId: wallets.userId })
        .from(wallets)
        .where(eq(wallets.address, address));
      if (!wallet)
        throw new NotFoundError(
          "WALLET_NOT_REGISTERED",
          "No user has registered this address; register it with POST /v1/wallets/self-custody first",
        );
      return reply
        .header("cache-control", "no-store")
        .status(201)
        .send(
          await audited(
            request,
            { action: "auth.sign_in", actor: { userId: wallet.userId, role: "user", credentialId: null } },
            () => openSiweSession(services, wallet),
            (opened) => ({ target: opened.id, details: { method: "siwe", walletId: wallet.id } }),
          ),
        );
    },
  );

  app.post(
    "/sessions",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Exchange your API key for a session token bound to it (wallet UI)",
        description: `From a session, send one of your active API keys in ${PARENT_CREDENTIAL_HEADER}: a session alone cannot extend itself.`,
        headers: parentCredentialHeader,
        response: { 201: session, 409: errorResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .header("cache-control", "no-store")
        .status(201)
        .send(
          await audited(
            request,
            { action: "session.create" },
            () =>
              openKeySession(services, {
                principal: request.principal!,
                parentCredential: request.headers[PARENT_CREDENTIAL_HEADER] as string | undefined,
                stepUpToken: request.headers[STEP_UP_HEADER] as string | undefined,
              }),
            (opened) => ({ target: opened.id }),
          ),
        ),
  );

  app.get(
    "/sessions",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Your sessions that still authenticate, newest first (never their tokens)",
        response: { 200: z.object({ items: z.array(sessionView) }), ...errors },
      },
    },
    async (request) => ({ items: await listSessions(services, request.principal!) }),
  );

  app.delete(
    "/sessions/:sessionId",
    {
      config: { roles, allowFrozen: true },
      schema: {
        tags: ["auth"],
        summary: "Revoke one of your sessions (the current one included); it stops at once",
        params: z.object({ sessionId: idParam }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await audited(request, { action: "session.revoke", target: request.params.sessionId }, () =>
        revokeSession(services, request.principal!, request.params.sessionId),
      );
      return reply.status(204).send(null);
    },
  );
};
