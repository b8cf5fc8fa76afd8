/**
 * `npm run mint -- <address|treasury> <amount>`: mints USDR on the local chain so a newcomer can fund
 * a wallet (or the settlement treasury that payouts draw from). The amount is in whole tokens with up
 * to 6 decimals ("25", "0.5"), parsed to base units without floats. It signs with
 * RELAYER_OPERATOR_PRIVATE_KEY, which on the local chain is Hardhat's account #0: the deployer, and
 * the minter the Ignition module configures. On any other chain the key must hold a minter allowance.
 */
import { createPublicClient, createWalletClient, getAddress, http, isAddress, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablecoinAbi } from "../lib/chain/abis/stablecoin.ts";
import { stablerailChain } from "../lib/chain/chain.ts";
import { readDeployment } from "../lib/chain/deployments.ts";
import { relayerEnv } from "../lib/config/relayer.ts";
import { chainEnv } from "../lib/config/sections.ts";
import { formatBaseUnits, parseBaseUnits } from "../lib/money.ts";
import { bootstrapProcess } from "../lib/process/bootstrap.ts";

const usage = "usage: npm run mint -- <address|treasury> <amount, e.g. 25 or 0.5>";
const [target, amountText] = process.argv.slice(2);
if (!target || !amountText) {
  console.error(usage);
  process.exit(2);
}
const { config } = bootstrapProcess("mint", { chain: chainEnv, relayer: relayerEnv });
const operatorKey = config.relayer.operatorKey;
const chain = stablerailChain(config.chain.chainId, config.chain.rpcUrl);
const deployment = await readDeployment(config.chain.deploymentsDir, config.chain.chainId).catch(() => {
  console.error(`no deployment for chain ${config.chain.chainId}: run \`npm start\` (or \`npm run deploy\`) first`);
  process.exit(1);
});
const token = deployment.contracts.Stablecoin.address;
let to: Address;
if (target === "treasury") to = deployment.contracts.Settlement.address;
else if (isAddress(target, { strict: false })) to = getAddress(target);
else {
  console.error(`not an address: ${target}\n${usage}`);
  process.exit(2);
}

// Receipts polled every 100 ms, not viem's 4 s default (a public chain's block time): the local chain
// mines the one transaction at once.
const publicClient = createPublicClient({ chain, transport: http(config.chain.rpcUrl), pollingInterval: 100 });
// The token's decimals from the token itself, not from the Ignition module: importing that module loads
// Hardhat Ignition, which was most of the time a call took (about 2.8 s of 6).
const TOKEN_DECIMALS = await publicClient.readContract({
  address: token,
  abi: stablecoinAbi,
  functionName: "decimals",
});
let amount: bigint;
try {
  amount = parseBaseUnits(amountText, TOKEN_DECIMALS);
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (amount === 0n) {
  console.error(`the amount must be greater than zero\n${usage}`);
  process.exit(2);
}
const walletClient = createWalletClient({
  account: privateKeyToAccount(operatorKey),
  chain,
  transport: http(config.chain.rpcUrl),
});
const hash = await walletClient.writeContract({
  address: token,
  abi: stablecoinAbi,
  functionName: "mint",
  args: [to, amount],
});
const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 100 });
if (receipt.status !== "success") {
  console.error(`mint reverted in ${hash}`);
  process.exit(1);
}
const balance = await publicClient.readContract({
  address: token,
  abi: stablecoinAbi,
  functionName: "balanceOf",
  args: [to],
});
console.log(
  `minted ${formatBaseUnits(amount, TOKEN_DECIMALS)} USDR to ${to} in ${hash}; balance ${formatBaseUnits(balance, TOKEN_DECIMALS)} USDR`,
);
