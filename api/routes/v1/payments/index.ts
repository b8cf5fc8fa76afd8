import { seqPage } from "../../../db/seq-page.ts";
import { eq } from "drizzle-orm";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Address } from "viem";
import { z } from "zod";

import { readsEverything } from "../../../auth/principal.ts";
import { paymentRequests } from "../../../db/schema.ts";
import { capturePayment, voidPayment } from "../../../merchants/capture-payment.ts";
import { createPaymentRequest } from "../../../merchants/create-payment-request.ts";
import { loadPaymentRequest } from "../../../merchants/load-payment-request.ts";
import { loadPaidPayment } from "../../../merchants/paid-payment.ts";
import { authorizationWindow, payPaymentRequest, termsForPayer } from "../../../merchants/pay-payment-request.ts";
import { paymentView } from "../../../merchants/payment-view.ts";
import type { PaymentRequestRow } from "../../../merchants/load-payment-request.ts";
import { receiveAuthorizationTypedData } from "../../../merchants/receive-authorization.ts";
import { reclaimPayment, reclaimTypedData } from "../../../merchants/reclaim-payment.ts";
import { refundPayment, refundTypedData } from "../../../merchants/refund-payment.ts";
import { PaymentStateError } from "../../../merchants/errors.ts";
import { errorResponse, idParam, page, paginationQuery } from "../../../schemas/common.ts";
import {
  amountBody,
  createPaymentRequestBody,
  emptyBody,
  forwardRequestTypedDataView,
  payBody,
  paymentRequestView,
  payTypedDataQuery,
  payTypedDataView,
  reclaimBody,
  refundBody,
  refundTypedDataQuery,
  refundTypedDataView,
} from "../../../schemas/payments.ts";
import { typedDataJson } from "../../../schemas/typed-data-json.ts";
import { movementView } from "../../../schemas/wallets.ts";
import { loadOwnedWallet } from "../../../wallets/load-owned-wallet.ts";

const params = z.object({ paymentRequestId: idParam });
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const moneyErrors = { ...errors, 409: errorResponse, 422: errorResponse, 503: errorResponse };
const idempotencyHeader = z.object({ "idempotency-key": z.string().optional() }).loose();
const readers = ["user", "merchant", "operator", "auditor", "admin"] as const;

/**
 * Payment requests: merchants create them with escrow terms fixed by the API; payers pay them
 * (authorize or charge); merchants capture, void and refund; payers reclaim after expiry. Every
 * movement goes through submitMoneyMovement, every money POST needs an Idempotency-Key.
 */
export const paymentRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const { database } = services;
  const view = async (row: PaymentRequestRow) =>
    (await paymentView(services, row)) as z.input<typeof paymentRequestView>;
  const movement = (m: { relayId: string | null }) => ({ ...m, transactionHash: null }) as z.input<typeof movementView>;

  app.post(
    "/",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["payments"],
        summary: "Create a payment request (PaymentEscrow terms fixed by the API; the payer is filled in when paid)",
        body: createPaymentRequestBody,
        response: { 201: paymentRequestView, 409: errorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const wallet = await loadOwnedWallet(database, request, request.body.walletId, { write: true });
      const row = await createPaymentRequest(services, {
        merchantUserId: request.principal!.userId,
        wallet,
        ...request.body,
      });
      return reply.status(201).send(await view(row));
    },
  );

  app.get(
    "/",
    {
      config: { roles: ["merchant", "operator", "auditor", "admin"] },
      schema: {
        tags: ["payments"],
        summary: "Your payment requests, newest first (staff: everyone's)",
        querystring: paginationQuery,
        response: { 200: page(paymentRequestView), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const conditions = readsEverything(principal.role) ? [] : [eq(paymentRequests.merchantUserId, principal.userId)];
      const { items, nextCursor } = await seqPage(
        paymentRequests.seq,
        conditions,
        request.query,
        (where, order, rows) => database.db.select().from(paymentRequests).where(where).orderBy(order).limit(rows),
      );
      return { items: await Promise.all((items as PaymentRequestRow[]).map(view)), nextCursor };
    },
  );

  app.get(
    "/:paymentRequestId",
    {
      config: { roles: readers },
      schema: {
        tags: ["payments"],
        summary: "A payment request with its escrow payment's ledger state, history and pending movements",
        params,
        response: { 200: paymentRequestView, ...errors },
      },
    },
    async (request) => view(await loadPaymentRequest(database, request, request.params.paymentRequestId, "read")),
  );

  app.get(
    "/:paymentRequestId/typed-data",
    {
      config: { roles: ["user"] },
      schema: {
        tags: ["payments"],
        summary: "EIP-712 ReceiveWithAuthorization typed data a self-custody payer signs (nonce = payment id)",
        params,
        querystring: payTypedDataQuery,
        response: { 200: payTypedDataView, 409: errorResponse, ...errors },
      },
    },
    async (request) => {
      const row = await loadPaymentRequest(database, request, request.params.paymentRequestId, "payer");
      const wallet = await loadOwnedWallet(database, request, request.query.walletId, { write: true });
      const { terms, paymentId } = termsForPayer(services, row, wallet.address as Address);
      const window = await authorizationWindow(services, terms);
      if (window.now >= BigInt(terms.authorizationExpiry)) {
        throw new PaymentStateError("PAYMENT_REQUEST_EXPIRED", "This payment request has expired");
      }
      return typedDataJson(
        receiveAuthorizationTypedData(await services.tokenReads.domain(), {
          from: wallet.address as Address,
          to: services.contracts.paymentEscrow,
          value: BigInt(row.amount),
          validAfter: window.validAfter,
          validBefore: window.validBefore,
          nonce: paymentId,
        }),
      ) as z.input<typeof payTypedDataView>;
    },
  );

  app.post(
    "/:paymentRequestId/pay",
    {
      config: { roles: ["user"], idempotent: true },
      schema: {
        tags: ["payments"],
        summary:
          "Pay from your wallet (Idempotency-Key required): authorize or charge per the request's capture mode. Custodial: {walletId}; self-custody: the signed authorization",
        params,
        headers: idempotencyHeader,
        body: payBody,
        response: { 202: movementView, ...moneyErrors },
      },
    },
    async (request, reply) => {
      const row = await loadPaymentRequest(database, request, request.params.paymentRequestId, "payer");
      const wallet = await loadOwnedWallet(database, request, request.body.walletId, { write: true });
      const body = request.body;
      const moved = await payPaymentRequest(services, {
        paymentRequest: row,
        payerUserId: request.principal!.userId,
        wallet,
        signed:
          "signature" in body
            ? { validAfter: body.validAfter, validBefore: body.validBefore, signature: body.signature }
            : undefined,
        idempotencyKey: String(request.headers["idempotency-key"]),
      });
      return reply.status(202).send(movement(moved));
    },
  );

  const merchantAction = <Body extends z.ZodType>(
    path: string,
    summary: string,
    body: Body,
    act: (input: {
      row: PaymentRequestRow;
      userId: string;
      body: z.output<Body>;
      idempotencyKey: string;
      wallet: Awaited<ReturnType<typeof loadOwnedWallet>>;
    }) => Promise<{ relayId: string | null }>,
  ) =>
    app.post(
      `/:paymentRequestId/${path}`,
      {
        config: { roles: ["merchant"], idempotent: true },
        schema: {
          tags: ["payments"],
          summary,
          params,
          headers: idempotencyHeader,
          body,
          response: { 202: movementView, ...moneyErrors },
        },
      },
      async (request, reply) => {
        const row = await loadPaymentRequest(database, request, request.params.paymentRequestId, "merchant");
        const wallet = await loadOwnedWallet(database, request, row.merchantWalletId, { write: true });
        const moved = await act({
          row,
          userId: request.principal!.userId,
          body: request.body as z.output<Body>,
          idempotencyKey: String(request.headers["idempotency-key"]),
          wallet,
        });
        return reply.status(202).send(movement(moved));
      },
    );

  merchantAction(
    "captures",
    "Capture part or all of what the payment holds to your wallet (Idempotency-Key required)",
    amountBody,
    async ({ row, userId, body, idempotencyKey, wallet }) =>
      capturePayment(services, {
        payment: await loadPaidPayment(services, row),
        merchantUserId: userId,
        wallet,
        amount: body.amount,
        idempotencyKey,
      }),
  );
  merchantAction(
    "void",
    "Void the payment: the operator returns everything held to the payer (Idempotency-Key required)",
    emptyBody,
    async ({ row, userId, idempotencyKey, wallet }) =>
      voidPayment(services, {
        payment: await loadPaidPayment(services, row),
        merchantUserId: userId,
        wallet,
        idempotencyKey,
      }),
  );
  merchantAction(
    "refunds",
    "Refund captured funds to the payer from your wallet, before the refund expiry (Idempotency-Key required). Custodial: {amount}; self-custody: the signed typed data of GET …/refunds/typed-data",
    refundBody,
    async ({ row, userId, body, idempotencyKey, wallet }) =>
      refundPayment(services, {
        payment: await loadPaidPayment(services, row),
        merchantUserId: userId,
        wallet,
        amount: body.amount,
        signed:
          "signature" in body
            ? {
                refundSalt: body.refundSalt,
                validAfter: body.validAfter,
                validBefore: body.validBefore,
                signature: body.signature,
              }
            : undefined,
        idempotencyKey,
      }),
  );

  app.get(
    "/:paymentRequestId/refunds/typed-data",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["payments"],
        summary:
          "What a self-custody merchant signs to refund ?amount=: one EIP-3009 ReceiveWithAuthorization to the escrow bound to this refund (PaymentEscrow.refundWithAuthorization pulls it and pays the payer in one transaction; no allowance is ever given)",
        params,
        querystring: refundTypedDataQuery,
        response: { 200: refundTypedDataView, 409: errorResponse, ...errors },
      },
    },
    async (request) => {
      const row = await loadPaymentRequest(database, request, request.params.paymentRequestId, "merchant");
      const wallet = await loadOwnedWallet(database, request, row.merchantWalletId, { write: true });
      const { refundSalt, authorization } = await refundTypedData(
        services,
        await loadPaidPayment(services, row),
        wallet,
        request.query.amount,
      );
      return { refundSalt, authorization: typedDataJson(authorization) } as z.input<typeof refundTypedDataView>;
    },
  );

  /** The payer's wallet of a paid request, for the payer's own actions on it. */
  const payerWallet = async (request: FastifyRequest, row: PaymentRequestRow) => {
    if (!row.payerWalletId)
      throw new PaymentStateError("PAYMENT_NOT_AUTHORIZED", "Nobody has paid this payment request yet");
    return loadOwnedWallet(database, request, row.payerWalletId, { write: true });
  };

  app.get(
    "/:paymentRequestId/reclaim/typed-data",
    {
      config: { roles: ["user"] },
      schema: {
        tags: ["payments"],
        summary:
          "EIP-712 ForwardRequest a self-custody payer signs to reclaim after the expiry (PaymentEscrow.reclaim)",
        params,
        response: { 200: forwardRequestTypedDataView, 409: errorResponse, ...errors },
      },
    },
    async (request) => {
      const row = await loadPaymentRequest(database, request, request.params.paymentRequestId, "payer");
      const wallet = await payerWallet(request, row);
      return typedDataJson(await reclaimTypedData(services, await loadPaidPayment(services, row), wallet)) as z.input<
        typeof forwardRequestTypedDataView
      >;
    },
  );

  app.post(
    "/:paymentRequestId/reclaim",
    {
      config: { roles: ["user"], idempotent: true },
      schema: {
        tags: ["payments"],
        summary:
          "Payer: take back what the payment holds once its authorization has expired (Idempotency-Key required). Custodial: {}; self-custody: the signed forward request",
        params,
        headers: idempotencyHeader,
        body: reclaimBody,
        response: { 202: movementView, ...moneyErrors },
      },
    },
    async (request, reply) => {
      const row = await loadPaymentRequest(database, request, request.params.paymentRequestId, "payer");
      const wallet = await payerWallet(request, row);
      const body = request.body;
      const moved = await reclaimPayment(services, {
        payment: await loadPaidPayment(services, row),
        payerUserId: request.principal!.userId,
        wallet,
        signed: body && "signature" in body ? { deadline: body.deadline, signature: body.signature } : undefined,
        idempotencyKey: String(request.headers["idempotency-key"]),
      });
      return reply.status(202).send(movement(moved));
    },
  );
};
