/**
 * Function coverage of the contracts, which Hardhat 3's built-in coverage (`--coverage`) does not
 * report (it gives line and statement percentages; its lcov writer has no FN/BRDA records).
 * Reads the JSON that `hardhat test mocha --gas-stats-json <file>` writes — every external or public
 * function the tests called, views included, that did not revert — and compares it with each
 * contract's ABI (inherited OpenZeppelin functions count: they are part of the contract's surface).
 * A function the tests only ever call to see it revert shows as not called (listed by name).
 * The "declared here" columns count only the functions (and public variables' getters) written in the
 * contract's own source file, found by name in that file: what our tests must cover, the rest being
 * OpenZeppelin's (tested upstream).
 *
 * Run:
 *   hardhat test mocha --gas-stats-json /tmp/gas-stats.json test/contracts/**\/*.test.ts
 *   tsx bench/contracts/function-coverage.ts /tmp/gas-stats.json
 * Artifacts are read from STABLERAIL_HARDHAT_BUILD_DIR/artifacts when set, else artifacts/.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { printConditions } from "../lib/conditions.ts";

type AbiItem = { type: string; name?: string; inputs?: { type: string; components?: unknown[] }[] };
type GasStats = { contracts: Record<string, { sourceName: string; contractName: string; functions?: object }> };

const statsFile = process.argv[2];
if (!statsFile) throw new Error("usage: tsx bench/contracts/function-coverage.ts <gas-stats.json>");
const artifactsDir = process.env.STABLERAIL_HARDHAT_BUILD_DIR
  ? path.join(process.env.STABLERAIL_HARDHAT_BUILD_DIR, "artifacts")
  : "artifacts";
const stats = JSON.parse(readFileSync(statsFile, "utf8")) as GasStats;

/** The ABI's function keys as the gas statistics name them: the bare name, or the signature when overloaded. */
function functionKeys(abi: AbiItem[]): string[] {
  const functions = abi.filter((item) => item.type === "function");
  const count = new Map<string, number>();
  for (const f of functions) count.set(f.name!, (count.get(f.name!) ?? 0) + 1);
  const typeOf = (input: { type: string; components?: unknown[] }): string =>
    input.components && input.type.startsWith("tuple")
      ? `(${(input.components as { type: string; components?: unknown[] }[]).map(typeOf).join(",")})${input.type.slice(5)}`
      : input.type;
  return functions.map((f) =>
    count.get(f.name!)! > 1 ? `${f.name}(${(f.inputs ?? []).map(typeOf).join(",")})` : f.name!,
  );
}

/** Whether the source declares the function (or a public variable whose getter it is) itself. */
function declaredIn(source: string, key: string): boolean {
  const name = key.split("(")[0]!;
  return new RegExp(`function\\s+${name}\\s*\\(|\\bpublic\\b[^;(){}]*\\b${name}\\s*[;=]`).test(source);
}

const rows: string[] = [];
const totals = { hit: 0, all: 0, ownHit: 0, own: 0 };
for (const entry of Object.values(stats.contracts)) {
  if (entry.sourceName.includes("/mocks/")) continue;
  const artifact = JSON.parse(
    readFileSync(path.join(artifactsDir, entry.sourceName, `${entry.contractName}.json`), "utf8"),
  ) as { abi: AbiItem[] };
  const all = functionKeys(artifact.abi);
  const called = new Set(Object.keys(entry.functions ?? {}));
  const missing = all.filter((key) => !called.has(key));
  const hit = all.length - missing.length;
  const source = readFileSync(entry.sourceName, "utf8");
  const own = all.filter((key) => declaredIn(source, key));
  const ownHit = own.filter((key) => called.has(key)).length;
  const ownMissing = own.filter((key) => !called.has(key));
  Object.assign(totals, {
    hit: totals.hit + hit,
    all: totals.all + all.length,
    ownHit: totals.ownHit + ownHit,
    own: totals.own + own.length,
  });
  rows.push(
    `| ${entry.contractName} | ${ownHit}/${own.length} | ${percent(ownHit, own.length)} | ${ownMissing.join(", ") || "—"} ` +
      `| ${hit}/${all.length} | ${percent(hit, all.length)} | ${missing.filter((key) => !own.includes(key)).join(", ") || "—"} |`,
  );
}
function percent(hit: number, all: number): string {
  return all === 0 ? "—" : `${((100 * hit) / all).toFixed(1)} %`;
}
printConditions("machine");
console.log(
  "| contract | declared here: called | % | not called without reverting | with inherited: called | % | inherited, not called |",
);
console.log("| -------- | ---: | ---: | --- | ---: | ---: | --- |");
for (const row of rows.sort()) console.log(row);
console.log(
  `| **all** | ${totals.ownHit}/${totals.own} | ${percent(totals.ownHit, totals.own)} | | ` +
    `${totals.hit}/${totals.all} | ${percent(totals.hit, totals.all)} | |`,
);
