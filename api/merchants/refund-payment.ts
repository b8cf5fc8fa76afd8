import { and, eq, sql } from "drizzle-orm";
import { encodeFunctionData, type Address } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { UnavailableError } from "../../lib/errors/base.ts";
import { moneyMovements, type wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { relayIdFor } from "../relayer/enqueue-relay.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { custodialKeyOf, isUserFrozen } from "./actor.ts";
import { PaymentStateError, RefundExceedsCapturedError } from "./errors.ts";
import { readAllowance } from "./escrow-reads.ts";
import { signForwardRequest } from "./forward-request.ts";
import type { PaidPayment } from "./paid-payment.ts";
import { abiTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-movements.ts";
import { signPermit } from "./permit.ts";

/** How long a refund request waits for the merchant's allowance (permit) to be mined before answering 503. */
const ALLOWANCE_WAIT_MS = 60_000;

export type RefundPaymentParameters = {
  payment: PaidPayment;
  merchantUserId: string;
  wallet: typeof wallets.$inferSelect;
  amount: bigint;
  idempotencyKey: string;
};

/**
 * Refunds captured funds to the payer from the merchant's own wallet. PaymentEscrow.refund pulls the
 * tokens from its caller, so the refund is two relays, each through the money door:
 * 1. when the merchant's allowance to the escrow is short, a permit of `amount` signed with the
 *    merchant's custodial key (`token.permit`), awaited until mined — the relayer sends jobs in
 *    parallel, and a refund simulated before its allowance exists would fail for good;
 * 2. the merchant's ERC-2771 forward request calling `refund(terms, amount)` (`forwarder.execute`),
 *    so the escrow sees the merchant as the refunder.
 * One refund per merchant wallet at a time: the permit and forwarder nonces are sequential.
 * @throws RefundExceedsCapturedError, PaymentStateError REFUND_EXPIRED, ConflictError REFUND_IN_PROGRESS
 */
export async function refundPayment(services: AppServices, p: RefundPaymentParameters): Promise<MoneyMovement> {
  const { payment, wallet } = p;
  const merchant = wallet.address as Address;
  const key = custodialKeyOf(services, wallet, "A refund");
  if (payment.chainTime >= BigInt(payment.terms.refundExpiry)) {
    throw new PaymentStateError("REFUND_EXPIRED", "The refund window of this payment has closed");
  }
  const refundable = payment.state.captured - payment.state.refunded - pendingTotal(payment.pending, "payment.refund");
  if (p.amount > refundable) throw new RefundExceedsCapturedError(refundable < 0n ? 0n : refundable, p.amount);
  await assertNoRefundInFlight(
    services,
    wallet.id,
    relayIdFor(`payment.refund.${p.merchantUserId}.${p.idempotencyKey}`),
  );

  const common = {
    kind: "payment.refund" as const,
    userId: p.merchantUserId,
    userFrozen: await isUserFrozen(services, p.merchantUserId),
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: merchant,
    amount: p.amount,
  };
  const escrow = services.contracts.paymentEscrow;
  const details = { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId };
  const deadline = payment.chainTime + BigInt(services.settings.authorizationTtlSeconds);

  const allowance = await readAllowance(services.publicClient, services.contracts.stablecoin, merchant, escrow);
  if (allowance < p.amount) {
    const permit = await submitMoneyMovement(services, {
      ...common,
      to: escrow,
      idempotencyKey: `${p.idempotencyKey}.allowance`,
      prepare: async () => ({
        request: await signPermit({
          publicClient: services.publicClient,
          domain: await services.tokenReads.domain(),
          privateKey: key,
          spender: escrow,
          value: p.amount,
          deadline,
        }),
        reference: `${payment.paymentId}.refund-allowance.${crypto.randomUUID()}`,
        details: { ...details, step: "allowance" },
      }),
    });
    await waitForRelay(services, permit.relayId!);
  }

  return submitMoneyMovement(services, {
    ...common,
    to: payment.payer,
    idempotencyKey: p.idempotencyKey,
    prepare: async () => ({
      request: await signForwardRequest({
        publicClient: services.publicClient,
        chainId: services.chainId,
        forwarder: services.contracts.forwarder,
        privateKey: key,
        to: escrow,
        data: encodeFunctionData({
          abi: paymentEscrowAbi,
          functionName: "refund",
          args: [abiTerms(payment.terms), p.amount],
        }),
        deadline: Number(deadline),
      }),
      reference: `${payment.paymentId}.refund.${crypto.randomUUID()}`,
      details: { ...details, step: "refund" },
    }),
  });
}

/** Refuses a second refund from the same wallet while one is still in the relayer (except this request's own retry). */
async function assertNoRefundInFlight(services: AppServices, walletId: string, ownRelayId: string) {
  const queued = await services.database.db
    .select()
    .from(moneyMovements)
    .where(
      and(
        eq(moneyMovements.walletId, walletId),
        eq(moneyMovements.kind, "payment.refund"),
        eq(moneyMovements.status, "queued"),
        sql`${moneyMovements.details}->>'step' = 'refund'`,
      ),
    );
  for (const movement of queued) {
    if (movement.relayId === ownRelayId) continue;
    const relay = movement.relayId ? await services.relay.getRelay(movement.relayId) : undefined;
    if (relay && (relay.state === "queued" || relay.state === "submitted")) {
      throw new ConflictError(
        "REFUND_IN_PROGRESS",
        "Another refund from this wallet is still being sent; retry when it is confirmed",
        { details: { movementId: movement.id } },
      );
    }
  }
}

/** Waits until the permit relay is mined; a failed permit refuses the refund, a slow one answers 503 (retry, same key). */
async function waitForRelay(services: AppServices, relayId: string): Promise<void> {
  const until = Date.now() + ALLOWANCE_WAIT_MS;
  while (Date.now() < until) {
    const relay = await services.relay.getRelay(relayId);
    if (relay?.state === "confirmed") return;
    if (relay && (relay.state === "failed" || relay.state === "dead")) {
      throw new PaymentStateError(
        "REFUND_ALLOWANCE_FAILED",
        `The refund allowance (permit) failed: ${relay.error ?? ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new UnavailableError(
    "REFUND_ALLOWANCE_PENDING",
    "The refund allowance is still being sent; retry with the same Idempotency-Key",
  );
}
