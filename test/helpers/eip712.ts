/**
 * Builds and signs the Stablecoin's EIP-712 messages — EIP-3009 `TransferWithAuthorization`,
 * `ReceiveWithAuthorization`, `CancelAuthorization` and EIP-2612 `Permit` — with ethers, returning the
 * signature both split (`v, r, s`) and packed (65 bytes, `r ‖ s ‖ v`), for the two forms the token accepts.
 * The domain is read from the token itself (EIP-5267 `eip712Domain()`), so it always matches the contract.
 */
import { Signature, hexlify, randomBytes, type TypedDataDomain, type TypedDataField } from "ethers";

/** The token's EIP-712 domain source: any contract exposing EIP-5267 `eip712Domain()` (the Stablecoin does). */
export type Eip712Token = {
  eip712Domain(): Promise<readonly [string, string, string, bigint, string, string, readonly bigint[]]>;
};

/** Anything that signs EIP-712 typed data: a Hardhat signer or an ethers `Wallet`. */
export type TypedDataSigner = {
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
};

/** A signature in the token's two accepted forms. */
export type SplitAndPackedSignature = {
  v: number;
  r: string;
  s: string;
  /** 65 bytes `r ‖ s ‖ v`, as the `bytes signature` overloads expect. */
  signature: string;
};

export type TransferAuthorization = {
  from: string;
  to: string;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: string;
};

export type CancelAuthorizationMessage = { authorizer: string; nonce: string };

export type PermitMessage = {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
};

const AUTHORIZATION_FIELDS: TypedDataField[] = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];

/** EIP-712 types, exactly as EIP-3009 / EIP-2612 (and USDC) define them. */
export const EIP712_TYPES = {
  TransferWithAuthorization: { TransferWithAuthorization: AUTHORIZATION_FIELDS },
  ReceiveWithAuthorization: { ReceiveWithAuthorization: AUTHORIZATION_FIELDS },
  CancelAuthorization: {
    CancelAuthorization: [
      { name: "authorizer", type: "address" },
      { name: "nonce", type: "bytes32" },
    ],
  },
  Permit: {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
} as const satisfies Record<string, Record<string, TypedDataField[]>>;

/** secp256k1 group order: `s` above n/2 is the malleable ("high-s") twin of a valid signature. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * Reads the token's EIP-712 domain from the chain.
 * @param token - the Stablecoin (or any EIP-5267 contract)
 * @returns the domain ethers' `signTypedData` expects
 */
export async function tokenDomain(token: Eip712Token): Promise<TypedDataDomain> {
  const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
  return { name, version, chainId, verifyingContract };
}

/** A fresh random 32-byte EIP-3009 nonce (hex). */
export function randomNonce(): string {
  return hexlify(randomBytes(32));
}

/** Splits a 65-byte signature into both accepted forms. */
export function splitSignature(packed: string): SplitAndPackedSignature {
  const sig = Signature.from(packed);
  return { v: sig.v, r: sig.r, s: sig.s, signature: sig.serialized };
}

/**
 * Returns the malleable twin of a valid signature (s' = n − s, v flipped), which recovers to the same signer
 * but which ECDSA with the low-s rule must reject.
 * @example const bad = toHighS(await signTransferWithAuthorization(alice, token, auth));
 */
export function toHighS(sig: SplitAndPackedSignature): SplitAndPackedSignature {
  const highS = "0x" + (SECP256K1_N - BigInt(sig.s)).toString(16).padStart(64, "0");
  const v = sig.v === 27 ? 28 : 27;
  const signature = sig.r + highS.slice(2) + v.toString(16);
  return { v, r: sig.r, s: highS, signature };
}

async function signTyped(
  signer: TypedDataSigner,
  token: Eip712Token,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
): Promise<SplitAndPackedSignature> {
  return splitSignature(await signer.signTypedData(await tokenDomain(token), types, value));
}

/**
 * Signs an EIP-3009 `TransferWithAuthorization` (submit with `transferWithAuthorization`).
 * @param signer - the key that signs: `from` itself, or the owner of an ERC-1271 wallet at `from`
 * @param token - the Stablecoin
 * @param auth - the authorization (`nonce` a random bytes32, e.g. {@link randomNonce})
 * @returns the signature as `{ v, r, s }` and packed bytes
 */
export function signTransferWithAuthorization(
  signer: TypedDataSigner,
  token: Eip712Token,
  auth: TransferAuthorization,
): Promise<SplitAndPackedSignature> {
  return signTyped(signer, token, EIP712_TYPES.TransferWithAuthorization, auth);
}

/**
 * Signs an EIP-3009 `ReceiveWithAuthorization` (submit with `receiveWithAuthorization`, by `to` only).
 * @param signer - the key that signs: `from` itself, or the owner of an ERC-1271 wallet at `from`
 * @param token - the Stablecoin
 * @param auth - the authorization
 * @returns the signature as `{ v, r, s }` and packed bytes
 */
export function signReceiveWithAuthorization(
  signer: TypedDataSigner,
  token: Eip712Token,
  auth: TransferAuthorization,
): Promise<SplitAndPackedSignature> {
  return signTyped(signer, token, EIP712_TYPES.ReceiveWithAuthorization, auth);
}

/**
 * Signs an EIP-3009 `CancelAuthorization`.
 * @param signer - the authorizer's key (or its ERC-1271 wallet owner's)
 * @param token - the Stablecoin
 * @param message - authorizer and nonce to cancel
 * @returns the signature as `{ v, r, s }` and packed bytes
 */
export function signCancelAuthorization(
  signer: TypedDataSigner,
  token: Eip712Token,
  message: CancelAuthorizationMessage,
): Promise<SplitAndPackedSignature> {
  return signTyped(signer, token, EIP712_TYPES.CancelAuthorization, message);
}

/**
 * Signs an EIP-2612 `Permit`. Read `nonce` from `token.nonces(owner)`.
 * @param signer - the owner's key
 * @param token - the Stablecoin
 * @param permit - owner, spender, value, the owner's current permit nonce and the deadline
 * @returns the signature as `{ v, r, s }` and packed bytes
 */
export function signPermit(
  signer: TypedDataSigner,
  token: Eip712Token,
  permit: PermitMessage,
): Promise<SplitAndPackedSignature> {
  return signTyped(signer, token, EIP712_TYPES.Permit, permit);
}
