import { createPublicClient, http, type PublicClient } from "viem";

import { UnavailableError } from "../errors/base.ts";
import { stablerailChain } from "./chain.ts";

export type ConnectChainParameters = {
  rpcUrl: string;
  /** The chain id configured (CHAIN_ID): the node must report the same. */
  chainId: number;
  /** How often viem polls for new blocks (the indexer's INDEXER_POLL_INTERVAL_MS); viem's default otherwise. */
  pollingIntervalMs?: number | undefined;
};

/**
 * The public client of the configured chain, after checking the node answers and is the chain the
 * configuration names — every process refuses to start against the wrong chain rather than act on it.
 * @throws UnavailableError CHAIN_UNAVAILABLE (no node answers), CHAIN_ID_MISMATCH (another chain)
 */
export async function connectChain({
  rpcUrl,
  chainId,
  pollingIntervalMs,
}: ConnectChainParameters): Promise<PublicClient> {
  const publicClient = createPublicClient({
    chain: stablerailChain(chainId, rpcUrl),
    transport: http(rpcUrl),
    ...(pollingIntervalMs === undefined ? {} : { pollingInterval: pollingIntervalMs }),
  }) as PublicClient;
  const nodeChainId = await publicClient.getChainId().catch((error: unknown) => {
    throw new UnavailableError(
      "CHAIN_UNAVAILABLE",
      `No JSON-RPC node answers at ${rpcUrl}; start one (npm start) or set RPC_URL`,
      { cause: error },
    );
  });
  if (nodeChainId !== chainId) {
    throw new UnavailableError(
      "CHAIN_ID_MISMATCH",
      `The node at ${rpcUrl} is chain ${nodeChainId}, not CHAIN_ID=${chainId}`,
    );
  }
  return publicClient;
}
