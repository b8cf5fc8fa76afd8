// Runs after `npm install`. Hardhat 3 needs Node >= 22.13, and npm running under an
// older Node silently skips packages whose `engines` exclude it — notably Hardhat's
// native EVM (@nomicfoundation/edr-<platform>). The `node` devDependency has just put
// a Node 22 binary in node_modules/.bin; when npm itself ran on an older Node we run
// `npm install` once more under that binary so the skipped packages land.
// Plain JavaScript on purpose: it must run on whatever Node the machine has.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

const REQUIRED_MAJOR = 22;
const major = Number(process.versions.node.split(".")[0]);
const binDir = join(process.cwd(), "node_modules", ".bin");
const bundledNode = join(binDir, process.platform === "win32" ? "node.cmd" : "node");

if (major >= REQUIRED_MAJOR || process.env.STABLERAIL_REINSTALLING === "1") process.exit(0);

if (!existsSync(bundledNode)) {
  console.error(
    `[stablerail] Node ${process.versions.node} is too old for Hardhat 3 and the bundled Node 22 ` +
      "was not installed. Install Node 22 (see .nvmrc) and run `npm install` again.",
  );
  process.exit(1);
}

console.log(`[stablerail] npm ran on Node ${process.versions.node}; re-running npm install under the bundled Node 22`);
const result = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
  stdio: "inherit",
  env: {
    ...process.env,
    PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}`,
    STABLERAIL_REINSTALLING: "1",
  },
  shell: process.platform === "win32",
});
process.exit(result.status ?? 1);
