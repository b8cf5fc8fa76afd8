import { recover, signRecoverable } from "tiny-secp256k1";
import {
  bytesToHex,
  hexToBytes,
  keccak256,
  serializeSignature,
  serializeTransaction,
  type Address,
  type Hex,
  type LocalAccount,
  type Signature,
  type TypedData,
  type TypedDataDefinition,
} from "viem";

import { typedDataDigest } from "./typed-data-digest.ts";

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
  return serializeSignature(signDigest(typedDataDigest(typedData), privateKey));
}

// Half the group order: the largest s OpenZeppelin's ECDSA (and so every contract of ours) accepts.
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** Why {@link recoverSigner} refused a signature. */
export type UnrecoverableSignature = { reason: string };

/**
 * The address whose key made the 65-byte `signature` (r ‖ s ‖ v) of `digest`, by the rule the
 * chain applies — OpenZeppelin's `ECDSA.tryRecover`, which our token, escrow and forwarder use:
 * v is 27 or 28 and s is in the lower half of the group order. A signature the contracts would
 * refuse (v as 0/1, a malleated high s) is refused here, before anything is recorded or relayed.
 * Recovery by libsecp256k1 (about a fifth of noble-curves' CPU, `npm run bench:signing`).
 * @returns the signer's address in lower case, or why the signature cannot be one
 */
export function recoverSigner(digest: Hex, signature: Hex): Address | UnrecoverableSignature {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return { reason: "it is not 65 bytes of hex" };
  const bytes = hexToBytes(signature);
  const v = bytes[64]!;
  if (v !== 27 && v !== 28) return { reason: `its v is ${v}, where the contracts accept 27 or 28` };
  if (BigInt(bytesToHex(bytes.subarray(32, 64))) > HALF_ORDER)
    return { reason: "its s is in the upper half of the curve's order, which the contracts refuse (malleable)" };
  let publicKey: Uint8Array | null;
  try {
    publicKey = recover(hexToBytes(digest), bytes.subarray(0, 64), (v - 27) as 0 | 1, false);
  } catch {
    publicKey = null; // r or s zero or beyond the group order
  }
  if (!publicKey) return { reason: "no public key recovers from it" };
  return `0x${keccak256(publicKey.subarray(1)).slice(-40)}` as Address;
}
