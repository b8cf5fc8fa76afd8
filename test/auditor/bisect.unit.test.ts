import { expect } from "chai";
import fc from "fast-check";

import { firstDivergentBlock } from "../../auditor/reconcile/bisect.ts";

const SEED = Number(process.env.AUDIT_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe("firstDivergentBlock (bisection over blocks)", () => {
  it(`finds the block where two sides that diverge once start to differ, in ⌈log2⌉ probes (fast-check seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        async (span, offset) => {
          const low = 10n;
          const high = low + BigInt(span);
          const diverged = low + 1n + (BigInt(offset) % BigInt(span));
          const seen: bigint[] = [];
          const { block, probes } = await firstDivergentBlock({
            low,
            high,
            agrees: async (b) => {
              seen.push(b);
              return b < diverged;
            },
          });
          expect(block).to.equal(diverged);
          expect(probes).to.be.at.most(Math.ceil(Math.log2(span)) + 1);
          for (const b of seen) expect(b > low && b < high).to.equal(true);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
