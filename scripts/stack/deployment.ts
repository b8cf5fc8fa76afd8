import { rm } from "node:fs/promises";
import { join } from "node:path";

import hre, { network } from "hardhat";
import { getAddress, type Address, type PublicClient } from "viem";

import {
  contractNames,
  optionalContractNames,
  readDeployment,
  writeDeployment,
  type ContractName,
  type Deployment,
  type OptionalContractName,
} from "../../lib/chain/deployments.ts";
import { settlementAbi } from "../../lib/chain/abis/settlement.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import StablerailModule from "../../ignition/modules/Stablerail.ts";

/** Hardhat's chain id: its Ignition journals describe throwaway local deployments. */
const LOCAL_CHAIN_ID = 31337;

export type EnsureDeploymentParameters = {
  publicClient: PublicClient;
  chainId: number;
  deploymentsDir: string;
  logger: Logger;
  /**
   * The relayer's operator address: granted Settlement's PAYOUT_ROLE at deployment and recorded in
   * the deployment file as every escrow payment's operator (the API reads the address from there).
   */
  operator: Address;
};

/**
 * Returns the chain's deployment, deploying the contracts through Ignition when the recorded
 * one does not belong to this chain instance (no file, another genesis, or no code at the
 * addresses — as after a restart of the in-memory local chain). Writes `<chainId>.json`.
 */
export async function ensureDeployment({
  publicClient,
  chainId,
  deploymentsDir,
  logger,
  operator,
}: EnsureDeploymentParameters): Promise<{ deployment: Deployment; reused: boolean }> {
  const genesis = await publicClient.getBlock({ blockNumber: 0n });
  const existing = await readDeployment(deploymentsDir, chainId).catch(() => undefined);
  if (
    existing &&
    existing.genesisHash === genesis.hash &&
    (await hasCode(publicClient, existing.contracts.Stablecoin.address))
  ) {
    // A file from before the operator was recorded: record it once the chain confirms its role.
    if (!existing.operator && (await holdsPayoutRole(publicClient, existing, operator))) {
      const completed = { ...existing, operator };
      await writeDeployment(deploymentsDir, completed);
      return { deployment: completed, reused: true };
    }
    return { deployment: existing, reused: true };
  }
  if (existing) logger.warn({ chainId }, "recorded deployment belongs to another chain instance; deploying afresh");
  const deployment = await deployStablerail({
    publicClient,
    chainId,
    genesisHash: genesis.hash,
    fresh: existing !== undefined,
    operator,
  });
  await writeDeployment(deploymentsDir, deployment);
  return { deployment, reused: false };
}

/**
 * Deploys the Stablerail Ignition module to the `localhost` network (RPC_URL) and records
 * where each contract landed.
 * @param fresh - drop Ignition's journal for this chain first (it describes a chain that is gone)
 */
export async function deployStablerail({
  publicClient,
  chainId,
  genesisHash,
  fresh,
  operator,
}: {
  publicClient: PublicClient;
  chainId: number;
  genesisHash: `0x${string}`;
  fresh: boolean;
  operator: Address;
}): Promise<Deployment> {
  const deploymentId = `stablerail-${chainId}`;
  const journal = join(process.cwd(), "ignition", "deployments", deploymentId);
  if (fresh) await rm(journal, { recursive: true, force: true });
  // Compile first (incremental): a fresh clone has no artifacts yet.
  await hre.tasks.getTask("build").run({ quiet: true });
  const startBlock = Number(await publicClient.getBlockNumber()) + 1;
  const connection = await network.create("localhost");
  try {
    const deploy = async () =>
      contractAddresses(
        (await connection.ignition.deploy(StablerailModule, {
          deploymentId,
          displayUi: false,
          parameters: { Stablerail: { payoutAccount: operator } },
        })) as Record<string, { getAddress: () => Promise<string> }>,
      );
    let addresses: Awaited<ReturnType<typeof contractAddresses>>;
    try {
      addresses = await deploy();
    } catch (error) {
      // The module changed since the journal was written (a contract's constructor, say). On the
      // local chain that journal only describes throwaway deployments: drop it and deploy anew. On
      // any other chain redeploying is a decision for a person, so the error stands.
      if (chainId !== LOCAL_CHAIN_ID || !String(error).includes("reconciliation errors")) throw error;
      await rm(journal, { recursive: true, force: true });
      addresses = await deploy();
    }
    // Ignition trusts its journal: one left by another chain instance (an earlier local chain, a
    // `hardhat node` since stopped) reports contracts that are not on this chain. Then the journal
    // is dropped and the module deployed for real.
    const missing = await Promise.all(
      Object.values(addresses).map(async (address) => !(await hasCode(publicClient, address))),
    );
    if (missing.some(Boolean)) {
      await rm(journal, { recursive: true, force: true });
      addresses = await deploy();
    }
    const blocks = await creationBlocks(publicClient, startBlock);
    const contracts = {} as Deployment["contracts"];
    for (const name of contractNames) {
      contracts[name] = { address: addresses[name], blockNumber: blocks.get(addresses[name]) ?? startBlock };
    }
    for (const name of optionalContractNames) {
      const address = addresses[name];
      if (address) contracts[name] = { address, blockNumber: blocks.get(address) ?? startBlock };
    }
    return {
      chainId,
      genesisHash,
      startBlock: Math.min(...Object.values(contracts).map((contract) => contract.blockNumber)),
      deployedAt: new Date().toISOString(),
      operator,
      contracts,
    };
  } finally {
    await connection.close();
  }
}

/** Maps the module's results to contract names by asking each deployed contract's artifact name. */
async function contractAddresses(
  deployed: Record<string, { getAddress: () => Promise<string> }>,
): Promise<Record<ContractName, Address> & Partial<Record<OptionalContractName, Address>>> {
  const byKey: Record<string, ContractName | OptionalContractName> = {
    stablecoin: "Stablecoin",
    forwarder: "StablerailForwarder",
    escrow: "PaymentEscrow",
    paymentEscrow: "PaymentEscrow",
    settlement: "Settlement",
    reserveAttestation: "ReserveAttestation",
  };
  const result: Partial<Record<ContractName | OptionalContractName, Address>> = {};
  for (const [key, contract] of Object.entries(deployed)) {
    const name = byKey[key];
    if (name) result[name] = getAddress(await contract.getAddress());
  }
  for (const name of contractNames) if (!result[name]) throw new Error(`Ignition module did not return ${name}`);
  return result as Record<ContractName, Address> & Partial<Record<OptionalContractName, Address>>;
}

async function holdsPayoutRole(publicClient: PublicClient, deployment: Deployment, account: Address) {
  const settlement = deployment.contracts.Settlement.address;
  const role = await publicClient.readContract({
    address: settlement,
    abi: settlementAbi,
    functionName: "PAYOUT_ROLE",
  });
  return publicClient.readContract({
    address: settlement,
    abi: settlementAbi,
    functionName: "hasRole",
    args: [role, account],
  });
}

async function hasCode(publicClient: PublicClient, address: Address): Promise<boolean> {
  const code = await publicClient.getCode({ address }).catch(() => undefined);
  return code !== undefined && code !== "0x";
}

/**
 * Finds the block in which each contract was created by reading the receipts of the contract
 * creations mined since the deployment began (a handful of blocks), so the indexer starts exactly there.
 */
async function creationBlocks(publicClient: PublicClient, fromBlock: number): Promise<Map<Address, number>> {
  const found = new Map<Address, number>();
  const head = Number(await publicClient.getBlockNumber());
  for (let number = fromBlock; number <= head; number++) {
    const block = await publicClient.getBlock({ blockNumber: BigInt(number), includeTransactions: true });
    for (const transaction of block.transactions) {
      if (transaction.to !== null) continue;
      const receipt = await publicClient.getTransactionReceipt({ hash: transaction.hash });
      if (receipt.contractAddress) found.set(getAddress(receipt.contractAddress), number);
    }
  }
  return found;
}
