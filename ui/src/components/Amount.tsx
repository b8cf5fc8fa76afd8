import { formatAmount } from "../core/amount.ts";
import { useConfig } from "../core/config.ts";

/** A token amount from base units (decimal string or bigint), exact, with the token's symbol. */
export function Amount({ units, sign = false }: { units: string | bigint; sign?: boolean }) {
  const { config } = useConfig();
  const decimals = config?.token.decimals ?? 6;
  const symbol = config?.token.symbol ?? "";
  const text = formatAmount(units, decimals, { sign });
  const negative = typeof units === "bigint" ? units < 0n : units.startsWith("-");
  return (
    <span class={`amount${negative ? " out" : sign ? " in" : ""}`}>
      {text}
      {symbol ? <span class="symbol"> {symbol}</span> : null}
    </span>
  );
}
