import { z } from "zod";

import {
  addressInput,
  addressOutput,
  amountInput,
  amountOutput,
  authorizationTypedDataView,
  bytes32,
  signatureInput,
  uintInput,
} from "./common.ts";

/** The public view of a wallet; the response schema strips the encrypted key and anything else internal. */
export const walletView = z.object({
  id: z.string(),
  kind: z.enum(["custodial", "self_custody"]),
  address: addressOutput,
  createdAt: z.date(),
});

export const balanceView = z.object({ token: addressOutput, balance: amountOutput, lastChangeBlock: z.string() });

export const historyItemView = z.object({
  blockNumber: z.string(),
  blockTimestamp: z.string(),
  transactionHash: z.string(),
  logIndex: z.number(),
  token: addressOutput,
  kind: z.string(),
  reference: z.string().nullable(),
  counterparty: z.string(),
  amount: z.string().describe("signed base units; negative = out"),
  balanceAfter: amountOutput,
});

export const movementView = z.object({
  id: z.string(),
  walletId: z.string().nullable().describe("null for a treasury payout"),
  kind: z.string(),
  from: addressOutput,
  to: addressOutput,
  token: addressOutput,
  amount: amountOutput,
  nonce: z.string(),
  status: z
    .string()
    .describe("queued | submitted | confirmed (relay status while not indexed) | indexed | failed | dead | rejected"),
  relayId: z.string().nullable(),
  transactionHash: z.string().nullable(),
  createdAt: z.date(),
});

export const transferBody = z.union([
  z.object({ to: addressInput, amount: amountInput }).strict().describe("custodial wallet: the service signs"),
  z
    .object({
      to: addressInput,
      amount: amountInput,
      validAfter: uintInput,
      validBefore: uintInput,
      nonce: bytes32,
      signature: signatureInput,
    })
    .strict()
    .describe(
      "self-custody wallet: the TransferWithAuthorization typed data from GET …/typed-data, signed by the wallet",
    ),
]);

export const typedDataQuery = z.object({
  to: addressInput,
  amount: amountInput,
  validAfter: uintInput.optional(),
  validBefore: uintInput.optional(),
});

export const typedDataView = authorizationTypedDataView;
