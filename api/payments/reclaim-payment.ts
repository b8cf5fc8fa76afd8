import { encodeFunctionData, type Address, type Hex } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { stablerailForwarderAbi } from "../../lib/chain/abis/stablerailForwarder.ts";
import { StablerailError } from "../../lib/errors/base.ts";
import {
  forwardRequestTypedData,
  signForwardRequest,
  verifyForwardRequest,
  type ForwardRequestMessage,
} from "../../lib/signing/forward-request.ts";
import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../movements/submit-money-movement.ts";
import { walletSigner } from "../wallets/wallet-signer.ts";
import { PaymentStateError, PaymentWalletError } from "./errors.ts";
import { loadPaymentForPayer, type PaidPayment } from "./paid-payment.ts";
import { abiTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-payment-movements.ts";

/** Gas the forwarded escrow call may use (a state update and one token transfer). */
export const FORWARDED_ESCROW_CALL_GAS = 300_000n;

/** A self-custody payer's signature of the reclaim forward request (from GET …/reclaim/typed-data). */
export type SignedForwardRequest = { deadline: number; signature: Hex };

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
 * The forward request the payer signs: PaymentEscrow.reclaim(terms) through the forwarder, at the
 * forwarder's current nonce of the payer, the deadline the API proposes (or the one the payer signed).
 */
async function reclaimRequest(
  services: AppServices,
  payment: PaidPayment,
  payer: Address,
  deadline?: number,
): Promise<ForwardRequestMessage> {
  const nonce = await services.publicClient.readContract({
    address: services.contracts.forwarder,
    abi: stablerailForwarderAbi,
    functionName: "nonces",
    args: [payer],
  });
  return {
    from: payer,
    to: services.contracts.paymentEscrow,
    value: 0n,
    gas: FORWARDED_ESCROW_CALL_GAS,
    nonce,
    deadline: deadline ?? Number(payment.chainTime + BigInt(services.settings.authorizationTtlSeconds)),
    data: encodeFunctionData({ abi: paymentEscrowAbi, functionName: "reclaim", args: [abiTerms(payment.terms)] }),
  };
}

/**
 * The ERC-2771 forward request a self-custody payer signs to reclaim (GET …/reclaim/typed-data).
 * @throws PaymentWalletError WALLET_IS_CUSTODIAL (the service signs for those), and what assertReclaimable throws
 */
export async function reclaimTypedData(
  services: AppServices,
  input: { principal: Principal; paymentRequestId: string },
) {
  const { payment, wallet } = await loadPaymentForPayer(services, input.principal, input.paymentRequestId);
  if (wallet.kind !== "self_custody") {
    throw new PaymentWalletError(
      "WALLET_IS_CUSTODIAL",
      "This is a custodial wallet: POST …/reclaim with an empty body",
    );
  }
  assertReclaimable(payment);
  const message = await reclaimRequest(services, payment, wallet.address as Address);
  return forwardRequestTypedData(services.chainId, services.contracts.forwarder, message);
}

/**
 * The payer takes back what the payment still holds once the authorization has expired: the payer's
 * ERC-2771 forward request calling PaymentEscrow.reclaim, relayed as `forwarder.execute` through the
 * money door — signed here with a custodial wallet's signer, or signed by a self-custody wallet and
 * checked (signer, the forwarder's current nonce, deadline) before anything is queued.
 * @throws PaymentStateError RECLAIM_TOO_EARLY before the authorization expiry, PAYMENT_NOTHING_HELD,
 *   FORWARD_REQUEST_EXPIRED, wallet-kind and signature errors
 */
export async function reclaimPayment(
  services: AppServices,
  input: {
    principal: Principal;
    paymentRequestId: string;
    signed?: SignedForwardRequest | undefined;
    idempotencyKey: string;
  },
): Promise<MoneyMovement> {
  const { payment, wallet } = await loadPaymentForPayer(services, input.principal, input.paymentRequestId);
  const payer = wallet.address as Address;
  const signer = walletSigner(services, wallet, input.signed !== undefined, {
    custodial: "POST …/reclaim with an empty body",
    selfCustody: "sign the typed data from GET …/reclaim/typed-data and send it",
  });
  assertReclaimable(payment);
  return submitMoneyMovement(services, {
    kind: "payment.reclaim",
    userId: input.principal.userId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.payer,
    amount: payment.state.held,
    idempotencyKey: input.idempotencyKey,
    prepare: async () => {
      const { chainId, contracts } = services;
      let signature: Hex;
      let message: ForwardRequestMessage;
      if (input.signed) {
        if (BigInt(input.signed.deadline) <= payment.chainTime) {
          throw new StablerailError(
            "FORWARD_REQUEST_EXPIRED",
            `The request's deadline ${input.signed.deadline} is not after chain time ${payment.chainTime}; sign new typed data`,
          );
        }
        message = await reclaimRequest(services, payment, payer, input.signed.deadline);
        signature = input.signed.signature;
        await verifyForwardRequest(chainId, contracts.forwarder, message, signature);
      } else {
        message = await reclaimRequest(services, payment, payer);
        signature = await signForwardRequest(signer!, chainId, contracts.forwarder, message);
      }
      return {
        request: {
          kind: "forwarder.execute" as const,
          request: {
            from: message.from,
            to: message.to,
            value: message.value.toString(),
            gas: message.gas.toString(),
            deadline: message.deadline,
            data: message.data,
            signature,
          },
        },
        reference: `${payment.paymentId}.reclaim.${crypto.randomUUID()}`,
        details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
      };
    },
  });
}
