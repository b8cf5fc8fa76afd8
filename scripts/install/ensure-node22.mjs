// Runs after `npm install` / `npm ci`. Hardhat 3 needs Node >= 22.13, and npm running under
// an older Node silently skips packages whose `engines` exclude it — notably Hardhat's
// native EVM (@nomicfoundation/edr-<platform>). The `node` devDependency has just put a
// Node 22 binary in node_modules/.bin. We ask that binary whether Hardhat's EVM loads; when
// it does not, we run `npm install` once more under it so the skipped packages land.
//
// Why not compare process.versions.node: npm puts node_modules/.bin first on PATH for
// lifecycle scripts, so this file already runs under the bundled Node 22 even when npm
// itself ran under Node 20. What matters is whether the native binding is there.
// Plain JavaScript on purpose: it must run on whatever Node the machine has.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

const binDir = join(process.cwd(), "node_modules", ".bin");
const bundledNode = join(binDir, process.platform === "win32" ? "node.cmd" : "node");
const node = existsSync(bundledNode) ? bundledNode : process.execPath;

if (process.env.STABLERAIL_REINSTALLING === "1") process.exit(0);

function evmLoads() {
  const probe = spawnSync(node, ["-e", "require('@nomicfoundation/edr')"], { stdio: "ignore" });
  return probe.status === 0;
}

const nodeMajor = Number(spawnSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.split(".")[0]);
if (!(nodeMajor >= 22)) {
  console.error(
    "[stablerail] Hardhat 3 needs Node 22.13 or later and the bundled Node 22 was not installed. " +
      "Install Node 22 (see .nvmrc) and run `npm install` again.",
  );
  process.exit(1);
}

if (evmLoads()) process.exit(0);

console.log(
  "[stablerail] Hardhat's native EVM was skipped (npm ran on an older Node); " +
    "re-running npm install under the bundled Node 22",
);
const result = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
  stdio: "inherit",
  env: {
    ...process.env,
    PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}`,
    STABLERAIL_REINSTALLING: "1",
  },
  shell: process.platform === "win32",
});
if (result.status !== 0) process.exit(result.status ?? 1);
if (!evmLoads()) {
  console.error("[stablerail] Hardhat's native EVM still does not load; see the npm output above.");
  process.exit(1);
}
process.exit(0);
