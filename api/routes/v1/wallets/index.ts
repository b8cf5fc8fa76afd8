import { seqPage } from "../../../db/seq-page.ts";
import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Address } from "viem";
import { z } from "zod";

import { ConflictError } from "../../../errors/api-errors.ts";
import { ValidationError } from "../../../../lib/errors/base.ts";
import { getBalances } from "../../../../lib/ledger/queries/get-balances.ts";
import { getHistory } from "../../../../lib/ledger/queries/get-history.ts";
import { getStatementCsv } from "../../../../lib/ledger/queries/get-statement-csv.ts";
import { entryKinds } from "../../../../lib/ledger/types.ts";
import { listPendingMovements } from "../../../money/pending-movements.ts";
import { siweBody, verifySiweSignIn } from "../../../auth/siwe.ts";
import { moneyMovements, wallets } from "../../../db/schema.ts";
import { submitMoneyMovement } from "../../../money/submit-money-movement.ts";
import { verifyTransferAuthorization } from "../../../money/verify-transfer-authorization.ts";
import { transferRelay, type SignedTransfer } from "../../../wallets/transfer-authorization.ts";
import { addressInput, errorResponse, idParam, page, paginationQuery, uintInput } from "../../../schemas/common.ts";
import {
  balanceView,
  historyItemView,
  movementView,
  transferBody,
  typedDataQuery,
  typedDataView,
  walletView,
} from "../../../schemas/wallets.ts";
import { typedDataJson } from "../../../schemas/typed-data-json.ts";
import { createCustodialWallet } from "../../../wallets/create-custodial-wallet.ts";
import { loadOwnedWallet } from "../../../wallets/load-owned-wallet.ts";
import { signCustodialTransfer } from "../../../wallets/sign-custodial-transfer.ts";
import { randomAuthorizationNonce, transferAuthorizationTypedData } from "../../../wallets/transfer-authorization.ts";

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
      reply
        .status(201)
        .send(
          (await createCustodialWallet(database, services.keyEncryptionKey, request.principal!.userId)) as z.input<
            typeof walletView
          >,
        ),
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
    async (request, reply) => {
      const address = await verifySiweSignIn(services, request.body);
      const [existing] = await db.select({ id: wallets.id }).from(wallets).where(eq(wallets.address, address));
      if (existing) throw new ConflictError("WALLET_ALREADY_REGISTERED", "This address is already registered");
      const [row] = await db
        .insert(wallets)
        .values({ id: crypto.randomUUID(), userId: request.principal!.userId, kind: "self_custody", address })
        .returning();
      return reply.status(201).send(row as z.input<typeof walletView>);
    },
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
      (await loadOwnedWallet(database, request, request.params.walletId)) as z.input<typeof walletView>,
  );

  app.get(
    "/:walletId/balances",
    {
      config: { roles: readers },
      schema: {
        tags: ["wallets"],
        summary:
          "Balances from the ledger (indexed; ?block= for the balance at an indexed block), plus pending movements",
        params: walletParams,
        querystring: z.object({ block: uintInput.optional().describe("balance as of this indexed block") }),
        response: { 200: z.object({ items: z.array(balanceView), pending: z.array(movementView) }), ...errors },
      },
    },
    async (request) => {
      const wallet = await loadOwnedWallet(database, request, request.params.walletId);
      const balances = await getBalances(database, {
        chainId: services.chainId,
        account: wallet.address,
        blockNumber: request.query.block,
      });
      const pending = request.query.block === undefined ? await listPendingMovements(services, wallet.id) : [];
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
          fromBlock: uintInput.optional(),
          toBlock: uintInput.optional(),
          fromTime: uintInput.optional().describe("unix seconds, inclusive"),
          toTime: uintInput.optional().describe("unix seconds, inclusive"),
        }),
        response: { 200: page(historyItemView), ...errors },
      },
    },
    async (request) => {
      const wallet = await loadOwnedWallet(database, request, request.params.walletId);
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
        summary: "CSV statement over a block range (opening, entries, closing)",
        params: walletParams,
        querystring: z
          .object({ fromBlock: uintInput, toBlock: uintInput })
          .refine((q) => q.fromBlock <= q.toBlock, "fromBlock must be ≤ toBlock"),
        response: { 200: z.string(), ...errors },
      },
    },
    async (request, reply) => {
      const wallet = await loadOwnedWallet(database, request, request.params.walletId);
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
    async (request) => {
      const wallet = await loadOwnedWallet(database, request, request.params.walletId, { write: true });
      const now = await services.tokenReads.chainTime();
      return typedDataJson(
        transferAuthorizationTypedData(await services.tokenReads.domain(), {
          from: wallet.address as `0x${string}`,
          to: request.query.to,
          value: request.query.amount,
          validAfter: request.query.validAfter ?? 0n,
          validBefore: request.query.validBefore ?? now + BigInt(services.settings.authorizationTtlSeconds),
          nonce: randomAuthorizationNonce(),
        }),
      ) as z.input<typeof typedDataView>;
    },
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
      const wallet = await loadOwnedWallet(database, request, request.params.walletId, { write: true });
      const body = request.body;
      let from: Address;
      let sign: () => Promise<SignedTransfer>;
      if ("signature" in body) {
        if (wallet.kind !== "self_custody")
          throw new ValidationError("WALLET_IS_CUSTODIAL", "This is a custodial wallet; send only {to, amount}");
        from = wallet.address as Address;
        const signed: SignedTransfer = {
          authorization: {
            from,
            to: body.to,
            value: body.amount,
            validAfter: body.validAfter,
            validBefore: body.validBefore,
            nonce: body.nonce,
          },
          signature: body.signature,
        };
        sign = async () => signed;
      } else {
        const encryptedKey = wallet.encryptedKey;
        if (wallet.kind !== "custodial" || !encryptedKey) {
          throw new ValidationError(
            "SIGNATURE_REQUIRED",
            "This is a self-custody wallet: sign the typed data from GET …/transfers/typed-data and send it",
          );
        }
        from = wallet.address as Address;
        sign = () =>
          signCustodialTransfer(services.tokenReads, {
            kek: services.keyEncryptionKey,
            walletId: wallet.id,
            encryptedKey,
            to: body.to,
            value: body.amount,
            ttlSeconds: services.settings.authorizationTtlSeconds,
          });
      }
      const token = services.contracts.stablecoin;
      const movement = await submitMoneyMovement(services, {
        kind: "transfer",
        userId: wallet.userId,
        walletId: wallet.id,
        token,
        from,
        to: body.to,
        amount: body.amount,
        idempotencyKey: String(request.headers["idempotency-key"]),
        prepare: async () => {
          const { authorization, signature } = await sign();
          await verifyTransferAuthorization(database, services.tokenReads, authorization, signature);
          return transferRelay(token, authorization, signature);
        },
      });
      return reply.status(202).send({ ...movement, transactionHash: null });
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
      const wallet = await loadOwnedWallet(database, request, request.params.walletId);
      const { items, nextCursor } = await seqPage(
        moneyMovements.seq,
        [eq(moneyMovements.walletId, wallet.id)],
        request.query,
        (where, order, rows) => db.select().from(moneyMovements).where(where).orderBy(order).limit(rows),
      );
      const withStatus = await Promise.all(
        items.map(async (m) => {
          const relay = m.relayId ? await services.relay.getRelay(m.relayId) : undefined;
          return { ...m, status: relay?.state ?? m.status, transactionHash: relay?.transactionHash ?? null };
        }),
      );
      return {
        items: withStatus,
        nextCursor,
      };
    },
  );
};
