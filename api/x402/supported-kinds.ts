import type { AppServices } from "../dependencies.ts";
import { networkOf } from "./verify-exact-payment.ts";
import { X402_VERSION } from "./x402-messages.ts";

/**
 * What this facilitator settles (GET /supported): the `exact` scheme on the configured chain, with
 * the stablecoin and its EIP-712 domain in `extra` (no default asset exists for a local chain id),
 * and the payment-identifier extension. No signers are listed: the relayer's keys send the
 * settlements and the API holds none of them (nor their list); payers never need them (EIP-3009).
 */
export async function supportedKinds(services: Pick<AppServices, "chainId" | "contracts" | "tokenReads">) {
  const domain = await services.tokenReads.domain();
  return {
    kinds: [
      {
        x402Version: X402_VERSION,
        scheme: "exact",
        network: networkOf(services.chainId),
        extra: { asset: services.contracts.stablecoin, name: domain.name, version: domain.version },
      },
    ],
    extensions: ["payment-identifier"],
    signers: {},
  };
}
