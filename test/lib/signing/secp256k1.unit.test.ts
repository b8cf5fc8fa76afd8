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

import { signDigest, signTransactionWithKey, signTypedDataWithKey } from "../../../lib/signing/secp256k1.ts";

// Half the group order: a low-s signature has s at most this.
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

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
});
