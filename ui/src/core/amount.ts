/**
 * Token amounts in the browser: base units as bigint, never a float. What a person types is parsed
 * digit by digit; what is shown is formatted from the bigint with the viewer's digit grouping.
 */

export type AmountProblem = "empty" | "format" | "decimals" | "zero";

/** Plain words for each problem of a typed amount. */
export function amountProblemText(problem: AmountProblem, decimals: number): string {
  switch (problem) {
    case "empty":
      return "Enter an amount.";
    case "format":
      return "Enter a number such as 12.50 (digits and one decimal point).";
    case "decimals":
      return `This token has ${decimals} decimal places; use at most ${decimals} digits after the point.`;
    case "zero":
      return "The amount must be more than zero.";
  }
}

/**
 * Parses a typed amount into base units.
 * @example parseAmount("1.5", 6) // { value: 1500000n }
 * @returns the base units, or why the text is not an amount
 */
export function parseAmount(text: string, decimals: number): { value: bigint } | { problem: AmountProblem } {
  const trimmed = text.trim().replace(/[\s_']/g, "");
  if (trimmed === "") return { problem: "empty" };
  const match = /^(\d*)(?:[.,](\d*))?$/.exec(trimmed);
  if (!match || (match[1] === "" && (match[2] ?? "") === "")) return { problem: "format" };
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) return { problem: "decimals" };
  const value = BigInt((match[1] || "0") + fraction.padEnd(decimals, "0"));
  if (value === 0n) return { problem: "zero" };
  return { value };
}

const grouping = new Intl.NumberFormat(undefined, { useGrouping: true, maximumFractionDigits: 0 });
const decimalSeparator =
  new Intl.NumberFormat(undefined).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";

/**
 * Formats base units for people: grouped whole part, the fraction without trailing zeros (at least
 * `minFraction` digits). Exact for any uint256.
 * @example formatAmount(1234500000n, 6) // "1,234.5" (en)
 */
export function formatAmount(units: bigint | string, decimals: number, { minFraction = 2, sign = false } = {}): string {
  const value = typeof units === "bigint" ? units : BigInt(units);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, "0");
  const whole = BigInt(digits.slice(0, digits.length - decimals));
  let fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  if (fraction.length < minFraction) fraction = fraction.padEnd(Math.min(minFraction, decimals), "0");
  const prefix = negative ? "−" : sign && value > 0n ? "+" : "";
  return `${prefix}${grouping.format(whole)}${fraction ? decimalSeparator + fraction : ""}`;
}

/** Base units as the plain decimal a form field shows ("1.5"), no grouping. */
export function toPlainDecimal(units: bigint, decimals: number): string {
  const digits = units.toString().padStart(decimals + 1, "0");
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return `${digits.slice(0, digits.length - decimals)}${fraction ? `.${fraction}` : ""}`;
}
