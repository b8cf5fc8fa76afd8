/**
 * The indexer's node flags (lib/process/node-flags.ts) reach the processes users start, and take
 * effect there: V8 reads them when the heap is created, so a flag missing from a script is lost.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

import { expect } from "chai";

import { INDEXER_NODE_FLAGS } from "../../lib/process/node-flags.ts";

const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;

/** The young generation (V8 new space) a child reaches after allocating batch-lived objects, in MiB. */
function youngGenerationOfChild(flags: readonly string[]): number {
  const program = `
    const v8 = require("node:v8");
    const kept = [];
    for (let round = 0; round < 20; round++) {
      const batch = [];
      for (let i = 0; i < 100000; i++) batch.push({ i, text: "row " + i });
      kept.push(batch);
      if (kept.length > 2) kept.shift();
    }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    process.stdout.write(String(space.space_size / 1048576));`;
  const run = spawnSync(process.execPath, [...flags, "-e", program], { encoding: "utf8" });
  expect(run.status, run.stderr).to.equal(0);
  return Number(run.stdout);
}

describe("the indexer's node flags", () => {
  it("are on the command line of npm start, npm run indexer and npm run bench:indexer", () => {
    for (const name of ["start", "indexer", "bench:indexer"])
      for (const flag of INDEXER_NODE_FLAGS) expect(scripts[name], name).to.contain(` ${flag} `);
  });

  it("give a young generation several times the default one (the flag takes effect)", function () {
    this.timeout(30_000);
    const without = youngGenerationOfChild([]);
    const with64 = youngGenerationOfChild(INDEXER_NODE_FLAGS);
    expect(with64, `${with64} MiB with the flags, ${without} MiB without`).to.be.at.least(2 * without);
  });
});
