import type { Address } from "viem";

import type { Deployment } from "./deployments.ts";

/** Where Stablerail's contracts live on the configured chain: what the API, the relayer and the tools act on. */
export type ContractAddresses = {
  stablecoin: Address;
  paymentEscrow: Address;
  settlement: Address;
  forwarder: Address;
};

/** The contract addresses of a deployment file. Pure. */
export function contractAddressesOf(deployment: Deployment): ContractAddresses {
  return {
    stablecoin: deployment.contracts.Stablecoin.address,
    paymentEscrow: deployment.contracts.PaymentEscrow.address,
    settlement: deployment.contracts.Settlement.address,
    forwarder: deployment.contracts.StablerailForwarder.address,
  };
}
