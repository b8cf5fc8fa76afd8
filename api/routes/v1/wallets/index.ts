import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { getBalances } from "../../../../lib/ledger/queries/get-balances.ts";
import { getHistory } from "../../../../lib/ledger/queries/get-history.ts";
import { getStatementCsv } from "../../../../lib/ledger/queries/get-statement-csv.ts";
import { entryKinds } from "../../../../lib/ledger/types.ts";
import { siweBody } from "../../../auth/sign-in-with-ethereum.ts";
import { moneyMovements, wallets } from "../../../db/schema.ts";
import { seqPage } from "../../../db/seq-page.ts";
import { describeMovements } from "../../../movements/describe-movements.ts";
import { listPendingMovements } from "../../../movements/pending-movements.ts";
import { addressInput, errorResponse, idParam, int8Input, page, paginationQuery } from "../../../schemas/common.ts";
import { typedDataJson } from "../../../schemas/typed-data-json.ts";
import {
  balanceView,
  historyItemView,
  movementView,
  transferBody,
  typedDataQuery,
  typedDataView,
  walletView,
} from "../../../schemas/wallets.ts";
import { assertBlockIndexed } from "../../../wallets/assert-block-indexed.ts";
import { createCustodialWallet } from "../../../wallets/create-custodial-wallet.ts";
import { loadOwnedWallet } from "../../../wallets/load-owned-wallet.ts";
import { registerSelfCustodyWallet } from "../../../wallets/register-self-custody-wallet.ts";
import { submitTransfer } from "../../../wallets/submit-transfer.ts";
import { transferTypedData } from "../../../wallets/transfer-typed-data.ts";

const walletParams = z.object({ walletId: idParam });
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const holders = ["user", "merchant"] as const;
const readers = ["user", "merchant", "operator", "auditor", "admin"] as const;

/** Wallets: custodial creation, self-custody registration (SIWE), balances, history, statements, transfers. */
export const walletRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const { database } = services;
  const db = database.db;

  app.post(
    "/",
    {
      config: { roles: holders },
      schema: {
        tags: ["wallets"],
        summary: "Create a custodial wallet (the key is generated and kept encrypted by the service)",
        response: { 201: walletView, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send((await createCustodialWallet(services, request.principal!)) as z.input<typeof walletView>),
  );

  app.post(
    "/self-custody",
    {
      config: { roles: holders },
      schema: {
        tags: ["wallets"],
        summary:
          "Register a self-custody address, proved by a Sign-In with Ethereum message it signed (nonce from GET /v1/auth/siwe/nonce)",
        body: siweBody,
        response: { 201: walletView, 409: errorResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          (await registerSelfCustodyWallet(services, request.principal!, request.body)) as z.input<typeof walletView>,
        ),
  );

  app.get(
    "/",
    {
      config: { roles: readers },
      schema: {
        tags: ["wallets"],
        summary: "Your wallets, newest first",
        querystring: paginationQuery,
        response: { 200: page(walletView), ...errors },
      },
    },
    async (request) => {
      const { items, nextCursor } = await seqPage(
        wallets.seq,
        [eq(wallets.userId, request.principal!.userId)],
        request.query,
        (where, order, rows) => db.select().from(wallets).where(where).orderBy(order).limit(rows),
      );
      return { items: items as z.input<typeof walletView>[], nextCursor };
    },
  );

  app.get(
    "/:walletId",
    {
      config: { roles: readers },
      schema: { tags: ["wallets"], params: walletParams, response: { 200: walletView, ...errors } },
    },
    async (request) =>
      (await loadOwnedWallet(database, request.principal, request.params.walletId)) as z.input<typeof walletView>,
  );

  app.get(
    "/:walletId/balances",
    {
      config: { roles: readers },
      schema: {
        tags: ["wallets"],
        summary:
          "Balances from the ledger (indexed; ?block= for the balance at an indexed block, 409 BLOCK_NOT_INDEXED past the head), plus pending movements",
        params: walletParams,
        querystring: z.object({ block: int8Input.optional().describe("balance as of this indexed block") }),
        response: { 200: z.object({ items: z.array(balanceView), pending: z.array(movementView) }), ...errors },
      },
    },
    async (request) => {
      const wallet = await loadOwnedWallet(database, request.principal, request.params.walletId);
      if (request.query.block !== undefined) await assertBlockIndexed(services, request.query.block);
      const balances = await getBalances(database, {
        chainId: services.chainId,
        account: wallet.address,
        blockNumber: request.query.block,
      });
      const pending = request.query.block === undefined ? await listPendingMovements(services, wallet) : [];
      return {
        items: balances.map((b) => ({
          token: b.token,
          balance: b.balance.toString(),
          lastChangeBlock: b.lastChangeBlock.toString(),
        })),
        pending,
      };
    },
  );

  app.get(
    "/:walletId/history",
    {
      config: { roles: readers },
      schema: {
        tags: ["wallets"],
        summary: "Ledger postings of the wallet, newest first, with filters",
        params: walletParams,
        querystring: paginationQuery.extend({
          token: addressInput.optional(),
          kind: z.enum(entryKinds).optional(),
          counterparty: z
            .string()
            .regex(
              /^((holder:|issuance:)?0x[0-9a-fA-F]{40}|escrow:0x[0-9a-fA-F]{64})$/,
              "must be an address or a ledger account (holder:0x…, issuance:0x…, escrow:0x…)",
            )
            .optional()
            .describe("an address or ledger account on the other side"),
          fromBlock: int8Input.optional(),
          toBlock: int8Input.optional(),
          fromTime: int8Input.optional().describe("unix seconds, inclusive"),
          toTime: int8Input.optional().describe("unix seconds, inclusive"),
        }),
        response: { 200: page(historyItemView), ...errors },
      },
    },
    async (request) => {
      const wallet = await loadOwnedWallet(database, request.principal, request.params.walletId);
      const history = await getHistory(database, {
        chainId: services.chainId,
        account: wallet.address,
        ...request.query,
      });
      return {
        items: history.items.map((item) => ({
          ...item,
          blockNumber: item.blockNumber.toString(),
          blockTimestamp: item.blockTimestamp.toString(),
          amount: item.amount.toString(),
          balanceAfter: item.balanceAfter.toString(),
        })),
        nextCursor: history.nextCursor,
      };
    },
  );

  app.get(
    "/:walletId/statement.csv",
    {
      config: { roles: readers },
      schema: {
        tags: ["wallets"],
        summary:
          "CSV statement over an indexed block range (opening, entries, closing); 409 BLOCK_NOT_INDEXED past the indexed head",
        params: walletParams,
        querystring: z
          .object({ fromBlock: int8Input, toBlock: int8Input })
          .refine((q) => q.fromBlock <= q.toBlock, "fromBlock must be ≤ toBlock"),
        response: { 200: z.string(), ...errors },
      },
    },
    async (request, reply) => {
      const wallet = await loadOwnedWallet(database, request.principal, request.params.walletId);
      await assertBlockIndexed(services, request.query.toBlock);
      const csv = await getStatementCsv(database, {
        chainId: services.chainId,
        account: wallet.address,
        token: services.contracts.stablecoin,
        ...request.query,
      });
      return reply.header("content-type", "text/csv; charset=utf-8").send(csv);
    },
  );

  app.get(
    "/:walletId/transfers/typed-data",
    {
      config: { roles: holders },
      schema: {
        tags: ["wallets"],
        summary: "EIP-712 TransferWithAuthorization typed data for a self-custody wallet to sign",
        params: walletParams,
        querystring: typedDataQuery,
        response: { 200: typedDataView, ...errors },
      },
    },
    async (request) =>
      typedDataJson(
        await transferTypedData(services, {
          principal: request.principal!,
          walletId: request.params.walletId,
          to: request.query.to,
          amount: request.query.amount,
          validAfter: request.query.validAfter,
          validBefore: request.query.validBefore,
        }),
      ) as z.input<typeof typedDataView>,
  );

  app.post(
    "/:walletId/transfers",
    {
      config: { roles: holders, idempotent: true },
      schema: {
        tags: ["wallets"],
        summary:
          "Send tokens (Idempotency-Key required). Custodial: {to, amount}; self-custody: the signed authorization",
        params: walletParams,
        headers: z.object({ "idempotency-key": z.string().optional() }).loose(),
        body: transferBody,
        response: { 202: movementView, 409: errorResponse, 422: errorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const movement = await submitTransfer(services, {
        principal: request.principal!,
        walletId: request.params.walletId,
        to: body.to,
        amount: body.amount,
        signed:
          "signature" in body
            ? {
                authorization: {
                  to: body.to,
                  value: body.amount,
                  validAfter: body.validAfter,
                  validBefore: body.validBefore,
                  nonce: body.nonce,
                },
                signature: body.signature,
              }
            : undefined,
        idempotencyKey: String(request.headers["idempotency-key"]),
        travelRule: body.travelRule,
      });
      return reply.status(202).send({ ...movement, transactionHash: null } as z.input<typeof movementView>);
    },
  );

  app.get(
    "/:walletId/transfers",
    {
      config: { roles: readers },
      schema: {
        tags: ["wallets"],
        summary: "Movements submitted from this wallet, newest first, with relay status",
        params: walletParams,
        querystring: paginationQuery,
        response: { 200: page(movementView), ...errors },
      },
    },
    async (request) => {
      const wallet = await loadOwnedWallet(database, request.principal, request.params.walletId);
      const { items, nextCursor } = await seqPage(
        moneyMovements.seq,
        [eq(moneyMovements.walletId, wallet.id)],
        request.query,
        (where, order, rows) => db.select().from(moneyMovements).where(where).orderBy(order).limit(rows),
      );
      return { items: await describeMovements(services, items), nextCursor };
    },
  );
};
