import { getAddress, type Address, type Hex } from "viem";

import { checksumAddress } from "./checksum.ts";

/**
 * Ledger account names. Typed by prefix so a reader (and a query filter) can tell a wallet from
 * the token's issuance counter-account or a payment's escrow sub-account:
 * `holder:<checksummed address>`, `issuance:<checksummed token>`, `escrow:<payment id, lower-case hex>`.
 */
export function holderAccount(address: Address): string {
  return `holder:${checksumAddress(address)}`;
}

export function issuanceAccount(token: Address): string {
  return `issuance:${checksumAddress(token)}`;
}

export function escrowAccount(paymentId: Hex): string {
  return `escrow:${paymentId.toLowerCase()}`;
}

/** Normalises an account given by a caller: a bare address means its holder account. */
export function normalizeAccount(account: string): string {
  if (/^0x[0-9a-fA-F]{40}$/.test(account)) return holderAccount(account as Address);
  const [type, id] = account.split(":", 2) as [string, string | undefined];
  if (!id) throw new RangeError(`not an account: ${account}`);
  if (type === "holder" || type === "issuance") return `${type}:${getAddress(id)}`;
  if (type === "escrow") return escrowAccount(id as Hex);
  throw new RangeError(`unknown account type: ${type}`);
}
