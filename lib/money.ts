import { z } from "zod";

/**
 * Token amounts are whole numbers of base units: `bigint` in TypeScript, `uint256` on chain,
 * NUMERIC(78,0) in SQL and decimal strings in JSON. Never floats.
 */

export const MAX_UINT256 = 2n ** 256n - 1n;

/** A decimal string of base units in JSON, e.g. "1500000" for 1.5 tokens of 6 decimals. */
export const baseUnitsString = z
  .string()
  .regex(/^(0|[1-9]\d{0,77})$/, "must be a whole number of base units written as a decimal string")
  // zod runs every check even after the regex fails; BigInt("1.5") would throw (a 500), so guard.
  .refine((value) => !/^\d+$/.test(value) || BigInt(value) <= MAX_UINT256, "exceeds uint256");

/** A positive amount in base units, parsed to bigint. */
export const positiveAmount = baseUnitsString
  .refine((value) => !/^\d+$/.test(value) || BigInt(value) > 0n, "must be greater than zero")
  .transform((value) => BigInt(value));

/**
 * Formats base units as a human decimal string (no float arithmetic).
 * @example formatBaseUnits(1_500_000n, 6) // "1.5"
 */
export function formatBaseUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/**
 * Parses a human decimal string into base units, refusing more fraction digits than the token has.
 * @example parseBaseUnits("1.5", 6) // 1_500_000n
 */
export function parseBaseUnits(text: string, decimals: number): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new RangeError(`not a decimal amount: ${text}`);
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) throw new RangeError(`more than ${decimals} decimal places: ${text}`);
  return BigInt(match[1] + fraction.padEnd(decimals, "0"));
}
