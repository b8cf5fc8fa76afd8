import { getAddress, type Address, type Hash, type Hex } from "viem";

import { toJsonSafe } from "./json.ts";
import type { escrowPaymentStates } from "./schema.ts";
import type { DecodedLog, PaymentState } from "./types.ts";

/**
 * Escrow payment state machine, mirrored from the escrow's events (pure).
 * authorize: held = amount · capture: held −= amount, captured += amount · void / reclaim: held = 0 ·
 * refund: refunded += amount.
 * @param previous - the payment's state before this event (undefined for PaymentAuthorized)
 * @param log - a decoded PaymentEscrow event
 * @returns the payment's state after the event, or undefined when the event names an unknown payment
 */
export function applyEscrowEvent(previous: PaymentState | undefined, log: DecodedLog): PaymentState | undefined {
  const args = log.args;
  const at = {
    chainId: log.chainId,
    blockNumber: log.blockNumber,
    logIndex: log.logIndex,
    transactionHash: log.transactionHash,
    event: log.eventName,
  };
  if (log.eventName === "PaymentAuthorized") {
    const terms = args.terms as Record<string, unknown>;
    return {
      ...at,
      paymentId: (args.paymentId as Hex).toLowerCase() as Hex,
      status: "authorized",
      payer: getAddress(args.payer as Address),
      merchant: getAddress(args.merchant as Address),
      operator: getAddress(args.operator as Address),
      token: getAddress(args.token as Address),
      // A charge (authorize + capture in one call) starts like an authorization.
      held: (previous?.held ?? 0n) + (args.amount as bigint),
      captured: previous?.captured ?? 0n,
      refunded: previous?.refunded ?? 0n,
      terms: toJsonSafe(terms) as Record<string, unknown>,
    };
  }
  if (!previous) return undefined;
  const amount = args.amount as bigint;
  switch (log.eventName) {
    case "PaymentCaptured":
      return {
        ...previous,
        ...at,
        held: previous.held - amount,
        captured: previous.captured + amount,
        status: "captured",
      };
    case "PaymentVoided":
      return { ...previous, ...at, held: 0n, status: "voided" };
    case "PaymentReclaimed":
      return { ...previous, ...at, held: 0n, status: "reclaimed" };
    case "PaymentRefunded": {
      const refunded = previous.refunded + amount;
      return {
        ...previous,
        ...at,
        refunded,
        status: refunded >= previous.captured ? "refunded" : "partially_refunded",
      };
    }
    default:
      return previous;
  }
}

/** Maps a stored escrow payment state row (escrow_payment_states) back to its typed form. */
export function rowToPaymentState(row: typeof escrowPaymentStates.$inferSelect): PaymentState {
  return {
    ...row,
    paymentId: row.paymentId as PaymentState["paymentId"],
    transactionHash: row.transactionHash as Hash,
    status: row.status as PaymentState["status"],
    payer: row.payer as PaymentState["payer"],
    merchant: row.merchant as PaymentState["merchant"],
    operator: row.operator as PaymentState["operator"],
    token: row.token as PaymentState["token"],
    held: BigInt(row.held),
    captured: BigInt(row.captured),
    refunded: BigInt(row.refunded),
    terms: row.terms as Record<string, unknown>,
  };
}
