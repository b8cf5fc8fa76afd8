import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { holderAccount } from "../../../../lib/ledger/accounts.ts";
import { getTransaction } from "../../../../lib/ledger/queries/get-transaction.ts";
import { readsEverything } from "../../../auth/principal.ts";
import { wallets } from "../../../db/schema.ts";
import { bytes32, errorResponse } from "../../../schemas/common.ts";

const entryView = z.object({
  blockNumber: z.string(),
  blockTimestamp: z.string(),
  logIndex: z.number(),
  token: z.string(),
  kind: z.string(),
  reference: z.string().nullable(),
  postings: z.array(z.object({ account: z.string(), counterparty: z.string(), amount: z.string() })),
});

/** One indexed transaction's journal entries — to staff, or to a user who holds a wallet party to it. */
export const transactionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  app.get(
    "/:transactionHash",
    {
      config: { roles: ["user", "merchant", "operator", "auditor", "admin"] },
      schema: {
        tags: ["transactions"],
        params: z.object({ transactionHash: bytes32 }),
        response: {
          200: z.object({ transactionHash: z.string(), entries: z.array(entryView) }),
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) => {
      const entries = await getTransaction(services.database, {
        chainId: services.chainId,
        transactionHash: request.params.transactionHash,
      });
      if (entries.length === 0)
        throw new NotFoundError(
          "TRANSACTION_NOT_FOUND",
          "No indexed movement in this transaction (it may not be indexed yet)",
        );
      const principal = request.principal!;
      if (!readsEverything(principal.role)) {
        const owned = await services.database.db
          .select({ address: wallets.address })
          .from(wallets)
          .where(eq(wallets.userId, principal.userId));
        const accounts = new Set(owned.map((w) => holderAccount(w.address as `0x${string}`)));
        const party = entries.some((entry) => entry.postings.some((p) => accounts.has(p.account)));
        if (!party)
          throw new NotFoundError(
            "TRANSACTION_NOT_FOUND",
            "No indexed movement in this transaction (it may not be indexed yet)",
          );
      }
      return {
        transactionHash: request.params.transactionHash,
        entries: entries.map((e) => ({
          blockNumber: e.blockNumber.toString(),
          blockTimestamp: e.blockTimestamp.toString(),
          logIndex: e.logIndex,
          token: e.token,
          kind: e.kind,
          reference: e.reference,
          postings: e.postings.map((p) => ({ ...p, amount: p.amount.toString() })),
        })),
      };
    },
  );
};
