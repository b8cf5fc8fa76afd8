import { randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { generateSessionToken, hashCredential, roles } from "../../../auth/credentials.ts";
import { issueSiweNonce, siweBody, verifySiweSignIn } from "../../../auth/sign-in-with-ethereum.ts";
import { apiSessions, wallets } from "../../../db/schema.ts";
import { errorResponse } from "../../../schemas/common.ts";

const session = z.object({ token: z.string(), expiresAt: z.date() });

/**
 * Sessions for the wallet UI: from an API key (custodial users), or by Sign-In with Ethereum for a
 * self-custody address registered to a user. Tokens are opaque, stored hashed, and expire.
 */
export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;

  async function createSession(userId: string) {
    const token = generateSessionToken();
    const expiresAt = new Date(Date.now() + services.settings.sessionTtlSeconds * 1000);
    await db.insert(apiSessions).values({ id: randomUUID(), userId, tokenHash: hashCredential(token), expiresAt });
    return { token, expiresAt };
  }

  app.get(
    "/siwe/nonce",
    {
      schema: {
        tags: ["auth"],
        summary: "A single-use nonce for a Sign-In with Ethereum message (valid 5 minutes)",
        security: [],
        response: { 200: z.object({ nonce: z.string(), domain: z.string(), chainId: z.number() }) },
      },
    },
    async () => ({
      nonce: await issueSiweNonce(services.redis, services.redisPrefix),
      domain: services.settings.siweDomain,
      chainId: services.chainId,
    }),
  );

  app.post(
    "/siwe",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with Ethereum as the owner of a registered self-custody wallet; returns a session token",
        security: [],
        body: siweBody,
        response: { 201: session, 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const address = await verifySiweSignIn(services, request.body);
      const [wallet] = await db.select({ userId: wallets.userId }).from(wallets).where(eq(wallets.address, address));
      if (!wallet)
        throw new NotFoundError(
          "WALLET_NOT_REGISTERED",
          "No user has registered this address; register it with POST /v1/wallets/self-custody first",
        );
      return reply.status(201).send(await createSession(wallet.userId));
    },
  );

  app.post(
    "/sessions",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Exchange your API key for a session token (wallet UI)",
        response: { 201: session, 401: errorResponse },
      },
    },
    async (request, reply) => reply.status(201).send(await createSession(request.principal!.userId)),
  );
};
