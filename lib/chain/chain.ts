import { defineChain, type Chain } from "viem";

/**
 * The viem chain definition for the chain id Stablerail is configured for. Only the id and
 * the RPC URL matter to the services; the local Hardhat chain is 31337.
 * @param chainId - chain id from configuration
 * @param rpcUrl - JSON-RPC endpoint
 */
export function stablerailChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? "Hardhat (local)" : `Chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}
