/**
 * A client paying for an x402 resource with the official @x402/fetch and the EVM `exact` scheme:
 * it signs an EIP-3009 TransferWithAuthorization with its own key; it needs no gas and no account
 * at Stablerail. Nothing here is Stablerail code.
 */
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { decodePaymentResponseHeader, wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import type { LocalAccount } from "viem";

export type SpendLimit = {
  /** CAIP-2 network, e.g. eip155:31337. */
  network: `${string}:${string}`;
  /** The token the client agrees to pay in. */
  asset: `0x${string}`;
  /** The most one payment may take, in base units (decimal string). */
  maxAmountPerPayment: string;
};

/**
 * Fetches `url`, paying when it answers 402. The official client pays only in assets it knows (USDC
 * on known chains) unless told otherwise: `limit` opts the stablecoin in through the client's own
 * spend controls, with a per-payment cap.
 * @returns the status, the body and the settlement (from PAYMENT-RESPONSE)
 */
export async function fetchPaid(url: string, account: LocalAccount, limit: SpendLimit) {
  const fetchWithPayment = wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network: "eip155:*", client: new ExactEvmScheme(account) }],
    spendControls: { allowedAssets: [limit] },
  });
  const response = await fetchWithPayment(url, { method: "GET" });
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  return {
    status: response.status,
    body: await response.text(),
    settlement: header ? decodePaymentResponseHeader(header) : undefined,
  };
}
