import { z } from "zod";

import { travelRuleInput } from "../risk/travel-rule.ts";
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

/** A movement's risk decision (api/risk/decide-movement.ts's RiskRecord). */
export const riskView = z.object({
  decision: z.enum(["allow", "step_up", "review", "deny"]),
  reasons: z.array(
    z.object({
      code: z.string(),
      action: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  score: z.number().nullable(),
  model: z.string().nullable(),
  factors: z.array(z.object({ feature: z.string(), value: z.number(), contribution: z.number() })),
  rulesVersion: z.number(),
  stepUp: z.object({ challengeId: z.string(), factor: z.string(), approvedAt: z.string() }).nullable(),
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
    .describe(
      "queued | submitted | confirmed (relay status while not indexed) | indexed | failed | dead | rejected | held (waiting for review) | denied | declined",
    ),
  relayId: z.string().nullable(),
  transactionHash: z.string().nullable(),
  risk: riskView.nullable().optional().describe("the risk engine's decision; null before it"),
  review: z
    .object({ id: z.string(), status: z.string(), reason: z.string().nullable(), decidedAt: z.date().nullable() })
    .nullable()
    .optional()
    .describe("the review of a held movement: status open | approved | rejected, and why it was rejected"),
  createdAt: z.date(),
});

export const transferBody = z.union([
  z
    .object({ to: addressInput, amount: amountInput, travelRule: travelRuleInput.optional() })
    .strict()
    .describe("custodial wallet: the service signs"),
  z
    .object({
      to: addressInput,
      amount: amountInput,
      travelRule: travelRuleInput.optional(),
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
