import { z } from "zod";

import {
  addressOutput,
  amountInput,
  amountOutput,
  authorizationTypedDataView,
  bytes32,
  idParam,
  signatureInput,
  typedDataView,
  uintInput,
} from "./common.ts";

/** Schemas of /v1/payments: payment requests, paying them, and the merchant's actions on them. */

const DAY = 86_400;

export const createPaymentRequestBody = z
  .object({
    walletId: idParam.describe("the merchant's wallet that receives captured funds"),
    amount: amountInput,
    reference: z.string().min(1).max(200).describe("the merchant's own reference (order number), unique per merchant"),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * DAY)
      .default(3_600)
      .describe("seconds from now (chain time) until the request can no longer be paid or captured"),
    refundWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(365 * DAY)
      .default(30 * DAY)
      .describe("seconds after the authorization expiry during which captured funds may be refunded"),
    captureMode: z
      .enum(["authorize", "charge"])
      .default("authorize")
      .describe("authorize: hold now, capture later; charge: authorize and capture in one call"),
  })
  .strict();

export const paymentTermsView = z.object({
  operator: addressOutput,
  payer: addressOutput.describe("the zero address until a payer pays"),
  merchant: addressOutput,
  token: addressOutput,
  maxAmount: amountOutput,
  authorizationExpiry: z.number(),
  refundExpiry: z.number(),
  minFeeBps: z.number(),
  maxFeeBps: z.number(),
  feeReceiver: addressOutput,
  salt: z.string(),
});

const paymentStateView = z.object({
  event: z.string(),
  status: z.string(),
  held: amountOutput,
  captured: amountOutput,
  refunded: amountOutput,
  blockNumber: z.string(),
  transactionHash: z.string(),
});

export const paymentRequestView = z.object({
  id: z.string(),
  merchantWalletId: z.string(),
  reference: z.string(),
  amount: amountOutput,
  captureMode: z.string(),
  status: z.string().describe("open | paid"),
  paymentId: z.string().nullable().describe("PaymentEscrow payment id, once paid"),
  payerWalletId: z.string().nullable(),
  expiresAt: z.number().describe("authorizationExpiry, unix seconds (chain time)"),
  refundExpiresAt: z.number(),
  terms: paymentTermsView,
  payment: paymentStateView.nullable().describe("the escrow payment's state from the ledger (indexed)"),
  history: z.array(paymentStateView),
  pending: z
    .array(
      z.object({
        id: z.string(),
        kind: z.string(),
        amount: amountOutput,
        status: z.string(),
        relayId: z.string().nullable(),
        transactionHash: z.string().nullable(),
      }),
    )
    .describe("movements still in the relayer, not yet in the ledger"),
  createdAt: z.date(),
});

/** An open payment request as a user who is neither its merchant nor its payer reads it (a payment link). */
export const paymentLinkView = paymentRequestView
  .pick({
    id: true,
    reference: true,
    amount: true,
    captureMode: true,
    status: true,
    expiresAt: true,
    refundExpiresAt: true,
    terms: true,
    createdAt: true,
  })
  .strict()
  .describe("a payment link: what any user may read of an open request to pay it");

export const payBody = z.union([
  z.object({ walletId: idParam }).strict().describe("custodial wallet: the service signs"),
  z
    .object({ walletId: idParam, validAfter: uintInput, validBefore: uintInput, signature: signatureInput })
    .strict()
    .describe("self-custody wallet: the ReceiveWithAuthorization typed data from GET …/typed-data, signed"),
]);

export const payTypedDataQuery = z.object({ walletId: idParam });

export const payTypedDataView = authorizationTypedDataView;

export const amountBody = z.object({ amount: amountInput }).strict();
export const emptyBody = z.object({}).strict().optional();

export const reclaimBody = z
  .union([
    z.object({}).strict().describe("custodial wallet: the service signs"),
    z
      .object({ deadline: z.number().int().positive(), signature: signatureInput })
      .strict()
      .describe("self-custody wallet: the ForwardRequest typed data from GET …/reclaim/typed-data, signed"),
  ])
  .optional();

export const forwardRequestTypedDataView = typedDataView({
  from: addressOutput,
  to: addressOutput,
  value: z.string(),
  gas: z.string(),
  nonce: z.string(),
  deadline: z.number(),
  data: z.string(),
});

export const refundBody = z.union([
  z.object({ amount: amountInput }).strict().describe("custodial wallet: the service signs"),
  z
    .object({
      amount: amountInput,
      refundSalt: bytes32.describe("the refundSalt GET …/refunds/typed-data returned with the typed data"),
      validAfter: uintInput,
      validBefore: uintInput,
      signature: signatureInput,
    })
    .strict()
    .describe("self-custody wallet: the ReceiveWithAuthorization typed data from GET …/refunds/typed-data, signed"),
]);

export const refundTypedDataQuery = z.object({ amount: amountInput });

export const refundTypedDataView = z.object({
  refundSalt: z.string().describe("send it back with the signature: the authorization's nonce is derived from it"),
  authorization: authorizationTypedDataView.describe(
    "EIP-3009 ReceiveWithAuthorization of the refund to the escrow; nonce = PaymentEscrow.getRefundNonce(paymentId, refundSalt)",
  ),
});
