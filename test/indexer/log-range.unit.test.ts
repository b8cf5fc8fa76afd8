import { expect } from "chai";
import { padHex } from "viem";

import {
  DEFAULT_MAX_RESPONSE_BYTES,
  estimateLogBytes,
  nextLogRange,
  shrinkRefusedRange,
} from "../../indexer/sync/log-range.ts";

const limits = { targetLogs: 5_000, maxRange: 50_000n, maxBytes: DEFAULT_MAX_RESPONSE_BYTES };
const transferLog = {
  data: padHex("0x1", { size: 32 }),
  topics: [padHex("0x2", { size: 32 }), padHex("0x3", { size: 32 }), padHex("0x4", { size: 32 })],
} as const;

describe("nextLogRange (how many blocks the next eth_getLogs asks for)", () => {
  it("sizes the range after a one-block probe of 1,000 logs to the target count (5 blocks)", () => {
    const bytes = 1_000 * estimateLogBytes(transferLog);
    expect(nextLogRange({ blocks: 1n, logs: 1_000, bytes }, limits)).to.equal(5n);
  });

  it("keeps a range that returned the target count where it is", () => {
    const bytes = 5_000 * estimateLogBytes(transferLog);
    expect(nextLogRange({ blocks: 5n, logs: 5_000, bytes }, limits)).to.equal(5n);
  });

  it("shrinks at once when a stretch is denser than the last one (20,000 logs in 5 blocks → 1 block)", () => {
    const bytes = 20_000 * estimateLogBytes(transferLog);
    expect(nextLogRange({ blocks: 5n, logs: 20_000, bytes }, limits)).to.equal(1n);
  });

  it("keeps the estimated response under the byte budget when logs are large, whatever the count target", () => {
    const big = { data: `0x${"ab".repeat(8_192)}` as const, topics: [] };
    const bytes = 1_000 * estimateLogBytes(big);
    const next = nextLogRange({ blocks: 10n, logs: 1_000, bytes }, limits);
    expect(Number(next) * (bytes / 10)).to.be.at.most(DEFAULT_MAX_RESPONSE_BYTES);
    expect(next).to.be.below(10n);
  });

  it("grows at most eightfold per step over empty or sparse stretches, up to the largest range", () => {
    expect(nextLogRange({ blocks: 1n, logs: 0, bytes: 0 }, limits)).to.equal(8n);
    expect(nextLogRange({ blocks: 8n, logs: 1, bytes: 600 }, limits)).to.equal(64n);
    expect(nextLogRange({ blocks: 40_000n, logs: 0, bytes: 0 }, limits)).to.equal(50_000n);
  });

  it("never returns less than one block", () => {
    expect(nextLogRange({ blocks: 1n, logs: 1_000_000, bytes: 600_000_000 }, limits)).to.equal(1n);
  });
});

describe("shrinkRefusedRange", () => {
  it("retries a refused range with a quarter of its blocks, at least one", () => {
    expect(shrinkRefusedRange(2_000n)).to.equal(500n);
    expect(shrinkRefusedRange(3n)).to.equal(1n);
  });
});

describe("estimateLogBytes", () => {
  it("estimates a Transfer log near its JSON size on the wire (about 640 bytes)", () => {
    expect(estimateLogBytes(transferLog)).to.be.within(500, 900);
  });
});
