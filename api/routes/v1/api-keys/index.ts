import { randomUUID } from "node:crypto";

import { and, eq, isNull } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { generateApiKey, hashCredential, roles } from "../../../auth/credentials.ts";
import { apiKeys } from "../../../db/schema.ts";
import { errorResponse, idParam } from "../../../schemas/common.ts";

const keyView = z.object({ id: z.string(), prefix: z.string(), role: z.enum(roles), createdAt: z.date() });

/** A principal's own API keys: create (shown once, stored hashed), list (prefixes only), revoke. */
export const apiKeyRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.services.database.db;

  app.post(
    "/",
    {
      config: { roles },
      schema: {
        tags: ["api-keys"],
        summary: "Create an API key for yourself (same role); the key is shown only here",
        response: { 201: keyView.extend({ apiKey: z.string() }), 401: errorResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
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
      return reply.status(201).send({ ...row!, role: principal.role, apiKey });
    },
  );

  app.get(
    "/",
    {
      config: { roles },
      schema: {
        tags: ["api-keys"],
        summary: "Your active API keys (never the keys themselves)",
        response: { 200: z.object({ items: z.array(keyView) }), 401: errorResponse },
      },
    },
    async (request) => {
      const rows = await db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.userId, request.principal!.userId), isNull(apiKeys.revokedAt)));
      return { items: rows.map((row) => ({ ...row, role: row.role as (typeof roles)[number] })) };
    },
  );

  app.delete(
    "/:keyId",
    {
      config: { roles },
      schema: {
        tags: ["api-keys"],
        summary: "Revoke one of your API keys",
        params: z.object({ keyId: idParam }),
        response: { 204: z.null(), 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(
          and(
            eq(apiKeys.id, request.params.keyId),
            eq(apiKeys.userId, request.principal!.userId),
            isNull(apiKeys.revokedAt),
          ),
        )
        .returning({ id: apiKeys.id });
      if (rows.length === 0) throw new NotFoundError("NOT_FOUND", "No such API key");
      return reply.status(204).send(null);
    },
  );
};
