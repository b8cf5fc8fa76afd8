import { encodeFunctionData, type Address, type Hex } from "viem";

import { paymentEscrowAbi } from "../lib/chain/abis/paymentEscrow.ts";
import { settlementAbi } from "../lib/chain/abis/settlement.ts";
import { stablecoinAbi } from "../lib/chain/abis/stablecoin.ts";
import { stablerailForwarderAbi } from "../lib/chain/abis/stablerailForwarder.ts";
import type { ContractAddresses } from "../lib/chain/contracts.ts";
import type { PaymentTermsInput, RelayRequest } from "./jobs/relay-request.ts";

export type RelayCall = { to: Address; data: Hex; value: bigint };

const terms = (t: PaymentTermsInput) => ({
  ...t,
  maxAmount: BigInt(t.maxAmount),
  salt: BigInt(t.salt),
});

/**
 * Encodes the transaction a relay request sends. Pure: no chain access.
 * @param request - a validated relay request
 * @param contracts - where PaymentEscrow, Settlement and the forwarder live
 */
export function buildRelayCall(request: RelayRequest, contracts: ContractAddresses): RelayCall {
  switch (request.kind) {
    case "token.transferWithAuthorization":
      return {
        to: request.token,
        value: 0n,
        data: encodeFunctionData({
          abi: stablecoinAbi,
          functionName: "transferWithAuthorization",
          args: [
            request.from,
            request.to,
            BigInt(request.value),
            BigInt(request.validAfter),
            BigInt(request.validBefore),
            request.nonce,
            request.signature,
          ],
        }),
      };
    case "escrow.authorize":
    case "escrow.charge": {
      const charge = request.kind === "escrow.charge";
      const feeBps = request.kind === "escrow.charge" ? request.feeBps : 0;
      const amount = BigInt(request.amount);
      const t = terms(request.terms);
      const { signature } = request.funding;
      const [after, before] = [BigInt(request.funding.validAfter), BigInt(request.funding.validBefore)];
      const data = charge
        ? encodeFunctionData({
            abi: paymentEscrowAbi,
            functionName: "chargeWithAuthorization",
            args: [t, amount, feeBps, after, before, signature],
          })
        : encodeFunctionData({
            abi: paymentEscrowAbi,
            functionName: "authorizeWithAuthorization",
            args: [t, amount, after, before, signature],
          });
      return { to: contracts.paymentEscrow, value: 0n, data };
    }
    case "escrow.capture":
      return {
        to: contracts.paymentEscrow,
        value: 0n,
        data: encodeFunctionData({
          abi: paymentEscrowAbi,
          functionName: "capture",
          args: [terms(request.terms), BigInt(request.amount), request.feeBps],
        }),
      };
    case "escrow.void":
      return {
        to: contracts.paymentEscrow,
        value: 0n,
        data: encodeFunctionData({ abi: paymentEscrowAbi, functionName: "void", args: [terms(request.terms)] }),
      };
    case "forwarder.execute": {
      const r = request.request;
      return {
        to: contracts.forwarder,
        value: BigInt(r.value),
        data: encodeFunctionData({
          abi: stablerailForwarderAbi,
          functionName: "execute",
          args: [
            {
              from: r.from,
              to: r.to,
              value: BigInt(r.value),
              gas: BigInt(r.gas),
              deadline: r.deadline,
              data: r.data,
              signature: r.signature,
            },
          ],
        }),
      };
    }
    case "escrow.refundWithAuthorization":
      return {
        to: contracts.paymentEscrow,
        value: 0n,
        data: encodeFunctionData({
          abi: paymentEscrowAbi,
          functionName: "refundWithAuthorization",
          args: [
            terms(request.terms),
            BigInt(request.amount),
            request.refunder,
            BigInt(request.validAfter),
            BigInt(request.validBefore),
            request.refundSalt,
            request.signature,
          ],
        }),
      };
    case "settlement.payout":
      return {
        to: contracts.settlement,
        value: 0n,
        data: encodeFunctionData({
          abi: settlementAbi,
          functionName: "payout",
          args: [
            request.batchId,
            request.token,
            request.items.map((item) => ({ ...item, amount: BigInt(item.amount) })),
          ],
        }),
      };
  }
}

/** One `settleAuthorizations` call carrying several transfers of one token (item i = relay i). */
export function buildSettleAuthorizationsCall(
  token: Address,
  transfers: Extract<RelayRequest, { kind: "token.transferWithAuthorization" }>[],
  contracts: ContractAddresses,
): RelayCall {
  return {
    to: contracts.settlement,
    value: 0n,
    data: encodeFunctionData({
      abi: settlementAbi,
      functionName: "settleAuthorizations",
      args: [
        token,
        transfers.map((t) => ({
          from: t.from,
          to: t.to,
          value: BigInt(t.value),
          validAfter: BigInt(t.validAfter),
          validBefore: BigInt(t.validBefore),
          nonce: t.nonce,
          signature: t.signature,
        })),
      ],
    }),
  };
}
