/**
 * Settles an x402 `exact` payment through the platform, not around it: the authorization goes
 * through the money door as a transfer to the merchant's wallet and is sent by the relayer (its
 * keys, nonces, fees, confirmations), so it lands in the ledger and reaches the merchant's webhooks
 * like every other movement.
 *
 * Exactly once: the movement's business key is the authorization itself (payer and EIP-3009 nonce,
 * which the token accepts once), so the same payload settled again — replayed, concurrent, or
 * retried after the caller timed out — finds the same relay and answers its real outcome. With the
 * payment-identifier extension, the same id with another payload is refused (409); with the same
 * payload it answers as the first time.
 */
import { createHash } from "node:crypto";

import { and, eq } from "drizzle-orm";

import type { Principal } from "../auth/principal.ts";
import { moneyMovements } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement } from "../movements/submit-money-movement.ts";
import { checkExactPaymentNow, matchExactPayment, type VerifiedExactPayment } from "./verify-exact-payment.ts";
import type { FacilitatorRequest, SettleResponse } from "./x402-messages.ts";
import { X402Reason, X402Refusal } from "./x402-reasons.ts";

export type SettleOptions = {
  /** How long a settle waits for its relay's outcome before answering `settlement_pending`. */
  waitMs: number;
  /** How long a payment-identifier is remembered (the x402 extension's idempotency window). */
  identifierTtlSeconds: number;
};

/**
 * @returns the SettleResponse, and whether it is a payment-identifier conflict (HTTP 409)
 */
export async function settleExactPayment(
  services: AppServices,
  principal: Principal,
  request: FacilitatorRequest,
  options: SettleOptions,
): Promise<{ response: SettleResponse; conflict?: boolean }> {
  let verified: VerifiedExactPayment;
  try {
    verified = await matchExactPayment(services, principal, request);
  } catch (error) {
    if (error instanceof X402Refusal) return { response: refused(services, error) };
    throw error;
  }
  const businessKey = `x402.${verified.payer.toLowerCase()}.${verified.authorization.nonce}`;
  if (verified.paymentIdentifier !== undefined) {
    const payloadHash = createHash("sha256").update(JSON.stringify(request.paymentPayload)).digest("hex");
    const key = `${services.redisPrefix}:x402:payment-identifier:${principal.userId}:${verified.paymentIdentifier}`;
    const claimed = await services.redis.set(key, payloadHash, "EX", options.identifierTtlSeconds, "NX");
    if (claimed === null && (await services.redis.get(key)) !== payloadHash) {
      return {
        conflict: true,
        response: {
          success: false,
          errorReason: X402Reason.paymentIdentifierConflict,
          errorMessage: "This payment identifier was used for another payment",
          payer: verified.payer,
          transaction: "",
          network: verified.network,
        },
      };
    }
  }

  // Settled (or settling) already? An EIP-3009 authorization is one (payer, nonce): the movement
  // recorded for it answers, if it is this very payment.
  const existing = await movementOf(services, verified);
  if (existing === "another") {
    return { response: refused(services, nonceUsed(verified)) };
  }
  if (existing) return { response: await outcome(services, verified, existing, options.waitMs) };
  try {
    await checkExactPaymentNow(services, principal, verified);
  } catch (error) {
    if (error instanceof X402Refusal) return { response: refused(services, error) };
    throw error;
  }

  const movement = await submitMoneyMovement(services, {
    kind: "transfer",
    userId: principal.userId,
    walletId: verified.payTo.walletId,
    token: services.contracts.stablecoin,
    from: verified.payer,
    to: verified.payTo.address,
    amount: verified.authorization.value,
    idempotencyKey: businessKey,
    prepare: async () => {
      // A new settlement (not a retry of ours): the nonce must still be unused.
      if (await services.tokenReads.isAuthorizationUsed(verified.payer, verified.authorization.nonce)) {
        throw new X402Refusal(X402Reason.nonceUsed, "This authorization was already used on chain");
      }
      const a = verified.authorization;
      return {
        request: {
          kind: "token.transferWithAuthorization" as const,
          token: services.contracts.stablecoin,
          from: a.from,
          to: a.to,
          value: a.value.toString(),
          validAfter: a.validAfter.toString(),
          validBefore: a.validBefore.toString(),
          nonce: a.nonce,
          signature: verified.signature,
        },
        reference: a.nonce,
        deadline: new Date(Number(a.validBefore) * 1000),
        details: {
          source: "x402",
          scheme: "exact",
          network: verified.network,
          resource: (request.paymentPayload as { resource?: { url?: string } }).resource?.url ?? null,
          authorizationDigest: authorizationDigest(verified),
          ...(verified.paymentIdentifier ? { paymentIdentifier: verified.paymentIdentifier } : {}),
        },
      };
    },
  }).catch((error: unknown) => {
    if (error instanceof X402Refusal) return error;
    // A concurrent settle of the same payload recorded the movement first (the authorization is
    // unique per payer and nonce): follow that one.
    if (isUniqueViolation(error)) return undefined;
    throw error;
  });
  if (movement instanceof X402Refusal) {
    movement.payer = verified.payer;
    return { response: refused(services, movement) };
  }
  const relayId = movement?.relayId ?? (await movementOf(services, verified));
  if (!relayId || relayId === "another") return { response: refused(services, nonceUsed(verified)) };
  return { response: await outcome(services, verified, relayId, options.waitMs) };
}

/** Waits for the relay's outcome (confirmed or ended), at most `waitMs`. */
async function outcome(
  services: AppServices,
  verified: VerifiedExactPayment,
  relayId: string,
  waitMs: number,
): Promise<SettleResponse> {
  const base = { payer: verified.payer, network: verified.network };
  const until = Date.now() + waitMs;
  for (;;) {
    const relay = await services.relay.getRelay(relayId);
    if (relay?.state === "confirmed") {
      return {
        ...base,
        success: true,
        transaction: relay.transactionHash ?? "",
        amount: verified.authorization.value.toString(),
      };
    }
    if (relay?.state === "failed" || relay?.state === "dead") {
      return {
        ...base,
        success: false,
        errorReason: X402Reason.transactionFailed,
        errorMessage: relay.error ?? "The settlement did not execute",
        transaction: relay.transactionHash ?? "",
      };
    }
    if (Date.now() >= until) {
      return {
        ...base,
        success: false,
        errorReason: X402Reason.settlementPending,
        errorMessage: "Still settling: send the same payload again to learn the outcome (it is never settled twice)",
        transaction: relay?.transactionHash ?? "",
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function refused(services: AppServices, error: X402Refusal): SettleResponse {
  return {
    success: false,
    errorReason: error.reason,
    errorMessage: error.message,
    ...(error.payer ? { payer: error.payer } : {}),
    transaction: "",
    network: `eip155:${services.chainId}`,
  };
}

/** The relay of the movement recorded for this authorization, "another" if it moved something else, or undefined. */
async function movementOf(
  services: AppServices,
  verified: VerifiedExactPayment,
): Promise<string | "another" | undefined> {
  const [row] = await services.database.db
    .select({ relayId: moneyMovements.relayId, status: moneyMovements.status, details: moneyMovements.details })
    .from(moneyMovements)
    .where(and(eq(moneyMovements.from, verified.payer), eq(moneyMovements.nonce, verified.authorization.nonce)));
  if (!row?.relayId || row.status === "rejected") return undefined;
  // The same nonce under another signature is another authorization (another window, say): it can
  // never execute, and answering the first one's success would let one payment buy two resources.
  const same = (row.details as { authorizationDigest?: string }).authorizationDigest === authorizationDigest(verified);
  return same ? row.relayId : "another";
}

/** What identifies the signed authorization itself: its fields and the payer's signature. */
function authorizationDigest(verified: VerifiedExactPayment): string {
  const a = verified.authorization;
  return createHash("sha256")
    .update([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, verified.signature.toLowerCase()].join("|"))
    .digest("hex");
}

function nonceUsed(verified: VerifiedExactPayment): X402Refusal {
  const refusal = new X402Refusal(X402Reason.nonceUsed, "This authorization was already used on chain");
  refusal.payer = verified.payer;
  return refusal;
}

function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "23505") return true;
  }
  return false;
}
