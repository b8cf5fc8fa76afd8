/**
 * `npm run deploy`: deploys Stablerail's contracts to the chain at RPC_URL through Ignition
 * (unless that chain already has this deployment) and writes DEPLOYMENTS_DIR/<chainId>.json.
 * `npm start` does this by itself; this is for a chain you run separately (`npx hardhat node`).
 */
import { privateKeyToAccount } from "viem/accounts";

import { connectChain } from "../lib/chain/connect-chain.ts";
import { deploymentPath } from "../lib/chain/deployments.ts";
import { relayerEnv } from "../lib/config/relayer.ts";
import { chainEnv } from "../lib/config/sections.ts";
import { bootstrapProcess } from "../lib/process/bootstrap.ts";
import { ensureDeployment } from "./stack/deployment.ts";

const { config, logger } = bootstrapProcess("deploy", { chain: chainEnv, relayer: relayerEnv });
const publicClient = await connectChain(config.chain);
const { deployment, reused } = await ensureDeployment({
  publicClient,
  chainId: config.chain.chainId,
  deploymentsDir: config.chain.deploymentsDir,
  logger,
  // The relayer's operator key sends escrow and payout jobs: it gets PAYOUT_ROLE and is recorded.
  operator: privateKeyToAccount(config.relayer.operatorKey).address,
});
for (const [name, contract] of Object.entries(deployment.contracts))
  console.log(`${name.padEnd(20)} ${contract.address}`);
console.log(
  `${reused ? "already deployed" : "deployed"}; addresses in ${deploymentPath(config.chain.deploymentsDir, config.chain.chainId)}`,
);
process.exit(0);
