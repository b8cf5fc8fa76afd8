/**
 * The start of every Stablerail process, in one place: `.env`, configuration validated once,
 * the logger, the shutdown path — and, for processes that act on the chain, the checked chain
 * client, the deployment file and the contract addresses. Entry points (`api/main.ts`,
 * `relayer/main.ts`, `indexer/main.ts`, `scripts/*.ts`) call it first and wire only their own parts.
 */
import { existsSync } from "node:fs";

import type { PublicClient } from "viem";

import { connectChain } from "../chain/connect-chain.ts";
import { contractAddressesOf, type ContractAddresses } from "../chain/contracts.ts";
import { readDeployment, type Deployment } from "../chain/deployments.ts";
import { loadConfig } from "../config/env-section.ts";
import { commonEnv, shutdownEnv, type ChainSettings } from "../config/sections.ts";
import { isStablerailError } from "../errors/base.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { createShutdown, type Shutdown } from "./shutdown.ts";

type Sections = Parameters<typeof loadConfig>[0];

export type ProcessContext<S extends Sections> = {
  config: ReturnType<typeof loadConfig<S & { common: typeof commonEnv; shutdown: typeof shutdownEnv }>>;
  logger: Logger;
  shutdown: Shutdown;
};

/**
 * Reads `.env` (when present: values already in the environment win), validates the process's
 * configuration sections plus Common and Shutdown, and creates the logger (LOG_LEVEL, LOG_FORMAT)
 * and the shutdown path (SIGINT/SIGTERM).
 * @param name - the process name on every log line
 * @param sections - the configuration sections this process reads besides Common and Shutdown
 * @throws ConfigError naming every wrong variable
 * @example
 * const { config, logger, shutdown } = bootstrapProcess("indexer", { chain: chainEnv, indexer: indexerEnv });
 */
export function bootstrapProcess<S extends Sections>(
  name: string,
  sections: S,
  options: { onForced?: () => void } = {},
): ProcessContext<S> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig({ ...sections, common: commonEnv, shutdown: shutdownEnv });
  const logger = createLogger({ name, level: config.common.logLevel, format: config.common.logFormat });
  const shutdown = createShutdown({
    logger,
    timeoutMs: config.shutdown.timeoutMs,
    handleSignals: true,
    ...(options.onForced ? { onForced: options.onForced } : {}),
  });
  return { config, logger, shutdown } as ProcessContext<S>;
}

export type ChainContext = {
  publicClient: PublicClient;
  deployment: Deployment;
  contracts: ContractAddresses;
};

/**
 * Connects to the configured chain (checking its id) and reads its deployment file.
 * @throws UnavailableError CHAIN_UNAVAILABLE / CHAIN_ID_MISMATCH, NotFoundError DEPLOYMENT_NOT_FOUND
 */
export async function connectDeployment(
  chain: ChainSettings,
  options: { pollingIntervalMs?: number } = {},
): Promise<ChainContext> {
  const publicClient = await connectChain({ ...chain, pollingIntervalMs: options.pollingIntervalMs });
  const deployment = await readDeployment(chain.deploymentsDir, chain.chainId);
  return { publicClient, deployment, contracts: contractAddressesOf(deployment) };
}

/**
 * Runs a process's main function: a failure to start prints one line (the error's short message
 * for our own errors, the stack otherwise) and exits with status 1.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const text = isStablerailError(error) ? error.shortMessage : ((error as Error)?.stack ?? String(error));
    process.stderr.write(`${name}: start failed: ${text}\n`);
    process.exit(1);
  });
}
