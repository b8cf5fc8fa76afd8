import { decodeFunctionData, getAddress, type Address, type Hex } from "viem";

import { paymentEscrowAbi } from "../lib/chain/abis/paymentEscrow.ts";
import { stablecoinAbi } from "../lib/chain/abis/stablecoin.ts";
import type { ContractAddresses } from "../lib/chain/contracts.ts";
import { RelayPolicyError } from "./errors.ts";
import type { Fees } from "./gas-fees.ts";
import type { RelayRequest } from "./jobs/relay-request.ts";

/**
 * Policies checked before a relay is sent. Pure functions: a refusal is a
 * {@link RelayPolicyError} (non-retryable, with a clear code).
 */
export type RelayPolicySettings = {
  /** Refuse when the estimated maxFeePerGas exceeds this (wei). */
  maxFeePerGasCap: bigint;
  /** Recipients a relay may pay or call; `undefined` allows all. Stablerail's contracts are always allowed. */
  allowlist?: readonly Address[] | undefined;
};

/** Refuses fees above the configured cap. */
export function checkGasPriceCap(fees: Fees, cap: bigint): void {
  if (fees.maxFeePerGas > cap) {
    throw new RelayPolicyError(
      "RELAY_POLICY_GAS_PRICE_TOO_HIGH",
      `maxFeePerGas ${fees.maxFeePerGas} wei exceeds the cap of ${cap} wei; retry when fees fall or raise RELAYER_MAX_FEE_PER_GAS_CAP`,
      {
        maxFeePerGas: fees.maxFeePerGas.toString(),
        cap: cap.toString(),
      },
    );
  }
}

/**
 * The real recipients of a relay — where value or rights end up — looking inside EIP-3009
 * authorisations, escrow terms, payouts and the forwarded call's target and inner calldata, not
 * only at the transaction's `to`.
 */
export function realRecipients(request: RelayRequest, contracts: ContractAddresses): Address[] {
  switch (request.kind) {
    case "token.transferWithAuthorization":
      return [request.to];
    case "escrow.authorize":
    case "escrow.charge":
    case "escrow.capture":
    case "escrow.void":
      return [request.terms.merchant, request.terms.feeReceiver];
    case "escrow.refundWithAuthorization":
      return [request.terms.payer];
    case "settlement.payout":
      return request.items.map((item) => item.merchant);
    case "forwarder.execute":
      return [request.request.to, ...innerRecipients(request.request.to, request.request.data, contracts)];
  }
}

/** Recipients named by forwarded calldata (token movements and approvals, escrow calls). */
function innerRecipients(target: Address, data: Hex, contracts: ContractAddresses): Address[] {
  if (getAddress(target) === getAddress(contracts.paymentEscrow)) {
    try {
      const call = decodeFunctionData({ abi: paymentEscrowAbi, data });
      const t = (call.args as readonly unknown[] | undefined)?.[0] as
        { merchant?: Address; payer?: Address } | undefined;
      // refund returns funds to the payer; reclaim too; the merchant is the other party.
      return t?.payer ? [t.payer] : [];
    } catch {
      return [];
    }
  }
  try {
    const call = decodeFunctionData({ abi: stablecoinAbi, data });
    const args = (call.args ?? []) as readonly unknown[];
    switch (call.functionName) {
      case "transfer":
      case "approve":
      case "increaseAllowance" as string:
        return [args[0] as Address];
      case "transferFrom":
      case "transferWithAuthorization":
      case "receiveWithAuthorization":
        return [args[1] as Address];
      case "permit":
        return [args[1] as Address];
      default:
        return [];
    }
  } catch {
    // Calldata of an unknown contract: only its target is known, and that is checked.
    return [];
  }
}

/** Refuses a relay whose real recipients are not on the allowlist. */
export function checkAllowlist(
  request: RelayRequest,
  contracts: ContractAddresses,
  allowlist: readonly Address[] | undefined,
): void {
  if (allowlist === undefined) return;
  const allowed = new Set(
    [...allowlist, contracts.stablecoin, contracts.paymentEscrow, contracts.settlement, contracts.forwarder].map(
      (address) => getAddress(address),
    ),
  );
  for (const recipient of realRecipients(request, contracts)) {
    if (!allowed.has(getAddress(recipient))) {
      throw new RelayPolicyError(
        "RELAY_POLICY_RECIPIENT_NOT_ALLOWED",
        `Recipient ${recipient} of this ${request.kind} relay is not on the relayer allowlist`,
        {
          recipient,
          kind: request.kind,
        },
      );
    }
  }
}
