import { expect } from "chai";

import { base32Decode, totpCode } from "../../e2e/ui/helpers/totp.ts";

/** The browser tests' own RFC 6238 code generator, against the RFC's published test vectors. */
describe("RFC 6238 codes of the UI tests", () => {
  // RFC 6238 appendix B, SHA-1: the key is ASCII "12345678901234567890"; 8-digit codes there, whose
  // last 6 digits are the 6-digit code (the truncation is modulo 10^digits).
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];

  it("decodes base32 to the RFC's key", () => {
    expect(base32Decode(secret).toString("ascii")).to.equal("12345678901234567890");
  });

  for (const [seconds, code] of vectors) {
    it(`gives ${code.slice(2)} at ${seconds} s`, () => {
      expect(totpCode(secret, Math.floor(seconds / 30))).to.equal(code.slice(2));
    });
  }
});
