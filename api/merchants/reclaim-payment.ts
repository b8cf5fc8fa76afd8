import { encodeFunctionData, type Address, type Hex } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import type { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { custodialKeyOf } from "./custodial-key.ts";
import { PaymentStateError, PaymentWalletError } from "./errors.ts";
import { forwardRequestTypedData, signForwardRequest, verifyForwardRequest } from "./forward-request.ts";
import type { PaidPayment } from "./paid-payment.ts";
import { abiTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-movements.ts";

type Wallet = typeof wallets.$inferSelect;

/** A self-custody payer's signature of the reclaim forward request (from GET …/reclaim/typed-data). */
export type SignedForwardRequest = { deadline: number; signature: Hex };

/** The forwarded call: PaymentEscrow.reclaim(terms), and the deadline the API proposes for it. */
function reclaimCall(services: AppServices, payment: PaidPayment) {
  return {
    to: services.contracts.paymentEscrow,
    data: encodeFunctionData({ abi: paymentEscrowAbi, functionName: "reclaim", args: [abiTerms(payment.terms)] }),
    deadline: Number(payment.chainTime + BigInt(services.settings.authorizationTtlSeconds)),
  };
}

/** What a reclaim needs to be possible now. @throws RECLAIM_TOO_EARLY, PAYMENT_NOTHING_HELD */
function assertReclaimable(payment: PaidPayment): void {
  if (payment.chainTime < BigInt(payment.terms.authorizationExpiry)) {
    throw new PaymentStateError(
      "RECLAIM_TOO_EARLY",
      `The payment may be reclaimed from ${payment.terms.authorizationExpiry} (chain time ${payment.chainTime})`,
    );
  }
  if (payment.state.held === 0n || pendingTotal(payment.pending, "payment.reclaim") > 0n) {
    throw new PaymentStateError("PAYMENT_NOTHING_HELD", "The payment holds nothing to reclaim");
  }
}

/**
 * The ERC-2771 forward request a self-custody payer signs to reclaim (GET …/reclaim/typed-data).
 * @throws PaymentWalletError WALLET_IS_CUSTODIAL (the service signs for those), and what assertReclaimable throws
 */
export async function reclaimTypedData(services: AppServices, payment: PaidPayment, wallet: Wallet) {
  if (wallet.kind !== "self_custody") {
    throw new PaymentWalletError(
      "WALLET_IS_CUSTODIAL",
      "This is a custodial wallet: POST …/reclaim with an empty body",
    );
  }
  assertReclaimable(payment);
  return forwardRequestTypedData({
    publicClient: services.publicClient,
    chainId: services.chainId,
    forwarder: services.contracts.forwarder,
    from: wallet.address as Address,
    ...reclaimCall(services, payment),
  });
}

/**
 * The payer takes back what the payment still holds once the authorization has expired: the payer's
 * ERC-2771 forward request calling PaymentEscrow.reclaim, relayed as `forwarder.execute` through the
 * money door — signed here with a custodial key, or signed by a self-custody wallet and verified
 * (signer, the forwarder's current nonce, deadline) before anything is queued.
 * @throws PaymentStateError RECLAIM_TOO_EARLY before the authorization expiry, PAYMENT_NOTHING_HELD
 */
export async function reclaimPayment(
  services: AppServices,
  p: {
    payment: PaidPayment;
    payerUserId: string;
    wallet: Wallet;
    signed?: SignedForwardRequest | undefined;
    idempotencyKey: string;
  },
): Promise<MoneyMovement> {
  const { payment, wallet } = p;
  if (p.signed && wallet.kind !== "self_custody") {
    throw new PaymentWalletError(
      "WALLET_IS_CUSTODIAL",
      "This is a custodial wallet: POST …/reclaim with an empty body",
    );
  }
  const key = p.signed ? undefined : custodialKeyOf(services, wallet, "A reclaim without a signature");
  assertReclaimable(payment);
  return submitMoneyMovement(services, {
    kind: "payment.reclaim",
    userId: p.payerUserId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.payer,
    amount: payment.state.held,
    idempotencyKey: p.idempotencyKey,
    prepare: async () => {
      const call = reclaimCall(services, payment);
      const common = {
        publicClient: services.publicClient,
        chainId: services.chainId,
        forwarder: services.contracts.forwarder,
      };
      const request = key
        ? await signForwardRequest({ ...common, privateKey: key, ...call })
        : await verifyForwardRequest({
            ...common,
            ...call,
            from: wallet.address as Address,
            deadline: p.signed!.deadline,
            signature: p.signed!.signature,
            chainTime: payment.chainTime,
          });
      return {
        request,
        reference: `${payment.paymentId}.reclaim.${crypto.randomUUID()}`,
        details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
      };
    },
  });
}
