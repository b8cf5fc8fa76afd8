import { and, eq, isNull } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { createApiKey } from "../../../auth/create-api-key.ts";
import { roles } from "../../../auth/credentials.ts";
import { PARENT_CREDENTIAL_HEADER } from "../../../auth/fresh-authentication.ts";
import { revokeApiKey } from "../../../auth/revoke-api-key.ts";
import { STEP_UP_HEADER } from "../../../auth/step-up/require-security-step-up.ts";
import { apiKeys } from "../../../db/schema.ts";
import { errorResponse, idParam } from "../../../schemas/common.ts";
import { audited } from "../../../audit-log/index.ts";

const keyView = z.object({ id: z.string(), prefix: z.string(), role: z.enum(roles), createdAt: z.date() });
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

/** A principal's own API keys: create (shown once, stored hashed), list (prefixes only), revoke. */
export const apiKeyRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;

  app.post(
    "/",
    {
      config: { roles },
      schema: {
        tags: ["api-keys"],
        summary: "Create an API key for yourself (same role); the key is shown only here",
        description: `Takes no body. A session must also send one of your active API keys in ${PARENT_CREDENTIAL_HEADER}, or — once you have a second factor — a step-up approval for this action in ${STEP_UP_HEADER} (403 STEP_UP_REQUIRED gives its challenge). At most API_MAX_API_KEYS_PER_USER active keys (409 API_KEY_LIMIT_REACHED).`,
        headers: z
          .object({ [PARENT_CREDENTIAL_HEADER]: z.string().optional(), [STEP_UP_HEADER]: z.string().optional() })
          .loose(),
        response: { 201: keyView.extend({ apiKey: z.string() }), 409: errorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const created = await audited(
        request,
        { action: "api_key.create" },
        () =>
          createApiKey(services, {
            principal: request.principal!,
            parentCredential: request.headers[PARENT_CREDENTIAL_HEADER] as string | undefined,
            stepUpToken: request.headers[STEP_UP_HEADER] as string | undefined,
          }),
        (key) => ({ target: key.id }),
      );
      return reply
        .header("cache-control", "no-store")
        .status(201)
        .send({ ...created, role: created.role as (typeof roles)[number] });
    },
  );

  app.get(
    "/",
    {
      config: { roles },
      schema: {
        tags: ["api-keys"],
        summary: "Your active API keys (never the keys themselves)",
        response: { 200: z.object({ items: z.array(keyView) }), ...errors },
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
      config: { roles, allowFrozen: true },
      schema: {
        tags: ["api-keys"],
        summary: "Revoke one of your API keys, and every session made from it",
        params: z.object({ keyId: idParam }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await audited(request, { action: "api_key.revoke", target: request.params.keyId }, () =>
        revokeApiKey(services.database, request.principal!, request.params.keyId),
      );
      return reply.status(204).send(null);
    },
  );
};
