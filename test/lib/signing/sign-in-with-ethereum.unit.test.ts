import { expect } from "chai";
import { createSiweMessage } from "viem/siwe";

import { readSiweMessage, siweDomainOf, siweMessageProblem } from "../../../lib/signing/sign-in-with-ethereum.ts";

describe("siweMessageProblem", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  const expected = {
    origin: "https://wallet.example.com:8443",
    chainId: 8453,
    now,
    maxAgeSeconds: 300,
    clockSkewSeconds: 60,
  };
  const message = (overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}, edit = (text: string) => text) =>
    readSiweMessage(
      edit(
        createSiweMessage({
          address: "0x000000000000000000000000000000000000bEEF",
          chainId: 8453,
          domain: "wallet.example.com:8443",
          nonce: "0123456789abcdef0123456789abcdef",
          uri: "https://wallet.example.com:8443/sign-in",
          version: "1",
          issuedAt: new Date(now.getTime() - 10_000),
          ...overrides,
        }),
      ),
    )!.fields;

  it("accepts a message naming the origin's authority, a URI on it, the chain and a fresh issuedAt", () => {
    expect(siweDomainOf(expected.origin)).to.equal("wallet.example.com:8443");
    expect(siweMessageProblem(message(), expected)).to.equal(undefined);
    expect(siweMessageProblem(message({ issuedAt: new Date(now.getTime() + 30_000) }), expected)).to.equal(undefined);
  });

  it("names the first field that does not hold", () => {
    expect(siweMessageProblem(message({ chainId: 1 }), expected)).to.equal("chain id must be 8453");
    expect(siweMessageProblem(message({ domain: "wallet.example.com" }), expected)).to.equal(
      "domain must be wallet.example.com:8443",
    );
    expect(siweMessageProblem(message({ uri: "http://wallet.example.com:8443/" }), expected)).to.equal(
      "uri must be on https://wallet.example.com:8443",
    );
    expect(siweMessageProblem(message({ scheme: "http" }), expected)).to.equal("scheme must be https");
    // EIP-4361 requires Issued At: without it the text is no SIWE message at all.
    expect(() => message({}, (text) => text.replace(/\nIssued At: .*/, ""))).to.throw(TypeError);
    expect(siweMessageProblem(message({ issuedAt: new Date(now.getTime() - 361_000) }), expected)).to.equal(
      "issuedAt is older than 300 seconds",
    );
    expect(siweMessageProblem(message({ expirationTime: now }), expected)).to.equal("the message has expired");
    expect(siweMessageProblem(message({ notBefore: new Date(now.getTime() + 61_000) }), expected)).to.equal(
      "the message is not valid yet (notBefore)",
    );
  });

  it("reads no address or nonce out of something that is not a SIWE message", () => {
    expect(readSiweMessage("hello")).to.equal(undefined);
  });
});
