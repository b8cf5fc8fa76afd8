/** EIP-712 typed data as the wallet-facing routes return it. */
type TypedData = {
  domain: unknown;
  types: Record<string, readonly { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
};

/**
 * Typed data as JSON for a wallet to sign: uint256 values (bigints) as decimal strings, everything
 * else as is. The client turns the strings back into bigints and signs exactly this message.
 */
export function typedDataJson(typedData: TypedData) {
  return {
    domain: typedData.domain,
    types: Object.fromEntries(Object.entries(typedData.types).map(([name, fields]) => [name, [...fields]])),
    primaryType: typedData.primaryType,
    message: Object.fromEntries(
      Object.entries(typedData.message).map(([name, value]) => [
        name,
        typeof value === "bigint" ? value.toString() : value,
      ]),
    ),
  };
}
