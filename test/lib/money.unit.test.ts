import { expect } from "chai";

import { formatBaseUnits, parseBaseUnits, positiveAmount } from "../../lib/money.ts";

describe("lib/money: base units without floats", () => {
  it("formats and parses amounts exactly, both ways", () => {
    for (const [text, units] of [
      ["1.5", 1_500_000n],
      ["0.000001", 1n],
      ["123456789012345678901234567890", 123456789012345678901234567890_000000n],
      ["0", 0n],
    ] as const) {
      expect(parseBaseUnits(text, 6)).to.equal(units);
      expect(formatBaseUnits(units, 6)).to.equal(text);
    }
    expect(formatBaseUnits(-2_500_000n, 6)).to.equal("-2.5");
  });

  it("refuses more decimals than the token has, and anything not a plain decimal", () => {
    for (const text of ["0.0000001", "1e6", "-1", "1,5", " 1", ""])
      expect(() => parseBaseUnits(text, 6), text).to.throw(RangeError);
  });

  it("accepts only positive whole base units within uint256 in JSON", () => {
    expect(positiveAmount.parse("15")).to.equal(15n);
    for (const text of ["0", "1.5", "01", "-1", `${2n ** 256n}`])
      expect(positiveAmount.safeParse(text).success, text).to.equal(false);
  });
});
