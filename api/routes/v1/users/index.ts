import { randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { generateApiKey, hashCredential, roles } from "../../../auth/credentials.ts";
import { freezeUser } from "../../../auth/freeze-user.ts";
import { apiKeys, apiUsers } from "../../../db/schema.ts";
import { errorResponse, idParam } from "../../../schemas/common.ts";
import { audited } from "../../../audit-log/index.ts";

const user = z.object({ id: z.string(), role: z.string(), name: z.string(), frozen: z.boolean(), createdAt: z.date() });

/** Principals: admins create users (and their first API key, shown once); operators freeze them. */
export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;

  app.post(
    "/",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["users"],
        summary: "Create a user (any role) with a first API key, returned only in this response",
        body: z.object({ role: z.enum(roles), name: z.string().min(1).max(200) }).strict(),
        response: {
          201: z.object({ user, apiKey: z.string() }),
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const id = randomUUID();
      const apiKey = generateApiKey();
      // Creating a principal grants it its role: audited as the role grant it is.
      const created = await audited(
        request,
        { action: "user.create", target: id },
        async () => {
          const [row] = await db
            .insert(apiUsers)
            .values({ id, role: request.body.role, name: request.body.name })
            .returning();
          await db.insert(apiKeys).values({
            id: randomUUID(),
            userId: id,
            keyHash: hashCredential(apiKey),
            prefix: apiKey.slice(0, 12),
            role: request.body.role,
          });
          return row!;
        },
        () => ({ details: { role: request.body.role } }),
      );
      return reply.header("cache-control", "no-store").status(201).send({ user: created, apiKey });
    },
  );

  app.get(
    "/me",
    {
      config: { roles },
      schema: { tags: ["users"], summary: "The calling principal", response: { 200: user, 401: errorResponse } },
    },
    async (request) => {
      const [row] = await db.select().from(apiUsers).where(eq(apiUsers.id, request.principal!.userId));
      if (!row) throw new NotFoundError("NOT_FOUND", "No such user");
      return row;
    },
  );

  app.post(
    "/:userId/freeze",
    {
      config: { roles: ["operator", "admin"] },
      schema: {
        tags: ["users"],
        summary: "Freeze or unfreeze a principal: a frozen one may read and revoke its own credentials, nothing else",
        description:
          "Operators freeze users and merchants; admins anyone but themselves; nobody itself (403 FREEZE_NOT_ALLOWED).",
        params: z.object({ userId: idParam }),
        body: z.object({ frozen: z.boolean() }).strict(),
        response: { 200: user, 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (request) =>
      audited(
        request,
        { action: request.body.frozen ? "user.freeze" : "user.unfreeze", target: request.params.userId },
        () => freezeUser(services.database, request.principal!, { userId: request.params.userId, ...request.body }),
      ),
  );
};
