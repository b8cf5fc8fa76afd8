import { and, count, eq, gt } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { audited } from "../../../audit-log/index.ts";
import { screeningEntries } from "../../../db/security-schema.ts";
import { parseOfacSdnXml, parseScreeningCsv } from "../../../risk/screening/parse-lists.ts";
import {
  removeScreeningEntry,
  screenParties,
  storeScreeningEntries,
} from "../../../risk/screening/screen-addresses.ts";
import { addressInput, errorResponse } from "../../../schemas/common.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const writers = ["operator", "admin"] as const;
const readers = ["operator", "admin", "auditor"] as const;
const listName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be a list name such as ofac-sdn or internal")
  .describe("the denylist, e.g. ofac-sdn");
const entryView = z.object({
  list: z.string(),
  address: z.string(),
  entryUid: z.string().nullable(),
  entryName: z.string().nullable(),
  source: z.string(),
  addedAt: z.date(),
});

/**
 * Screening denylists, maintained by operators: import OFAC SDN XML (its `Digital Currency Address
 * - ETH` ids) or a CSV into a list (merge, or replace the list), add or remove one address, read a
 * list, check an address. The money door denies every movement whose sender, recipient, payee or
 * signed-request party is on any list.
 */
export const screeningRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;

  app.post(
    "/lists/:list/imports",
    {
      config: { roles: writers },
      schema: {
        tags: ["screening"],
        summary: "Import a list: OFAC SDN XML or CSV (address[,name[,uid]]) as text; merge (default) or replace",
        params: z.object({ list: listName }),
        body: z
          .object({
            format: z.enum(["ofac_sdn_xml", "csv"]),
            content: z.string().min(1).max(200_000),
            mode: z.enum(["merge", "replace"]).default("merge"),
          })
          .strict(),
        response: {
          200: z.object({ list: z.string(), imported: z.number(), skipped: z.number(), total: z.number() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { format, content, mode } = request.body;
      const parsed = format === "csv" ? parseScreeningCsv(content) : parseOfacSdnXml(content);
      const total = await audited(
        request,
        { action: "screening.import", target: request.params.list },
        () =>
          storeScreeningEntries(services.database, {
            list: request.params.list,
            entries: parsed.entries,
            source: format,
            mode,
            by: request.principal!.userId,
          }),
        (stored) => ({ details: { format, mode, imported: parsed.entries.length, total: stored } }),
      );
      return { list: request.params.list, imported: parsed.entries.length, skipped: parsed.skipped, total };
    },
  );

  app.put(
    "/lists/:list/entries/:address",
    {
      config: { roles: writers },
      schema: {
        tags: ["screening"],
        summary: "Add one address to a list",
        params: z.object({ list: listName, address: addressInput }),
        body: z
          .object({ name: z.string().trim().min(1).max(200).optional() })
          .strict()
          .optional(),
        response: { 200: entryView, ...errors },
      },
    },
    async (request) => {
      await audited(
        request,
        { action: "screening.add", target: `${request.params.list}:${request.params.address.toLowerCase()}` },
        () =>
          storeScreeningEntries(services.database, {
            list: request.params.list,
            entries: [
              { address: request.params.address.toLowerCase(), entryName: request.body?.name ?? null, entryUid: null },
            ],
            source: "api",
            mode: "merge",
            by: request.principal!.userId,
          }),
      );
      const [row] = await db
        .select()
        .from(screeningEntries)
        .where(
          and(
            eq(screeningEntries.list, request.params.list),
            eq(screeningEntries.address, request.params.address.toLowerCase()),
          ),
        );
      return row!;
    },
  );

  app.delete(
    "/lists/:list/entries/:address",
    {
      config: { roles: writers },
      schema: {
        tags: ["screening"],
        summary: "Remove one address from a list",
        params: z.object({ list: listName, address: addressInput }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await audited(
        request,
        { action: "screening.remove", target: `${request.params.list}:${request.params.address.toLowerCase()}` },
        async () => {
          if (!(await removeScreeningEntry(services.database, request.params.list, request.params.address))) {
            throw new NotFoundError(
              "SCREENING_ENTRY_NOT_FOUND",
              `${request.params.address} is not on ${request.params.list}`,
            );
          }
        },
      );
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/lists/:list/entries",
    {
      config: { roles: readers },
      schema: {
        tags: ["screening"],
        summary: "A list's entries, by address (cursor: the last address of the previous page)",
        params: z.object({ list: listName }),
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          after: z.string().max(42).optional(),
        }),
        response: {
          200: z.object({ items: z.array(entryView), total: z.number(), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { list } = request.params;
      const { limit, after } = request.query;
      const [rows, [total]] = await Promise.all([
        db
          .select()
          .from(screeningEntries)
          .where(
            and(eq(screeningEntries.list, list), after ? gt(screeningEntries.address, after.toLowerCase()) : undefined),
          )
          .orderBy(screeningEntries.address)
          .limit(limit + 1),
        db.select({ n: count() }).from(screeningEntries).where(eq(screeningEntries.list, list)),
      ]);
      const items = rows.slice(0, limit);
      return { items, total: total?.n ?? 0, nextCursor: rows.length > limit ? items[items.length - 1]!.address : null };
    },
  );

  app.get(
    "/check/:address",
    {
      config: { roles: readers },
      schema: {
        tags: ["screening"],
        summary: "Whether an address is on any list, and which entry",
        params: z.object({ address: addressInput }),
        response: {
          200: z.object({
            hit: z.boolean(),
            list: z.string().nullable(),
            entryUid: z.string().nullable(),
            entryName: z.string().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const hit = await screenParties(services.database, [{ party: "address", address: request.params.address }]);
      return {
        hit: hit !== undefined,
        list: hit?.list ?? null,
        entryUid: hit?.entryUid ?? null,
        entryName: hit?.entryName ?? null,
      };
    },
  );
};
