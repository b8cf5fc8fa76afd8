import { randomBytes } from "node:crypto";

import { expect } from "chai";
import { encodePacked, getAddress, keccak256, parseTransaction, recoverTransactionAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { encryptedKeyCustody } from "../../../lib/signing/encrypted-key-signer.ts";
import { randomAuthorizationNonce, type Eip3009Authorization } from "../../../lib/signing/eip3009-fields.ts";
import {
  forwardRequestTypedData,
  signForwardRequest,
  verifyForwardRequest,
} from "../../../lib/signing/forward-request.ts";
import { paymentIdOf, refundNonceOf, type PaymentTermsMessage } from "../../../lib/signing/payment-terms.ts";
import { privateKeySigner } from "../../../lib/signing/private-key-signer.ts";
import {
  signReceiveWithAuthorization,
  verifyReceiveWithAuthorization,
} from "../../../lib/signing/receive-with-authorization.ts";
import {
  signTransferWithAuthorization,
  verifyTransferWithAuthorization,
} from "../../../lib/signing/transfer-with-authorization.ts";

const domain = {
  name: "Stablerail USD",
  version: "1",
  chainId: 31337,
  verifyingContract: getAddress(`0x${"12".repeat(20)}`),
};

const authorization = (from: Hex): Eip3009Authorization => ({
  from,
  to: getAddress(`0x${"34".repeat(20)}`),
  value: 1_500_000n,
  validAfter: 0n,
  validBefore: 2_000_000_000n,
  nonce: randomAuthorizationNonce(),
});

/** Expects `promise` to reject with a Stablerail error of `code`. */
async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { code?: string },
  );
  expect(error?.code).to.equal(code);
}

describe("lib/signing: EIP-3009 authorizations", () => {
  const signer = privateKeySigner(generatePrivateKey());

  it("signs a TransferWithAuthorization that verifies against its `from`, and nothing else", async () => {
    const message = authorization(signer.address);
    const signature = await signTransferWithAuthorization(signer, domain, message);
    await verifyTransferWithAuthorization(domain, message, signature);
    await expectCode(verifyTransferWithAuthorization(domain, { ...message, value: 1n }, signature), "SIGNER_MISMATCH");
    await expectCode(verifyTransferWithAuthorization({ ...domain, chainId: 1 }, message, signature), "SIGNER_MISMATCH");
    await expectCode(verifyTransferWithAuthorization(domain, message, "0x1234"), "SIGNATURE_INVALID");
  });

  it("keeps ReceiveWithAuthorization apart from TransferWithAuthorization (another type hash)", async () => {
    const message = authorization(signer.address);
    const receive = await signReceiveWithAuthorization(signer, domain, message);
    await verifyReceiveWithAuthorization(domain, message, receive);
    await expectCode(verifyTransferWithAuthorization(domain, message, receive), "SIGNER_MISMATCH");
  });

  it("refuses a signature by another key for `from`", async () => {
    const other = privateKeySigner(generatePrivateKey());
    const message = authorization(signer.address);
    await expectCode(
      verifyTransferWithAuthorization(domain, message, await signTransferWithAuthorization(other, domain, message)),
      "SIGNER_MISMATCH",
    );
  });
});

describe("lib/signing: ERC-2771 forward requests", () => {
  it("signs and verifies a request at the forwarder's domain; a changed nonce or target is refused", async () => {
    const signer = privateKeySigner(generatePrivateKey());
    const forwarder = getAddress(`0x${"56".repeat(20)}`);
    const message = {
      from: signer.address,
      to: getAddress(`0x${"78".repeat(20)}`),
      value: 0n,
      gas: 300_000n,
      nonce: 3n,
      deadline: 2_000_000_000,
      data: "0xabcdef" as Hex,
    };
    expect(forwardRequestTypedData(31337, forwarder, message).domain).to.deep.equal({
      name: "StablerailForwarder",
      version: "1",
      chainId: 31337,
      verifyingContract: forwarder,
    });
    const signature = await signForwardRequest(signer, 31337, forwarder, message);
    await verifyForwardRequest(31337, forwarder, message, signature);
    await expectCode(verifyForwardRequest(31337, forwarder, { ...message, nonce: 4n }, signature), "SIGNER_MISMATCH");
    await expectCode(
      verifyForwardRequest(31337, forwarder, { ...message, to: signer.address }, signature),
      "SIGNER_MISMATCH",
    );
  });
});

describe("lib/signing: payment ids and refund nonces", () => {
  const terms: PaymentTermsMessage = {
    operator: getAddress(`0x${"01".repeat(20)}`),
    payer: getAddress(`0x${"02".repeat(20)}`),
    merchant: getAddress(`0x${"03".repeat(20)}`),
    token: getAddress(`0x${"04".repeat(20)}`),
    maxAmount: 10n ** 6n,
    authorizationExpiry: 1_800_000_000,
    refundExpiry: 1_900_000_000,
    minFeeBps: 0,
    maxFeeBps: 100,
    feeReceiver: getAddress(`0x${"05".repeat(20)}`),
    salt: 42n,
  };
  const escrow = getAddress(`0x${"e5".repeat(20)}`);

  it("gives every change of terms, chain or escrow another payment id", () => {
    const id = paymentIdOf(terms, 31337, escrow);
    for (const changed of [
      paymentIdOf({ ...terms, salt: 43n }, 31337, escrow),
      paymentIdOf({ ...terms, maxFeeBps: 101 }, 31337, escrow),
      paymentIdOf({ ...terms, payer: terms.merchant }, 31337, escrow),
      paymentIdOf(terms, 1, escrow),
      paymentIdOf(terms, 31337, terms.token),
    ])
      expect(changed).to.not.equal(id);
  });

  it("derives the refund nonce as keccak256 of the payment id and the salt, 32 bytes each", () => {
    const id = paymentIdOf(terms, 31337, escrow);
    const salt = `0x${randomBytes(32).toString("hex")}` as Hex;
    expect(refundNonceOf(id, salt)).to.equal(keccak256(encodePacked(["bytes32", "bytes32"], [id, salt])));
    expect(refundNonceOf(id, salt)).to.not.equal(id);
  });
});

describe("lib/signing: signers", () => {
  it("a private-key signer signs transactions its address recovers from", async () => {
    const key = generatePrivateKey();
    const signer = privateKeySigner(key);
    expect(signer.address).to.equal(privateKeyToAccount(key).address);
    expect(Object.values(signer).some((value) => value === key)).to.equal(false);
    const raw = await signer.signTransaction({
      chainId: 31337,
      to: signer.address,
      value: 0n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 1n,
      maxPriorityFeePerGas: 1n,
    });
    expect(await recoverTransactionAddress({ serializedTransaction: raw as never })).to.equal(signer.address);
    expect(parseTransaction(raw).nonce).to.equal(0);
  });

  it("the encrypted-key custody generates a key it never returns, and signs only for the wallet it belongs to", async () => {
    const custody = encryptedKeyCustody(randomBytes(32));
    const key = custody.generate();
    expect(key.keyMaterial).to.not.match(/^0x[0-9a-f]{64}$/);
    const signer = custody.signer(key);
    const message = authorization(key.address);
    await verifyTransferWithAuthorization(
      domain,
      message,
      await signTransferWithAuthorization(signer, domain, message),
    );
    // The ciphertext is bound to its wallet id (AES-GCM associated data) and its address.
    const elsewhere = custody.signer({ ...key, walletId: crypto.randomUUID() });
    await expectCode(
      signTransferWithAuthorization(elsewhere, domain, message).catch(() => Promise.reject({ code: "REFUSED" })),
      "REFUSED",
    );
    const otherKek = encryptedKeyCustody(randomBytes(32)).signer(key);
    await expectCode(
      signTransferWithAuthorization(otherKek, domain, message).catch(() => Promise.reject({ code: "REFUSED" })),
      "REFUSED",
    );
  });
});
