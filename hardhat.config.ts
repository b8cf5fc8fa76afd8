import { createRequire } from "node:module";

import hardhatToolboxMochaEthersPlugin from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

/**
 * The Solidity compiler comes from the npm `solc` package (WASM), so compiling works
 * offline. Keep this version and the exact `solc` pin in package.json in step.
 */
const SOLC_VERSION = "0.8.30";
const solcPath = require.resolve("solc/soljson.js");

/**
 * Build outputs may be redirected (e.g. to let several checkouts or agents compile in
 * parallel without racing on one folder). Unset, Hardhat's defaults apply.
 */
const buildDir = process.env.STABLERAIL_HARDHAT_BUILD_DIR;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthersPlugin],
  solidity: {
    profiles: {
      default: {
        version: SOLC_VERSION,
        path: solcPath,
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
      },
      production: {
        version: SOLC_VERSION,
        path: solcPath,
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
      },
    },
  },
  paths: {
    tests: { mocha: "test" },
    ...(buildDir ? { artifacts: `${buildDir}/artifacts`, cache: `${buildDir}/cache` } : {}),
  },
  test: {
    mocha: {
      timeout: 120_000,
      reporter: "./test/helpers/summary-reporter.cjs",
    },
  },
  networks: {
    // Local chain served by `npm start` (`hardhat node`), read by the services.
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
});
