/**
 * The published proof of reserves, for everyone with a credential: its root, total liabilities,
 * reserves, block and journal chain head (`GET /v1/reserves`), and each custodial user's own
 * inclusion proof (`GET /v1/reserves/proof`), to check offline with
 * `npm run audit -- verify-proof proof.json`. Only what an auditor published (POST /v1/audit/reserves).
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { liabilityProofSchema } from "../../../../auditor/index.ts";
import { NotFoundError } from "../../../../lib/errors/base.ts";
import { publishedReserves } from "../../../audit/reserves-snapshots.ts";
import { errorResponse } from "../../../schemas/common.ts";

const summary = z.object({
  chainId: z.number(),
  block: z.object({ number: z.string(), hash: z.string() }),
  token: z.string(),
  root: z.string().describe("the Merkle sum tree's root hash"),
  totalLiabilities: z.string(),
  reserves: z.string(),
  ratio: z.string(),
  users: z.number(),
  journalHead: z.object({ seq: z.string(), hash: z.string().nullable() }),
  generatedAt: z.string(),
});

const notPublished = () =>
  new NotFoundError("RESERVES_NOT_PUBLISHED", "No proof of reserves has been published yet; an auditor publishes one");

export const reserveRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  app.get(
    "/",
    {
      config: { roles: ["user", "merchant", "operator", "auditor", "admin"] },
      schema: {
        tags: ["reserves"],
        summary: "The latest published proof of reserves",
        response: { 200: summary, 401: errorResponse, 404: errorResponse },
      },
    },
    async () => {
      const snapshot = publishedReserves(services);
      if (!snapshot) throw notPublished();
      const r = snapshot.report;
      return {
        chainId: r.chainId,
        block: { number: r.block.number.toString(), hash: r.block.hash },
        token: r.token,
        root: r.root,
        totalLiabilities: r.totalLiabilities.toString(),
        reserves: r.reserves.toString(),
        ratio: r.ratio,
        users: r.users,
        journalHead: { seq: r.journalHead.seq.toString(), hash: r.journalHead.hash },
        generatedAt: r.generatedAt,
      };
    },
  );

  app.get(
    "/proof",
    {
      config: { roles: ["user", "merchant"] },
      schema: {
        tags: ["reserves"],
        summary:
          "Your inclusion proof in the latest published liabilities tree (verify it offline: npm run audit -- verify-proof proof.json)",
        // No parameter: the proof is always the caller's own (a user id in the query is refused, not ignored).
        querystring: z.object({}).strict(),
        response: {
          200: liabilityProofSchema,
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) => {
      const snapshot = publishedReserves(services);
      if (!snapshot) throw notPublished();
      const proof = snapshot.proofFor(request.principal!.userId);
      if (!proof)
        throw new NotFoundError(
          "LIABILITY_PROOF_NOT_FOUND",
          "You held no custodial wallet when these reserves were proved",
        );
      return proof;
    },
  );
};
