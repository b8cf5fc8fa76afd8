import { randomBytes } from "node:crypto";

import { expect } from "chai";
import {
  bytesToHex,
  keccak256,
  parseTransaction,
  recoverAddress,
  recoverTransactionAddress,
  recoverTypedDataAddress,
  type Hex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";

import {
  recoverSigner,
  signDigest,
  signTransactionWithKey,
  signTypedDataWithKey,
} from "../../../lib/signing/secp256k1.ts";

// Half the group order: a low-s signature has s at most this.
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const word = (value: bigint) => value.toString(16).padStart(64, "0");

describe("secp256k1 signatures by libsecp256k1 (lib/signing/secp256k1.ts)", () => {
  const keys = Array.from({ length: 8 }, () => generatePrivateKey());

  it("makes the bytes viem's own signer makes for the same digest and key (RFC 6979, low s, yParity)", async () => {
    let parities = 0;
    for (const privateKey of keys)
      for (let i = 0; i < 32; i++) {
        const digest = bytesToHex(randomBytes(32));
        const ours = signDigest(digest, privateKey);
        expect(ours).to.deep.equal(await sign({ hash: digest, privateKey }));
        expect(BigInt(ours.s) <= HALF_ORDER).to.equal(true);
        expect(await recoverAddress({ hash: digest, signature: ours })).to.equal(
          privateKeyToAccount(privateKey).address,
        );
        parities += ours.yParity!;
      }
    // Both recovery bits occur (each about half the time): neither is hard-coded.
    expect(parities).to.be.within(64, 192);
  });

  it("signs a transaction as viem's account does, recoverable to the key's address", async () => {
    const privateKey = keys[0]!;
    const account = privateKeyToAccount(privateKey);
    const transaction = {
      chainId: 31337,
      type: "eip1559" as const,
      nonce: 7,
      to: "0x000000000000000000000000000000000000bEEF" as Hex,
      data: "0xa9059cbb" as Hex,
      value: 5n,
      gas: 90_000n,
      maxFeePerGas: 3_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    };
    const ours = await signTransactionWithKey(privateKey, transaction);
    expect(ours).to.equal(await account.signTransaction(transaction));
    expect(await recoverTransactionAddress({ serializedTransaction: ours as never })).to.equal(account.address);
    expect(parseTransaction(ours).nonce).to.equal(7);
    // Another key's signature over the same transaction is another sender.
    const other = await signTransactionWithKey(keys[1]!, transaction);
    expect(await recoverTransactionAddress({ serializedTransaction: other as never })).to.not.equal(account.address);
  });

  it("signs EIP-712 typed data as viem's account does", async () => {
    const privateKey = keys[2]!;
    const account = privateKeyToAccount(privateKey);
    const typedData = {
      domain: { name: "USD Stablerail", version: "2", chainId: 31337, verifyingContract: account.address },
      types: {
        Transfer: [
          { name: "to", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "bytes32" },
        ],
      },
      primaryType: "Transfer" as const,
      message: { to: account.address, value: 10n ** 18n, nonce: keccak256("0x01") },
    };
    const ours = await signTypedDataWithKey(privateKey, typedData);
    expect(ours).to.equal(await account.signTypedData(typedData));
    expect(await recoverTypedDataAddress({ ...typedData, signature: ours })).to.equal(account.address);
  });

  it("refuses a key outside the curve's range instead of signing with it", () => {
    const digest = keccak256("0x02");
    expect(() => signDigest(digest, `0x${"00".repeat(32)}`)).to.throw();
    expect(() => signDigest(digest, `0x${"ff".repeat(32)}`)).to.throw();
  });

  it("recovers the signer as viem does, in lower case, for both recovery bits", async () => {
    let parities = 0;
    for (const privateKey of keys)
      for (let i = 0; i < 16; i++) {
        const digest = bytesToHex(randomBytes(32));
        const signature = await sign({ hash: digest, privateKey, to: "hex" });
        expect(recoverSigner(digest, signature)).to.equal(privateKeyToAccount(privateKey).address.toLowerCase());
        parities += Number(signature.endsWith("1c"));
      }
    expect(parities).to.be.within(32, 96);
  });

  it("refuses, as the contracts' ECDSA.tryRecover does, signatures viem would still recover: high s, v as 0/1", async () => {
    const privateKey = keys[3]!;
    const digest = bytesToHex(randomBytes(32));
    const signature = await sign({ hash: digest, privateKey, to: "hex" });
    const [r, s, v] = [signature.slice(2, 66), BigInt(`0x${signature.slice(66, 130)}`), signature.slice(130)];
    // The same signature malleated: s' = n − s with the other recovery bit recovers the same key.
    const malleated = `0x${r}${word(ORDER - s)}${v === "1b" ? "1c" : "1b"}` as Hex;
    const asParity = `0x${r}${word(s)}${v === "1b" ? "00" : "01"}` as Hex;
    const address = privateKeyToAccount(privateKey).address;
    // viem accepts both and recovers the signer: what the API checked before, and the chain refuses.
    expect(await recoverAddress({ hash: digest, signature: malleated })).to.equal(address);
    expect(await recoverAddress({ hash: digest, signature: asParity })).to.equal(address);
    expect(recoverSigner(digest, malleated))
      .to.have.property("reason")
      .that.matches(/upper half/);
    expect(recoverSigner(digest, asParity))
      .to.have.property("reason")
      .that.matches(/v is 0|v is 1/);
    expect(recoverSigner(digest, signature.slice(0, 130) as Hex)).to.have.property("reason");
    expect(recoverSigner(digest, `0x${"00".repeat(64)}1b`)).to.have.property("reason");
    expect(recoverSigner(digest, `0x${word(ORDER)}${word(s)}${v}` as Hex)).to.have.property("reason");
  });
});
