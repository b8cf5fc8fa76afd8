/**
 * `npm run deploy`: deploys Stablerail's contracts to the chain at RPC_URL through Ignition
 * (unless that chain already has this deployment) and writes DEPLOYMENTS_DIR/<chainId>.json.
 * `npm start` does this by itself; this is for a chain you run separately (`npx hardhat node`).
 */
import { existsSync } from "node:fs";

import { createPublicClient, http } from "viem";

import { stablerailChain } from "../lib/chain/chain.ts";
import { deploymentPath } from "../lib/chain/deployments.ts";
import { loadConfig } from "../lib/config/env-section.ts";
import { chainEnv, commonEnv } from "../lib/config/sections.ts";
import { createLogger } from "../lib/logging/logger.ts";
import { ensureDeployment } from "./stack/deployment.ts";

if (existsSync(".env")) process.loadEnvFile(".env");

const config = loadConfig({ common: commonEnv, chain: chainEnv });
const logger = createLogger({ name: "deploy", level: config.common.logLevel });
const publicClient = createPublicClient({
  chain: stablerailChain(config.chain.chainId, config.chain.rpcUrl),
  transport: http(config.chain.rpcUrl),
});
const { deployment, reused } = await ensureDeployment({
  publicClient,
  chainId: config.chain.chainId,
  deploymentsDir: config.chain.deploymentsDir,
  logger,
});
for (const [name, contract] of Object.entries(deployment.contracts))
  console.log(`${name.padEnd(20)} ${contract.address}`);
console.log(
  `${reused ? "already deployed" : "deployed"}; addresses in ${deploymentPath(config.chain.deploymentsDir, config.chain.chainId)}`,
);
process.exit(0);
