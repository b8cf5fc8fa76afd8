/**
 * lib/signing/typed-data-digest.ts against viem's hashTypedData: the same digest for every struct the
 * stack signs and for random ones, whatever the order of domains (the separator is remembered per
 * domain), and the same refusals of values outside their types.
 */
import { randomBytes, randomInt } from "node:crypto";

import { expect } from "chai";
import { bytesToHex, getAddress, hashTypedData, type Hex, type TypedDataDomain } from "viem";

import { forwardRequestTypes } from "../../../lib/signing/forward-request.ts";
import { paymentTermsTypes } from "../../../lib/signing/payment-terms.ts";
import { receiveWithAuthorizationTypes } from "../../../lib/signing/receive-with-authorization.ts";
import { transferWithAuthorizationTypes } from "../../../lib/signing/transfer-with-authorization.ts";
import { typedDataDigest } from "../../../lib/signing/typed-data-digest.ts";

const hex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));
const address = () => getAddress(hex(20));
const uint = (bits: number) => BigInt(hex(bits / 8));

const domains: TypedDataDomain[] = [
  { name: "USD Stablerail", version: "2", chainId: 31337, verifyingContract: address() },
  { name: "USD Stablerail", version: "2", chainId: 1, verifyingContract: address() },
  { name: "PaymentEscrow", version: "1", chainId: 31337n, verifyingContract: address() },
  { name: "Salted", version: "1", chainId: 10, verifyingContract: address(), salt: hex(32) },
  { name: "Only a name" },
  {},
];

// Every flat struct the stack signs, and one with each remaining atomic type.
const mixedTypes = {
  Mixed: [
    { name: "label", type: "string" },
    { name: "flag", type: "bool" },
    { name: "delta", type: "int64" },
    { name: "tag", type: "bytes4" },
    { name: "blob", type: "bytes" },
    { name: "small", type: "uint8" },
  ],
} as const;
const structs = [
  {
    types: transferWithAuthorizationTypes,
    primaryType: "TransferWithAuthorization",
    message: () => ({
      from: address(),
      to: address(),
      value: uint(256),
      validAfter: uint(32),
      validBefore: uint(64),
      nonce: hex(32),
    }),
  },
  {
    types: receiveWithAuthorizationTypes,
    primaryType: "ReceiveWithAuthorization",
    message: () => ({
      from: address(),
      to: address(),
      value: 1n,
      validAfter: 0n,
      validBefore: 2n ** 40n,
      nonce: hex(32),
    }),
  },
  {
    types: forwardRequestTypes,
    primaryType: "ForwardRequest",
    message: () => ({
      from: address(),
      to: address(),
      value: 0n,
      gas: uint(32),
      nonce: uint(16),
      deadline: randomInt(2 ** 47),
      data: hex(randomInt(0, 200)),
    }),
  },
  {
    types: paymentTermsTypes,
    primaryType: "PaymentTerms",
    message: () =>
      Object.fromEntries(
        paymentTermsTypes.PaymentTerms.map(({ name, type }) => [
          name,
          type === "address" ? address() : type === "uint256" ? uint(256) : randomInt(2 ** 16),
        ]),
      ),
  },
  {
    types: mixedTypes,
    primaryType: "Mixed",
    message: () => ({
      label: randomBytes(randomInt(0, 40)).toString("base64"),
      flag: randomInt(2) === 1,
      delta: -BigInt(randomInt(2 ** 40)),
      tag: hex(4),
      blob: hex(randomInt(0, 64)),
      small: randomInt(256),
    }),
  },
] as const;

describe("EIP-712 digests with the domain separator and type hashes remembered (lib/signing/typed-data-digest.ts)", () => {
  it("gives viem's digest for every struct the stack signs, under domains met in any order", () => {
    for (let round = 0; round < 40; round++)
      for (const struct of structs) {
        const typedData = {
          domain: domains[randomInt(domains.length)]!,
          types: struct.types,
          primaryType: struct.primaryType,
          message: struct.message(),
        } as Parameters<typeof hashTypedData>[0];
        expect(typedDataDigest(typedData), struct.primaryType).to.equal(hashTypedData(typedData));
      }
  });

  it("gives viem's digest for nested structs and arrays (hashed by viem)", () => {
    const typedData = {
      domain: domains[0]!,
      types: {
        Person: [
          { name: "name", type: "string" },
          { name: "wallets", type: "address[]" },
        ],
        Mail: [
          { name: "from", type: "Person" },
          { name: "to", type: "Person[]" },
          { name: "contents", type: "string" },
        ],
      },
      primaryType: "Mail",
      message: {
        from: { name: "Cow", wallets: [address(), address()] },
        to: [{ name: "Bob", wallets: [address()] }],
        contents: "Hello, Bob!",
      },
    } as const;
    expect(typedDataDigest(typedData)).to.equal(hashTypedData(typedData));
  });

  it("refuses what viem refuses, with viem's error: an address, an integer out of its size, a fixed-size bytes of another size", () => {
    const valid = structs[2].message();
    const bad: Record<string, unknown>[] = [
      { ...valid, from: "0x1234" },
      // A mixed-case address whose checksum is wrong.
      { ...valid, to: `0x${valid.to.slice(2, 41)}${valid.to[41] === "a" ? "B" : "a"}` },
      { ...valid, deadline: 2 ** 48 },
      { ...valid, deadline: -1 },
      { ...valid, value: 2n ** 256n },
    ];
    const transfer = structs[0].message();
    const badTransfers: Record<string, unknown>[] = [
      { ...transfer, nonce: hex(31) },
      { ...transfer, nonce: hex(33) },
    ];
    const cases = [
      ...bad.map((message) => ({ types: forwardRequestTypes, primaryType: "ForwardRequest", message })),
      ...badTransfers.map((message) => ({
        types: transferWithAuthorizationTypes,
        primaryType: "TransferWithAuthorization",
        message,
      })),
      { types: mixedTypes, primaryType: "Mixed", message: { ...structs[4].message(), delta: 2n ** 63n } },
    ];
    for (const { types, primaryType, message } of cases) {
      const typedData = { domain: domains[0]!, types, primaryType, message } as Parameters<typeof hashTypedData>[0];
      const theirs = (() => {
        try {
          return hashTypedData(typedData);
        } catch (error) {
          return error as Error;
        }
      })();
      expect(
        theirs,
        JSON.stringify(message, (_, v) => (typeof v === "bigint" ? v.toString() : v)),
      ).to.be.instanceOf(Error);
      expect(() => typedDataDigest(typedData)).to.throw((theirs as Error).constructor as new () => Error);
    }
  });

  it("refuses a domain viem refuses, every time it is asked (a refused domain is not remembered)", () => {
    const typedData = {
      domain: { name: "x", chainId: 1, verifyingContract: "0xnot-an-address" as Hex },
      types: transferWithAuthorizationTypes,
      primaryType: "TransferWithAuthorization",
      message: structs[0].message(),
    } as const;
    expect(() => hashTypedData(typedData)).to.throw();
    expect(() => typedDataDigest(typedData)).to.throw();
    expect(() => typedDataDigest(typedData)).to.throw();
  });
});
