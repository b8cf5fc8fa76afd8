import { BaseError, decodeErrorResult, type Hex } from "viem";

import { paymentEscrowAbi } from "../lib/chain/abis/paymentEscrow.ts";
import { settlementAbi } from "../lib/chain/abis/settlement.ts";
import { stablecoinAbi } from "../lib/chain/abis/stablecoin.ts";
import { stablerailForwarderAbi } from "../lib/chain/abis/stablerailForwarder.ts";

/** Every custom error the relayed contracts (and the OpenZeppelin bases they inherit) declare. */
const errorAbi = [...stablecoinAbi, ...paymentEscrowAbi, ...settlementAbi, ...stablerailForwarderAbi].filter(
  (item) => item.type === "error",
);

/**
 * Decodes revert data into `ErrorName(arg, ...)` against the contracts' ABIs (plus the built-in
 * `Error(string)` / `Panic(uint256)`).
 * @returns a readable reason, or `unknown revert 0x…` when nothing matches
 * @example
 * decodeRevertData("0x…") // "StablecoinAuthorizationUsed(0xabc…, 0x12…)"
 */
export function decodeRevertData(data: Hex | undefined): string {
  if (data === undefined || data === "0x") return "revert without data";
  try {
    const decoded = decodeErrorResult({ abi: errorAbi, data });
    const args = (decoded.args ?? []).map((arg) => (typeof arg === "bigint" ? arg.toString() : String(arg)));
    return `${decoded.errorName}(${args.join(", ")})`;
  } catch {
    return `unknown revert ${data.slice(0, 74)}`;
  }
}

/**
 * Finds revert data inside a viem error (from `call`, `estimateGas`, ...).
 * @returns the data, or `undefined` when the error is not a revert (a network failure, say)
 */
export function revertDataOf(error: unknown): Hex | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const found = error.walk(
    (inner) =>
      typeof (inner as { data?: unknown }).data === "string" ||
      typeof (inner as { data?: { data?: unknown } }).data?.data === "string",
  ) as { data?: Hex | { data?: Hex } } | null;
  if (!found) return undefined;
  return typeof found.data === "string" ? found.data : found.data?.data;
}

/** Whether a viem error is an execution revert (as opposed to a transport or node problem). */
export function isRevert(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  return (
    revertDataOf(error) !== undefined || error.walk((inner) => /revert/i.test((inner as Error).message ?? "")) !== null
  );
}
