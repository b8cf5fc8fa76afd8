import { expect } from "chai";
import fc from "fast-check";

import { firstLoadScripts } from "../../../scripts/build-ui.ts";
import { formatAmount, parseAmount, toPlainDecimal } from "../../../ui/src/core/amount.ts";

/** The web app's amounts: typed text → base units as bigint, and back, never through a float. */
describe("ui amounts (parseAmount, toPlainDecimal, formatAmount)", () => {
  it("parses typed amounts digit by digit into base units", () => {
    expect(parseAmount("1.5", 6)).to.deep.equal({ value: 1_500_000n });
    expect(parseAmount(" 12,25 ", 6)).to.deep.equal({ value: 12_250_000n });
    expect(parseAmount(".000001", 6)).to.deep.equal({ value: 1n });
    expect(parseAmount("1_000", 6)).to.deep.equal({ value: 1_000_000_000n });
    // Past 2^53, where a float would already have lost the last digits.
    expect(parseAmount("123456789012345678901234567890.123456", 6)).to.deep.equal({
      value: 123456789012345678901234567890123456n,
    });
  });

  it("names the problem of text that is not an amount", () => {
    expect(parseAmount("", 6)).to.deep.equal({ problem: "empty" });
    expect(parseAmount("1e6", 6)).to.deep.equal({ problem: "format" });
    expect(parseAmount("-1", 6)).to.deep.equal({ problem: "format" });
    expect(parseAmount(".", 6)).to.deep.equal({ problem: "format" });
    expect(parseAmount("1.1234567", 6)).to.deep.equal({ problem: "decimals" });
    expect(parseAmount("0.000", 6)).to.deep.equal({ problem: "zero" });
  });

  it("round-trips any uint256 through the plain decimal a field shows (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }), fc.integer({ min: 0, max: 18 }), (units, decimals) => {
        expect(parseAmount(toPlainDecimal(units, decimals), decimals)).to.deep.equal({ value: units });
      }),
    );
  });

  it("formats base units exactly, with the sign when asked", () => {
    // The viewer's decimal separator (the machine's locale here).
    const point = new Intl.NumberFormat(undefined).formatToParts(1.5).find((p) => p.type === "decimal")!.value;
    expect(formatAmount(-7_500_000n, 6)).to.equal(`−7${point}50`);
    expect(formatAmount("25000000", 6, { sign: true })).to.equal(`+25${point}00`);
    expect(formatAmount(1n, 6)).to.equal(`0${point}000001`);
  });
});

describe("build-ui firstLoadScripts", () => {
  it("counts the module script and module preloads of index.html, once each", () => {
    const html =
      '<script type="module" crossorigin src="/assets/index-a.js"></script>' +
      '<link rel="modulepreload" crossorigin href="/assets/client-b.js">' +
      '<link rel="modulepreload" crossorigin href="/assets/client-b.js">' +
      '<link rel="stylesheet" href="/assets/index-c.css">';
    expect(firstLoadScripts(html)).to.deep.equal(["/assets/index-a.js", "/assets/client-b.js"]);
  });
});
