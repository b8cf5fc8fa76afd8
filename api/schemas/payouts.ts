import { z } from "zod";

import { addressInput, addressOutput, amountInput, amountOutput, bytes32, idParam } from "./common.ts";

/** Schemas of /v1/payouts: batched merchant payouts from the settlement treasury. */

export const MAX_PAYOUT_ITEMS = 500;

const payoutItemInput = z
  .object({
    walletId: idParam.optional().describe("a merchant's wallet (give this or `address`)"),
    address: addressInput.optional().describe("any recipient address (give this or `walletId`)"),
    amount: amountInput,
    reference: z
      .string()
      .min(1)
      .max(200)
      .describe(
        "your reference (invoice, period); logged on chain as bytes32 — as is if 0x + 32 bytes, else its keccak256",
      ),
  })
  .strict()
  .refine((item) => (item.walletId === undefined) !== (item.address === undefined), {
    message: "give exactly one of walletId and address",
  });

export const createPayoutBody = z
  .object({
    batchId: bytes32.optional().describe("0x + 32 bytes, used once ever; a random one when absent"),
    items: z.array(payoutItemInput).min(1).max(MAX_PAYOUT_ITEMS),
  })
  .strict();

export const payoutView = z.object({
  id: z.string(),
  batchId: z.string(),
  token: addressOutput,
  total: amountOutput,
  items: z.array(
    z.object({
      walletId: z.string().nullable(),
      merchant: addressOutput,
      amount: amountOutput,
      reference: z.string(),
      payoutReference: z.string().describe("the bytes32 the contract logs in PayoutItemPaid"),
    }),
  ),
  status: z.string().describe("queued | submitted | confirmed | indexed | failed | dead"),
  error: z.string().nullable(),
  relayId: z.string().nullable(),
  transactionHash: z.string().nullable(),
  createdAt: z.date(),
});
