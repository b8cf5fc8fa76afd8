import { getAddress, type Address } from "viem";

/** Above this many remembered addresses the memo starts again (memory stays bounded). */
const MAX_REMEMBERED = 100_000;
const remembered = new Map<string, Address>();

/**
 * viem's `getAddress` (EIP-55 checksum, throws on what is not an address), remembered per address:
 * the indexer checksums the same senders and recipients on every Transfer, several times each
 * (decode, posting rules, account names), and a checksum is a keccak-256 once viem's own
 * 8,192-entry cache is outgrown (issue 17: the writer's JavaScript per event).
 * @param address - an address in any case
 * @returns its checksummed form
 * @example
 * checksumAddress("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266") // "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
 */
export function checksumAddress(address: string): Address {
  const known = remembered.get(address);
  if (known !== undefined) return known;
  const checksummed = getAddress(address);
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(address, checksummed);
  return checksummed;
}
