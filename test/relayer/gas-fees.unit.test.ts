import { expect } from "chai";

import { bumpFees } from "../../relayer/gas-fees.ts";

describe("bumpFees (replacement at the same nonce)", () => {
  it("raises both fees by more than the 10 % nodes require, rounded up", () => {
    const bumped = bumpFees({ maxFeePerGas: 1_000n, maxPriorityFeePerGas: 100n });
    expect(bumped.maxFeePerGas).to.equal(1_126n);
    expect(bumped.maxPriorityFeePerGas).to.equal(114n);
    for (const [before, after] of [
      [1_000n, bumped.maxFeePerGas],
      [100n, bumped.maxPriorityFeePerGas],
    ] as const) {
      expect(after * 10n > before * 11n, `${after} ≥ 110 % of ${before}`).to.equal(true);
    }
  });

  it("raises even a fee of 1 wei (integer rounding never leaves it unchanged)", () => {
    const bumped = bumpFees({ maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
    expect(bumped.maxFeePerGas > 1n && bumped.maxPriorityFeePerGas > 1n).to.equal(true);
  });

  it("never goes below the current estimate, and keeps maxFee at least the tip", () => {
    const bumped = bumpFees(
      { maxFeePerGas: 1_000n, maxPriorityFeePerGas: 100n },
      { maxFeePerGas: 5_000n, maxPriorityFeePerGas: 2_000n },
    );
    expect(bumped).to.deep.equal({ maxFeePerGas: 5_000n, maxPriorityFeePerGas: 2_000n });
    const tipAboveFee = bumpFees(
      { maxFeePerGas: 10n, maxPriorityFeePerGas: 10n },
      { maxFeePerGas: 1n, maxPriorityFeePerGas: 50n },
    );
    expect(tipAboveFee.maxFeePerGas >= tipAboveFee.maxPriorityFeePerGas).to.equal(true);
  });
});
