import { signRecoverable } from "tiny-secp256k1";
import {
  bytesToHex,
  hashTypedData,
  hexToBytes,
  keccak256,
  serializeSignature,
  serializeTransaction,
  type Hex,
  type LocalAccount,
  type Signature,
  type TypedData,
  type TypedDataDefinition,
} from "viem";

/**
 * ECDSA over secp256k1 for every signature our signers make (the relayer's transactions, custodial
 * wallets' EIP-712 authorizations), by libsecp256k1 compiled to WebAssembly (tiny-secp256k1, the
 * library Bitcoin Core signs with) instead of viem's pure-JavaScript noble-curves: the same bytes —
 * RFC 6979 deterministic nonce, low s, the recovery bit as yParity, as viem's `sign` makes them
 * (test/lib/secp256k1.unit.test.ts compares them) — for about a third of the CPU. Sampled, a
 * signature was the largest share of the relayer's main thread (18 %) and about 0.9 ms of an API
 * submit. tiny-secp256k1 zeroes the key it copied into its memory once each signature is made.
 */
export function signDigest(digest: Hex, privateKey: Hex): Signature {
  const { signature, recoveryId } = signRecoverable(hexToBytes(digest), hexToBytes(privateKey));
  // 2 and 3 (r's point beyond the group order) happen with probability about 2^-128, and Ethereum
  // signatures cannot carry them.
  if (recoveryId !== 0 && recoveryId !== 1) throw new Error(`unrepresentable recovery id ${recoveryId}`);
  return {
    r: bytesToHex(signature.subarray(0, 32)),
    s: bytesToHex(signature.subarray(32, 64)),
    v: recoveryId === 1 ? 28n : 27n,
    yParity: recoveryId,
  };
}

/** viem's `signTransaction` (accounts/utils/signTransaction.ts) with {@link signDigest}. */
export async function signTransactionWithKey(
  privateKey: Hex,
  ...[transaction, options]: Parameters<LocalAccount["signTransaction"]>
): Promise<Hex> {
  const serializer = options?.serializer ?? serializeTransaction;
  // An EIP-4844 transaction is signed without its sidecars (the network wrapper), as viem does.
  const signable = transaction.type === "eip4844" ? { ...transaction, sidecars: false as const } : transaction;
  const signature = signDigest(keccak256(await serializer(signable)), privateKey);
  return (await serializer(transaction, signature)) as Hex;
}

/** viem's `signTypedData` (accounts/utils/signTypedData.ts) with {@link signDigest}: the 65-byte hex signature. */
export async function signTypedDataWithKey<
  const typedData extends TypedData | Record<string, unknown>,
  primaryType extends keyof typedData | "EIP712Domain",
>(privateKey: Hex, typedData: TypedDataDefinition<typedData, primaryType>): Promise<Hex> {
  return serializeSignature(signDigest(hashTypedData(typedData), privateKey));
}
