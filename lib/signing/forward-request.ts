/**
 * OpenZeppelin ERC2771Forwarder's `ForwardRequest` (StablerailForwarder domain): a signed call that
 * the relayer submits and the target contract sees as coming from `from` — how a payer reclaims
 * without gas. The signed struct includes the forwarder's nonce of `from`.
 */
import type { Address, Hex } from "viem";

import type { Signer } from "./signer.ts";
import { assertSignedBy } from "./verify-signer.ts";

export const forwardRequestTypes = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
} as const;

export type ForwardRequestMessage = {
  from: Address;
  to: Address;
  value: bigint;
  gas: bigint;
  /** The forwarder's current nonce of `from`. */
  nonce: bigint;
  /** Unix seconds after which the forwarder refuses the request. */
  deadline: number;
  data: Hex;
};

/** The forwarder's EIP-712 domain on `chainId` at `forwarder`. */
export function forwarderDomain(chainId: number, forwarder: Address) {
  return { name: "StablerailForwarder", version: "1", chainId, verifyingContract: forwarder };
}

/** The typed data `from` signs. */
export function forwardRequestTypedData(chainId: number, forwarder: Address, message: ForwardRequestMessage) {
  return {
    domain: forwarderDomain(chainId, forwarder),
    types: forwardRequestTypes,
    primaryType: "ForwardRequest" as const,
    message,
  };
}

/** Signs the request with `signer`, which must be `message.from`. @returns the 65-byte signature */
export function signForwardRequest(
  signer: Signer,
  chainId: number,
  forwarder: Address,
  message: ForwardRequestMessage,
): Promise<Hex> {
  return signer.signTypedData(forwardRequestTypedData(chainId, forwarder, message));
}

/** @throws SIGNATURE_INVALID, SIGNER_MISMATCH unless `signature` is `message.from`'s signature of exactly this request */
export function verifyForwardRequest(
  chainId: number,
  forwarder: Address,
  message: ForwardRequestMessage,
  signature: Hex,
): Promise<void> {
  return assertSignedBy(
    forwardRequestTypedData(chainId, forwarder, message),
    signature,
    message.from,
    "forward request",
  );
}
