import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Address } from "viem";
import { z } from "zod";

import { receiveWithAuthorizationTypedData } from "../../../../lib/signing/receive-with-authorization.ts";
import { readsEverything, type Principal } from "../../../auth/principal.ts";
import { paymentRequests } from "../../../db/schema.ts";
import { seqPage } from "../../../db/seq-page.ts";
import { capturePayment } from "../../../payments/capture-payment.ts";
import { createPaymentRequest } from "../../../payments/create-payment-request.ts";
import { loadPaymentRequest, type PaymentRequestRow } from "../../../payments/load-payment-request.ts";
import { payerAuthorization, payPaymentRequest } from "../../../payments/pay-payment-request.ts";
import { paymentLinkView, paymentView } from "../../../payments/payment-view.ts";
import { reclaimPayment, reclaimTypedData } from "../../../payments/reclaim-payment.ts";
import { refundPayment, refundTypedData } from "../../../payments/refund-payment.ts";
import { voidPayment } from "../../../payments/void-payment.ts";
import { errorResponse, idParam, page, paginationQuery } from "../../../schemas/common.ts";
import {
  amountBody,
  createPaymentRequestBody,
  emptyBody,
  forwardRequestTypedDataView,
  payBody,
  paymentLinkView as paymentLinkViewSchema,
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
      const row = await createPaymentRequest(services, { principal: request.principal!, ...request.body });
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
        summary:
          "A payment request with its escrow payment's ledger state, history and pending movements; any user may read an open request as a payment link (only what a payer needs)",
        params,
        response: { 200: z.union([paymentRequestView, paymentLinkViewSchema]), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const row = await loadPaymentRequest(database, principal, request.params.paymentRequestId, "read");
      const ownsIt = row.merchantUserId === principal.userId || row.payerUserId === principal.userId;
      // Reaching here without owning it and without staff's read-all means: a user reading an open link.
      if (!ownsIt && !readsEverything(principal.role))
        return paymentLinkView(row) as z.input<typeof paymentLinkViewSchema>;
      return view(row);
    },
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
      const row = await loadPaymentRequest(database, request.principal, request.params.paymentRequestId, "payer");
      const wallet = await loadOwnedWallet(database, request.principal, request.query.walletId, { write: true });
      const { authorization } = await payerAuthorization(services, row, wallet.address as Address);
      return typedDataJson(
        receiveWithAuthorizationTypedData(await services.tokenReads.domain(), authorization),
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
      const body = request.body;
      const moved = await payPaymentRequest(services, {
        principal: request.principal!,
        paymentRequestId: request.params.paymentRequestId,
        walletId: body.walletId,
        signed:
          "signature" in body
            ? { validAfter: body.validAfter, validBefore: body.validBefore, signature: body.signature }
            : undefined,
        idempotencyKey: String(request.headers["idempotency-key"]),
      });
      return reply.status(202).send(movement(moved));
    },
  );

  /** A merchant's money action on its payment: the use case loads the payment and the merchant's wallet. */
  const merchantAction = <Body extends z.ZodType>(
    path: string,
    summary: string,
    body: Body,
    act: (input: {
      principal: Principal;
      paymentRequestId: string;
      body: z.output<Body>;
      idempotencyKey: string;
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
        const moved = await act({
          principal: request.principal!,
          paymentRequestId: request.params.paymentRequestId,
          body: request.body as z.output<Body>,
          idempotencyKey: String(request.headers["idempotency-key"]),
        });
        return reply.status(202).send(movement(moved));
      },
    );

  merchantAction(
    "captures",
    "Capture part or all of what the payment holds to your wallet (Idempotency-Key required)",
    amountBody,
    ({ body, ...input }) => capturePayment(services, { ...input, amount: body.amount }),
  );
  merchantAction(
    "void",
    "Void the payment: the operator returns everything held to the payer (Idempotency-Key required)",
    emptyBody,
    ({ body: _body, ...input }) => voidPayment(services, input),
  );
  merchantAction(
    "refunds",
    "Refund captured funds to the payer from your wallet, before the refund expiry (Idempotency-Key required). Custodial: {amount}; self-custody: the signed typed data of GET …/refunds/typed-data",
    refundBody,
    ({ body, ...input }) =>
      refundPayment(services, {
        ...input,
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
      const { refundSalt, authorization } = await refundTypedData(services, {
        principal: request.principal!,
        paymentRequestId: request.params.paymentRequestId,
        amount: request.query.amount,
      });
      return { refundSalt, authorization: typedDataJson(authorization) } as z.input<typeof refundTypedDataView>;
    },
  );

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
    async (request) =>
      typedDataJson(
        await reclaimTypedData(services, {
          principal: request.principal!,
          paymentRequestId: request.params.paymentRequestId,
        }),
      ) as z.input<typeof forwardRequestTypedDataView>,
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
      const body = request.body;
      const moved = await reclaimPayment(services, {
        principal: request.principal!,
        paymentRequestId: request.params.paymentRequestId,
        signed: body && "signature" in body ? { deadline: body.deadline, signature: body.signature } : undefined,
        idempotencyKey: String(request.headers["idempotency-key"]),
      });
      return reply.status(202).send(movement(moved));
    },
  );
};
