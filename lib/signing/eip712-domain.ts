import type { Address } from "viem";

/** An EIP-712 domain as our contracts declare it: name, version, chain id, verifying contract (EIP-5267). */
export type Eip712Domain = { name: string; version: string; chainId: number; verifyingContract: Address };
