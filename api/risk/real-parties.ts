/**
 * The real parties of a prepared relay request — where value or rights end up and whose funds
 * move — looking inside EIP-3009 authorizations, escrow terms, payouts and a forwarded call's
 * calldata (token transfers, approvals, permits, EIP-3009 calls, escrow refunds), the way the
 * relayer's allowlist reads them (relayer/send-policies.ts). Screening checks these after
 * `prepare`, so a user-signed request whose inner recipient differs from the body's `to` is caught.
 */
import { decodeFunctionData, getAddress, type Address, type Hex } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import type { RelayRequestInput } from "../../relayer/index.ts";

/** Recipients and senders named by the request, checksummed, deduplicated. */
export function realParties(request: RelayRequestInput, escrow: Address): Address[] {
  const found: string[] = [];
  switch (request.kind) {
    case "token.transferWithAuthorization":
      found.push(request.from, request.to);
      break;
    case "escrow.authorize":
    case "escrow.charge":
    case "escrow.capture":
    case "escrow.void":
      found.push(request.terms.payer, request.terms.merchant, request.terms.feeReceiver);
      break;
    case "escrow.refundWithAuthorization":
      found.push(request.terms.payer, request.refunder);
      break;
    case "settlement.payout":
      found.push(...request.items.map((item) => item.merchant));
      break;
    case "forwarder.execute":
      found.push(request.request.from, request.request.to);
      found.push(...innerParties(request.request.to as Address, request.request.data as Hex, escrow));
      break;
  }
  return [...new Set(found.map((a) => getAddress(a)))];
}

/** Parties named by forwarded calldata; calldata of an unknown contract names only its target. */
function innerParties(target: Address, data: Hex, escrow: Address): string[] {
  if (getAddress(target) === getAddress(escrow)) {
    try {
      const call = decodeFunctionData({ abi: paymentEscrowAbi, data });
      const terms = (call.args as readonly unknown[] | undefined)?.[0] as
        { payer?: string; merchant?: string } | undefined;
      return [terms?.payer, terms?.merchant].filter((a): a is string => typeof a === "string");
    } catch {
      return [];
    }
  }
  try {
    const call = decodeFunctionData({ abi: stablecoinAbi, data });
    const args = (call.args ?? []) as readonly unknown[];
    switch (call.functionName as string) {
      case "transfer":
      case "approve":
      case "increaseAllowance":
        return [args[0] as string];
      case "transferFrom":
      case "transferWithAuthorization":
      case "receiveWithAuthorization":
      case "permit":
        return [args[0] as string, args[1] as string];
      default:
        return [];
    }
  } catch {
    return [];
  }
}
