import { Writable } from "node:stream";

import { expect } from "chai";

import { createProgress, silentProgress } from "../../auditor/report/progress.ts";

/** A stream that keeps what is written, claiming to be a terminal or not. */
function terminal(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(stream, { isTTY, text: () => chunks.join("") });
  return stream;
}

describe("Audit progress bar (auditor/report/progress)", () => {
  it("draws a bar with the share done, the count, the rate and an ETA on a terminal, and a final line with the time", () => {
    const stream = terminal(true);
    const progress = createProgress(stream);
    expect(progress.active).to.equal(true);
    progress.start(100_000, "accounts", "balances");
    progress.tick(25_000);
    const first = stream.text();
    expect(first).to.match(/^\rbalances \[#{8}\.{22}\] {2}25% 25,000\/100,000 accounts [\d,]+\/s ETA [\d.]+ (s|min)/);
    progress.tick(75_000);
    progress.done();
    const last = stream.text().split("\r").pop()!;
    expect(last).to.match(/^balances \[#{30}\] 100% 100,000\/100,000 accounts [\d,]+\/s in [\d.]+ (s|min)/);
    expect(last).to.not.include("ETA");
    expect(last.endsWith("\n")).to.equal(true);
  });

  it("draws a count and a rate without a bar when the total is unknown", () => {
    const stream = terminal(true);
    const progress = createProgress(stream);
    progress.start(0, "blocks");
    progress.tick(12);
    progress.done();
    expect(stream.text()).to.match(/\r12 blocks [\d,]+\/s in [\d.]+ s\n$/);
    expect(stream.text()).to.not.include("[");
  });

  it("draws nothing when the stream is not a terminal (a pipe keeps the report clean)", () => {
    const stream = terminal(false);
    const progress = createProgress(stream);
    expect(progress).to.equal(silentProgress);
    expect(progress.active).to.equal(false);
    progress.start(10, "accounts");
    progress.tick(10);
    progress.done();
    expect(stream.text()).to.equal("");
  });
});
