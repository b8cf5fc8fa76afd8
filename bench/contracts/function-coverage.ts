/**
 * Function coverage of the contracts, which Hardhat 3's built-in coverage (`--coverage`) does not
 * report (it gives line and statement percentages; its lcov writer has no FN/BRDA records).
 * Reads the JSON that `hardhat test mocha --gas-stats-json <file>` writes — every external or public
 * function the tests called, views included, that did not revert — and compares it with each
 * contract's ABI (inherited OpenZeppelin functions count: they are part of the contract's surface).
 * A function the tests only ever call to see it revert shows as not called (listed by name).
 *
 * Run:
 *   hardhat test mocha --gas-stats-json /tmp/gas-stats.json test/contracts/**\/*.test.ts
 *   tsx bench/contracts/function-coverage.ts /tmp/gas-stats.json
 * Artifacts are read from STABLERAIL_HARDHAT_BUILD_DIR/artifacts when set, else artifacts/.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

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

const rows: string[] = [];
for (const entry of Object.values(stats.contracts)) {
  if (entry.sourceName.includes("/mocks/")) continue;
  const artifact = JSON.parse(
    readFileSync(path.join(artifactsDir, entry.sourceName, `${entry.contractName}.json`), "utf8"),
  ) as { abi: AbiItem[] };
  const all = functionKeys(artifact.abi);
  const called = new Set(Object.keys(entry.functions ?? {}));
  const missing = all.filter((key) => !called.has(key));
  const hit = all.length - missing.length;
  rows.push(
    `| ${entry.contractName} | ${hit}/${all.length} | ${((100 * hit) / all.length).toFixed(1)} % | ${missing.join(", ") || "—"} |`,
  );
}
console.log("| contract | functions called | function % | not called without reverting |");
console.log("| -------- | ---------------: | ---------: | ---------------------------- |");
for (const row of rows.sort()) console.log(row);
