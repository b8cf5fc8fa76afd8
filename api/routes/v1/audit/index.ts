/**
 * Auditor-only routes (role `auditor`; every other role is answered 403): the same work as
 * `npm run audit`, read-only, through auditor/index.ts — reconciliation at a block, one
 * transaction side by side, the journal hash chain's verification and head, and the proof of
 * reserves. Building a proof of reserves is a read (GET); publishing its root for users' inclusion
 * proofs changes what they are served, so it is a POST (a frozen auditor may read, not publish).
 * A node that does not answer is 503 CHAIN_UNAVAILABLE.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import {
  auditTransaction,
  CANONICAL_MULTICALL3,
  readLedgerHead,
  reconcileLedger,
  verifyJournalChain,
} from "../../../../auditor/index.ts";
import { NotFoundError } from "../../../../lib/errors/base.ts";
import { toJsonSafe } from "../../../../lib/ledger/json.ts";
import { withChain } from "../../../audit/chain-unavailable.ts";
import { buildReservesSnapshot, publishReserves } from "../../../audit/reserves-snapshots.ts";
import { bytes32, errorResponse } from "../../../schemas/common.ts";

const blockNumber = z
  .string()
  .regex(/^\d{1,20}$/, "a block number")
  .transform((value) => BigInt(value));
const report = z
  .record(z.string(), z.unknown())
  .describe("the report, as `npm run audit -- … --format json` prints it");
const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  503: errorResponse,
};
const roles = ["auditor"] as const;
const json = (value: unknown) => toJsonSafe(value) as Record<string, unknown>;

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const contracts = () => ({
    token: services.contracts.stablecoin,
    escrow: services.contracts.paymentEscrow,
    settlement: services.contracts.settlement,
  });

  app.get(
    "/reconciliation",
    {
      config: { roles },
      schema: {
        tags: ["audit"],
        summary: "Reconcile the ledger with the chain at a block (default: the indexed head)",
        querystring: z
          .object({
            block: blockNumber.optional(),
            from: blockNumber
              .optional()
              .describe("first block of the completeness check (default: the ledger's first)"),
            completeness: z.enum(["true", "false"]).default("true"),
          })
          .strict(),
        response: { 200: report, ...errors },
      },
    },
    async (request) =>
      json(
        await withChain(() =>
          reconcileLedger(services.database, services.publicClient, {
            chainId: services.chainId,
            contracts: contracts(),
            multicall3: CANONICAL_MULTICALL3,
            block: request.query.block,
            fromBlock: request.query.from,
            completeness: request.query.completeness === "true",
          }),
        ),
      ),
  );

  app.get(
    "/transactions/:transactionHash",
    {
      config: { roles },
      schema: {
        tags: ["audit"],
        summary: "One transaction's logs and the ledger's entries side by side, with a verdict",
        params: z.object({ transactionHash: bytes32 }),
        response: { 200: report, ...errors },
      },
    },
    async (request) =>
      json(
        await withChain(() =>
          auditTransaction(services.database, services.publicClient, {
            chainId: services.chainId,
            contracts: contracts(),
            transactionHash: request.params.transactionHash,
          }),
        ),
      ),
  );

  app.get(
    "/journal-chain",
    {
      config: { roles },
      schema: {
        tags: ["audit"],
        summary: "Recompute the journal hash chain and name the first edited, inserted, deleted or reordered row",
        querystring: z
          .object({
            expectHead: z
              .string()
              .regex(/^\d{1,20}:0x[0-9a-fA-F]{64}$/, "<seq>:<hash>, as a report's journalHead")
              .optional()
              .describe("a head published earlier the chain must still pass through"),
          })
          .strict(),
        response: { 200: report, ...errors },
      },
    },
    async (request) => {
      const [seq, hash] = request.query.expectHead?.split(":") ?? [];
      return json(
        await verifyJournalChain(services.database, {
          chainId: services.chainId,
          expectHead: seq && hash ? { seq: BigInt(seq), hash: hash.toLowerCase() as `0x${string}` } : undefined,
        }),
      );
    },
  );

  app.get(
    "/journal-chain/head",
    {
      config: { roles },
      schema: {
        tags: ["audit"],
        summary:
          "The journal hash chain's head and the indexed head (pin it: a later verify-chain proves history was not rewritten)",
        response: {
          200: z.object({
            chainId: z.number(),
            indexedHead: z.object({ number: z.string(), hash: z.string() }),
            journalHead: z.object({ seq: z.string(), hash: z.string().nullable() }),
          }),
          ...errors,
        },
      },
    },
    async () => {
      const head = await readLedgerHead(services.database, { chainId: services.chainId });
      if (!head) throw new NotFoundError("AUDIT_LEDGER_EMPTY", "The ledger has indexed nothing of this chain yet");
      return {
        chainId: services.chainId,
        indexedHead: { number: head.number.toString(), hash: head.hash },
        journalHead: { seq: head.journal.seq.toString(), hash: head.journal.hash },
      };
    },
  );

  app.get(
    "/reserves",
    {
      config: { roles },
      schema: {
        tags: ["audit"],
        summary: "Proof of reserves and liabilities at a block (default: the indexed head), not published",
        querystring: z.object({ block: blockNumber.optional() }).strict(),
        response: { 200: report, ...errors },
      },
    },
    async (request) => json((await buildReservesSnapshot(services, request.query.block)).report),
  );

  app.post(
    "/reserves",
    {
      config: { roles },
      schema: {
        tags: ["audit"],
        summary:
          "Build the proof of reserves at a block and publish it: GET /v1/reserves serves its root, each custodial user their inclusion proof",
        body: z
          .object({ block: blockNumber.optional().describe("default: the indexed head") })
          .strict()
          .default({}),
        response: { 201: report, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(json((await publishReserves(services, request.body.block)).report)),
  );
};
