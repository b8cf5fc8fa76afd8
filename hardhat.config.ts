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
 * Optimizer runs = how often the code is expected to run: the token is called far more than 10,000 times, and at
 * 1,000,000 runs each token call costs 96-303 gas less (the token's bytecode grows by 1.6 KB to 16.4 KB; the escrow's,
 * settlement's and forwarder's do not change). Measured with bench/gas/gas-table.ts: via-IR moved token calls by
 * -410 to +280 gas and escrow calls by -160 to -4,000 for a 75 % longer build, so it stays off; evmVersion prague and
 * cancun give the same gas (cancun also deploys where Prague is not active).
 */
const SOLC_SETTINGS = { optimizer: { enabled: true, runs: 1_000_000 }, evmVersion: "cancun" } as const;

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
        settings: SOLC_SETTINGS,
      },
      production: {
        version: SOLC_VERSION,
        path: solcPath,
        settings: SOLC_SETTINGS,
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
