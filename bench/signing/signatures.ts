/**
 * What a signature costs: viem's own signers (noble-curves, pure JavaScript: the baseline) against
 * ours (lib/signing/secp256k1.ts: libsecp256k1 as WebAssembly), on the two things the stack signs —
 * the relayer's EIP-1559 transactions and a custodial wallet's EIP-3009 authorization (EIP-712
 * typed data) — and on a bare 32-byte digest; and what checking a self-custody wallet's signature
 * costs: the authorization's EIP-712 digest alone (viem's hashTypedData against
 * lib/signing/typed-data-digest.ts) and the recovery of its signer (viem's recoverTypedDataAddress
 * against the digest and libsecp256k1's recovery). Each operation alternates between the two in
 * rounds (bench/lib/alternating-paths.ts); every signature, digest and recovered address of ours is
 * checked to be viem's before the clock starts.
 *
 * Run: `npm run bench:signing` (BENCH_SIGNING_OPERATIONS per operation and path, default 4,000).
 */
import { hashTypedData, keccak256, recoverTypedDataAddress, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";

import {
  recoverSigner,
  signDigest,
  signTransactionWithKey,
  signTypedDataWithKey,
} from "../../lib/signing/secp256k1.ts";
import { transferWithAuthorizationTypedData } from "../../lib/signing/transfer-with-authorization.ts";
import { typedDataDigest } from "../../lib/signing/typed-data-digest.ts";
import { compareAlternating } from "../lib/alternating-paths.ts";
import { printConditions } from "../lib/conditions.ts";

const OPERATIONS = Number(process.env.BENCH_SIGNING_OPERATIONS ?? 4_000);
const privateKey = generatePrivateKey();
const account = privateKeyToAccount(privateKey);
const token = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;

const transaction = (i: number) => ({
  chainId: 31337,
  type: "eip1559" as const,
  nonce: i,
  to: token,
  data: keccak256(toHex(i)),
  value: 0n,
  gas: 90_000n,
  maxFeePerGas: 3_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
});
const authorization = (i: number) =>
  transferWithAuthorizationTypedData(
    { name: "USD Stablerail", version: "2", chainId: 31337, verifyingContract: token },
    {
      from: account.address,
      to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      value: BigInt(i + 1),
      validAfter: 0n,
      validBefore: 2n ** 40n,
      nonce: keccak256(toHex(i)),
    },
  );
const digest = (i: number): Hex => keccak256(toHex(i));

type Path = "viem" | "ours";
// The holder's signatures a server checks (made before the clock, as a wallet makes them).
const signatures = await Promise.all(
  Array.from({ length: OPERATIONS }, (_, i) => account.signTypedData(authorization(i))),
);
// The same bytes on both paths, or the comparison means nothing.
for (let i = 0; i < 50; i++) {
  if ((await signTransactionWithKey(privateKey, transaction(i))) !== (await account.signTransaction(transaction(i))))
    throw new Error("our transaction signature differs from viem's");
  if ((await signTypedDataWithKey(privateKey, authorization(i))) !== (await account.signTypedData(authorization(i))))
    throw new Error("our typed-data signature differs from viem's");
  if (typedDataDigest(authorization(i)) !== hashTypedData(authorization(i)))
    throw new Error("our typed-data digest differs from viem's");
  if (recoverSigner(typedDataDigest(authorization(i)), signatures[i]!) !== account.address.toLowerCase())
    throw new Error("our recovery differs from viem's");
}

printConditions("start");
await compareAlternating<Path>({
  label: "signature",
  paths: [
    ["viem (noble-curves)", "viem"],
    ["ours (libsecp256k1, WebAssembly)", "ours"],
  ],
  units: OPERATIONS,
  operations: [
    {
      name: "32-byte digest",
      run: (path, i) =>
        path === "viem" ? sign({ hash: digest(i), privateKey }) : Promise.resolve(signDigest(digest(i), privateKey)),
    },
    {
      name: "EIP-1559 transaction",
      run: (path, i) =>
        path === "viem" ? account.signTransaction(transaction(i)) : signTransactionWithKey(privateKey, transaction(i)),
    },
    {
      name: "EIP-3009 authorization (EIP-712)",
      run: (path, i) =>
        path === "viem" ? account.signTypedData(authorization(i)) : signTypedDataWithKey(privateKey, authorization(i)),
    },
    {
      name: "EIP-3009 authorization digest (EIP-712 hash)",
      run: (path, i) =>
        Promise.resolve(path === "viem" ? hashTypedData(authorization(i)) : typedDataDigest(authorization(i))),
    },
    {
      name: "EIP-3009 signer recovered (a self-custody check)",
      run: (path, i) =>
        path === "viem"
          ? recoverTypedDataAddress({ ...authorization(i), signature: signatures[i]! })
          : Promise.resolve(recoverSigner(typedDataDigest(authorization(i)), signatures[i]!)),
    },
  ],
});
printConditions("end");
