import { randomBytes } from "node:crypto";

import type { Address, Hex } from "viem";

/** EIP-3009 fields, shared by TransferWithAuthorization and ReceiveWithAuthorization (as USDC defines them). */
export const eip3009Fields = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
] as const;

/** One EIP-3009 authorization: who pays whom how much, in which window, under which unique nonce. */
export type Eip3009Authorization = {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

/** A fresh random 32-byte EIP-3009 nonce (EIP-3009 nonces are unordered: any unused 32 bytes). */
export function randomAuthorizationNonce(): Hex {
  return `0x${randomBytes(32).toString("hex")}`;
}
