import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { listAuditLog, readAuditChain, verifyAuditChain } from "../../../audit-log/index.ts";
import { decodeSeqCursor, encodeSeqCursor, errorResponse, paginationQuery } from "../../../schemas/common.ts";

const staff = ["operator", "auditor", "admin"] as const;
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse };

const entry = z.object({
  seq: z.string(),
  at: z.date(),
  actor: z.object({ userId: z.string(), role: z.string().nullable(), credentialId: z.string().nullable() }).nullable(),
  action: z.string(),
  target: z.string().nullable(),
  outcome: z.enum(["success", "failure"]),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

/** The audit log for operators, auditors and admins: list (newest first) and verify the hash chain. */
export const auditLogRoutes: FastifyPluginAsyncZod = async (app) => {
  const { database } = app.services;

  app.get(
    "/",
    {
      config: { roles: staff },
      schema: {
        tags: ["audit-log"],
        summary: "Audit log entries, newest first (filter by action and actor)",
        querystring: paginationQuery.extend({
          action: z.string().max(100).optional(),
          actorId: z.uuid().optional(),
        }),
        response: { 200: z.object({ items: z.array(entry), nextCursor: z.string().nullable() }), ...errors },
      },
    },
    async (request) => {
      const { action, actorId, limit, cursor } = request.query;
      const page = await listAuditLog(database, {
        action,
        actorId,
        limit,
        beforeSeq: cursor ? decodeSeqCursor(cursor) : undefined,
      });
      return { items: page.items, nextCursor: page.lastSeq === undefined ? null : encodeSeqCursor(page.lastSeq) };
    },
  );

  app.get(
    "/verify",
    {
      config: { roles: staff },
      schema: {
        tags: ["audit-log"],
        summary: "Recompute the hash chain: valid, or the first broken entry and how it was broken",
        response: {
          200: z.object({
            valid: z.boolean(),
            entries: z.number(),
            headHash: z.string(),
            firstInvalidSeq: z.string().optional(),
            problem: z.enum(["edited", "deleted", "inserted", "reordered", "truncated"]).optional(),
          }),
          ...errors,
        },
      },
    },
    async () => {
      const { rows, head } = await readAuditChain(database);
      return verifyAuditChain(rows, head);
    },
  );
};
