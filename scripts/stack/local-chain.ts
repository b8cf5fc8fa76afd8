import { network } from "hardhat";
import { createPublicClient, http, type PublicClient } from "viem";

import { stablerailChain } from "../../lib/chain/chain.ts";
import { StablerailError } from "../../lib/errors/base.ts";
import type { Logger } from "../../lib/logging/logger.ts";

export type LocalChain = {
  rpcUrl: string;
  publicClient: PublicClient;
  /** Whether this process serves the chain (and so stops it on shutdown). */
  managed: boolean;
  close: () => Promise<void>;
};

/**
 * Makes sure a chain answers at `rpcUrl`. When nothing does and the URL is on this machine,
 * serves Hardhat's EVM (EDR) from this process on that address — chain id 31337, Hardhat's
 * funded default accounts, a block per transaction. The chain is in memory: each start is a
 * fresh chain (the indexer notices the new genesis and rebuilds the ledger).
 * @throws StablerailError CHAIN_UNREACHABLE when a remote RPC does not answer, CHAIN_ID_MISMATCH when the id differs
 */
export async function ensureLocalChain({
  rpcUrl,
  chainId,
  logger,
}: {
  rpcUrl: string;
  chainId: number;
  logger: Logger;
}): Promise<LocalChain> {
  const publicClient = createPublicClient({
    chain: stablerailChain(chainId, rpcUrl),
    transport: http(rpcUrl, { retryCount: 0 }),
  });
  const answered = await publicClient.getChainId().catch(() => undefined);
  if (answered !== undefined) {
    if (answered !== chainId) {
      throw new StablerailError(
        "CHAIN_ID_MISMATCH",
        `The node at ${rpcUrl} reports chain ${answered}, but CHAIN_ID is ${chainId}`,
      );
    }
    logger.debug({ rpcUrl }, "using the chain already running");
    return { rpcUrl, publicClient, managed: false, close: async () => undefined };
  }

  const url = new URL(rpcUrl);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new StablerailError("CHAIN_UNREACHABLE", `No chain answers at ${rpcUrl}; start the node or fix RPC_URL`);
  }
  if (chainId !== 31337) {
    throw new StablerailError(
      "CHAIN_UNREACHABLE",
      `No chain answers at ${rpcUrl}; a local chain is started only for CHAIN_ID=31337`,
    );
  }
  const server = await network.createServer(
    "default",
    url.hostname === "localhost" ? "127.0.0.1" : url.hostname.replace(/[[\]]/g, ""),
    Number(url.port || 8545),
  );
  const { address, port } = await server.listen();
  logger.debug({ address, port }, "local chain listening");
  return { rpcUrl, publicClient, managed: true, close: () => server.close() };
}
