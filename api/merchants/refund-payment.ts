import { and, eq, sql } from "drizzle-orm";
import { encodeFunctionData, type Address, type Hex } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { StablerailError, UnavailableError } from "../../lib/errors/base.ts";
import { moneyMovements, type wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { relayIdFor } from "../relayer/enqueue-relay.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { custodialKeyOf } from "./custodial-key.ts";
import { PaymentStateError, PaymentWalletError, RefundExceedsCapturedError } from "./errors.ts";
import { readAllowance } from "./escrow-reads.ts";
import { forwardRequestTypedData, signForwardRequest, verifyForwardRequest } from "./forward-request.ts";
import type { PaidPayment } from "./paid-payment.ts";
import { abiTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-movements.ts";
import { permitTypedData, signPermit, verifyPermit } from "./permit.ts";

/** How long a refund request waits for the merchant's allowance (permit) to be mined before answering 503. */
const ALLOWANCE_WAIT_MS = 60_000;

export type RefundPaymentParameters = {
  payment: PaidPayment;
  merchantUserId: string;
  wallet: typeof wallets.$inferSelect;
  amount: bigint;
  /** A self-custody merchant's signatures of the typed data from GET …/refunds/typed-data. */
  signed?: SignedRefund | undefined;
  idempotencyKey: string;
};

export type SignedRefund = {
  /** Needed when the merchant's allowance to the escrow is below the amount. */
  permit?: { deadline: bigint; signature: Hex } | undefined;
  forwardRequest: { deadline: number; signature: Hex };
};

/** @throws REFUND_EXPIRED, RefundExceedsCapturedError */
function assertRefundable(payment: PaidPayment, amount: bigint): void {
  if (payment.chainTime >= BigInt(payment.terms.refundExpiry)) {
    throw new PaymentStateError("REFUND_EXPIRED", "The refund window of this payment has closed");
  }
  const refundable = payment.state.captured - payment.state.refunded - pendingTotal(payment.pending, "payment.refund");
  if (amount > refundable) throw new RefundExceedsCapturedError(refundable < 0n ? 0n : refundable, amount);
}

/** The forwarded call PaymentEscrow.refund(terms, amount) and the deadline the API proposes. */
function refundCall(services: AppServices, payment: PaidPayment, amount: bigint) {
  return {
    to: services.contracts.paymentEscrow,
    data: encodeFunctionData({
      abi: paymentEscrowAbi,
      functionName: "refund",
      args: [abiTerms(payment.terms), amount],
    }),
    deadline: payment.chainTime + BigInt(services.settings.authorizationTtlSeconds),
  };
}

/**
 * What a self-custody merchant signs to refund `amount` (GET …/refunds/typed-data): an EIP-2612
 * permit to the escrow when its allowance is short (else null), and the forward request calling refund.
 */
export async function refundTypedData(
  services: AppServices,
  payment: PaidPayment,
  wallet: typeof wallets.$inferSelect,
  amount: bigint,
) {
  if (wallet.kind !== "self_custody") {
    throw new PaymentWalletError("WALLET_IS_CUSTODIAL", "This is a custodial wallet: POST …/refunds with {amount}");
  }
  assertRefundable(payment, amount);
  const merchant = wallet.address as Address;
  const call = refundCall(services, payment, amount);
  const escrow = services.contracts.paymentEscrow;
  const allowance = await readAllowance(services.publicClient, services.contracts.stablecoin, merchant, escrow);
  return {
    permit:
      allowance < amount
        ? await permitTypedData({
            publicClient: services.publicClient,
            domain: await services.tokenReads.domain(),
            owner: merchant,
            spender: escrow,
            value: amount,
            deadline: call.deadline,
          })
        : null,
    forwardRequest: await forwardRequestTypedData({
      publicClient: services.publicClient,
      chainId: services.chainId,
      forwarder: services.contracts.forwarder,
      from: merchant,
      ...call,
      deadline: Number(call.deadline),
    }),
  };
}

/**
 * Refunds captured funds to the payer from the merchant's own wallet. PaymentEscrow.refund pulls the
 * tokens from its caller, so the refund is two relays, each through the money door:
 * 1. when the merchant's allowance to the escrow is short, an EIP-2612 permit of `amount`
 *    (`token.permit`) — signed with the merchant's custodial key, or by a self-custody merchant and
 *    verified — awaited until mined: the relayer sends jobs in parallel, and a refund simulated
 *    before its allowance exists would fail for good;
 * 2. the merchant's ERC-2771 forward request calling `refund(terms, amount)` (`forwarder.execute`),
 *    so the escrow sees the merchant as the refunder (a self-custody merchant's signature is
 *    verified before the permit is sent, so a bad one moves nothing).
 * One refund per merchant wallet at a time: the permit and forwarder nonces are sequential.
 * @throws RefundExceedsCapturedError, PaymentStateError REFUND_EXPIRED, ConflictError REFUND_IN_PROGRESS,
 *   PERMIT_REQUIRED (self-custody, allowance short, no permit signed), signature errors
 */
export async function refundPayment(services: AppServices, p: RefundPaymentParameters): Promise<MoneyMovement> {
  const { payment, wallet, signed } = p;
  const merchant = wallet.address as Address;
  if (signed && wallet.kind !== "self_custody") {
    throw new PaymentWalletError("WALLET_IS_CUSTODIAL", "This is a custodial wallet: POST …/refunds with {amount}");
  }
  const key = signed ? undefined : custodialKeyOf(services, wallet, "A refund without signatures");
  assertRefundable(payment, p.amount);
  await assertNoRefundInFlight(
    services,
    wallet.id,
    relayIdFor(`payment.refund.${p.merchantUserId}.${p.idempotencyKey}`),
  );

  const common = {
    kind: "payment.refund" as const,
    userId: p.merchantUserId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: merchant,
    amount: p.amount,
  };
  const escrow = services.contracts.paymentEscrow;
  const details = { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId };
  const call = refundCall(services, payment, p.amount);
  const chain = {
    publicClient: services.publicClient,
    chainId: services.chainId,
    forwarder: services.contracts.forwarder,
  };
  const signedForward = signed
    ? await verifyForwardRequest({
        ...chain,
        ...call,
        from: merchant,
        deadline: signed.forwardRequest.deadline,
        signature: signed.forwardRequest.signature,
        chainTime: payment.chainTime,
      })
    : undefined;

  const allowance = await readAllowance(services.publicClient, services.contracts.stablecoin, merchant, escrow);
  if (allowance < p.amount) {
    if (signed && !signed.permit) {
      throw new StablerailError(
        "PERMIT_REQUIRED",
        "The wallet's allowance to the escrow is below the refund: sign the permit from GET …/refunds/typed-data too",
        { details: { allowance: allowance.toString(), amount: p.amount.toString() } },
      );
    }
    const permitParameters = {
      publicClient: services.publicClient,
      domain: await services.tokenReads.domain(),
      spender: escrow,
      value: p.amount,
    };
    const permit = await submitMoneyMovement(services, {
      ...common,
      to: escrow,
      idempotencyKey: `${p.idempotencyKey}.allowance`,
      prepare: async () => ({
        request: key
          ? await signPermit({ ...permitParameters, privateKey: key, deadline: call.deadline })
          : await verifyPermit({
              ...permitParameters,
              owner: merchant,
              deadline: signed!.permit!.deadline,
              signature: signed!.permit!.signature,
              chainTime: payment.chainTime,
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
      request:
        signedForward ??
        (await signForwardRequest({ ...chain, privateKey: key!, ...call, deadline: Number(call.deadline) })),
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
