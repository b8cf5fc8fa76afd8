import { encodeFunctionData } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import type { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { custodialKeyOf, isUserFrozen } from "./actor.ts";
import { PaymentStateError } from "./errors.ts";
import { signForwardRequest } from "./forward-request.ts";
import type { PaidPayment } from "./paid-payment.ts";
import { abiTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-movements.ts";

/**
 * The payer takes back what the payment still holds once the authorization has expired: the payer's
 * ERC-2771 forward request calling PaymentEscrow.reclaim (signed with the payer's custodial key),
 * relayed as `forwarder.execute`, through the money door.
 * @throws PaymentStateError RECLAIM_TOO_EARLY before the authorization expiry, PAYMENT_NOTHING_HELD
 */
export async function reclaimPayment(
  services: AppServices,
  p: { payment: PaidPayment; payerUserId: string; wallet: typeof wallets.$inferSelect; idempotencyKey: string },
): Promise<MoneyMovement> {
  const { payment } = p;
  const key = custodialKeyOf(services, p.wallet, "A reclaim");
  if (payment.chainTime < BigInt(payment.terms.authorizationExpiry)) {
    throw new PaymentStateError(
      "RECLAIM_TOO_EARLY",
      `The payment may be reclaimed from ${payment.terms.authorizationExpiry} (chain time ${payment.chainTime})`,
    );
  }
  const held = payment.state.held;
  if (held === 0n || pendingTotal(payment.pending, "payment.reclaim") > 0n) {
    throw new PaymentStateError("PAYMENT_NOTHING_HELD", "The payment holds nothing to reclaim");
  }
  return submitMoneyMovement(services, {
    kind: "payment.reclaim",
    userId: p.payerUserId,
    userFrozen: await isUserFrozen(services, p.payerUserId),
    walletId: p.wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.payer,
    amount: held,
    idempotencyKey: p.idempotencyKey,
    prepare: async () => ({
      request: await signForwardRequest({
        publicClient: services.publicClient,
        chainId: services.chainId,
        forwarder: services.contracts.forwarder,
        privateKey: key,
        to: services.contracts.paymentEscrow,
        data: encodeFunctionData({ abi: paymentEscrowAbi, functionName: "reclaim", args: [abiTerms(payment.terms)] }),
        deadline: Number(payment.chainTime + BigInt(services.settings.authorizationTtlSeconds)),
      }),
      reference: `${payment.paymentId}.reclaim.${crypto.randomUUID()}`,
      details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
    }),
  });
}
