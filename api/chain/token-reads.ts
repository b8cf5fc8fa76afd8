import { parseAbi, type Address, type Hex, type PublicClient } from "viem";

import { createChainHead, type ChainHead } from "./chain-head.ts";

/** The Stablecoin functions the API reads before it queues anything (see docs/design/contracts.md). */
export const stablecoinReadAbi = parseAbi([
  "function balanceOf(address account) view returns (uint256)",
  "function isFrozen(address account) view returns (bool)",
  "function paused() view returns (bool)",
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
]);

export type TokenReads = {
  balanceOf: (account: Address) => Promise<bigint>;
  isFrozen: (account: Address) => Promise<boolean>;
  isPaused: () => Promise<boolean>;
  isAuthorizationUsed: (authorizer: Address, nonce: Hex) => Promise<boolean>;
  domain: () => Promise<{ name: string; version: string; chainId: number; verifyingContract: Address }>;
  /** Timestamp of the latest block: authorization windows are judged by chain time, as the token judges them. */
  chainTime: () => Promise<bigint>;
  /** Runs `work` with all these reads at one head (chain-head.ts): one movement's checks see one block. */
  pinned: <T>(work: () => Promise<T>) => Promise<T>;
};

/**
 * Typed reads of the Stablecoin at `token`, each at the chain's head as it is when the read is asked
 * for (chain-head.ts): balance, freeze flags and pause are read once per block and address, and
 * shared by every request at that block — a new block (a transfer, a freeze, a pause mined) makes
 * the next request read again, so no request sees a state older than the block it could know of.
 * @param client - a viem public client on the configured chain
 * @param token - the Stablecoin address from the deployment file
 * @param head - the head shared by these reads (one per client; created when absent)
 */
export function createTokenReads(
  client: PublicClient,
  token: Address,
  head: ChainHead = createChainHead(client),
): TokenReads {
  let cachedDomain: Awaited<ReturnType<TokenReads["domain"]>> | undefined;
  return {
    balanceOf: (account) =>
      head.atHead(`balanceOf:${account.toLowerCase()}`, ({ number }) =>
        client.readContract({
          address: token,
          abi: stablecoinReadAbi,
          functionName: "balanceOf",
          args: [account],
          blockNumber: number,
        }),
      ),
    isFrozen: (account) =>
      head.atHead(`isFrozen:${account.toLowerCase()}`, ({ number }) =>
        client.readContract({
          address: token,
          abi: stablecoinReadAbi,
          functionName: "isFrozen",
          args: [account],
          blockNumber: number,
        }),
      ),
    isPaused: () =>
      head.atHead("paused", ({ number }) =>
        client.readContract({ address: token, abi: stablecoinReadAbi, functionName: "paused", blockNumber: number }),
      ),
    // Not remembered: a nonce is asked about once, right before it is queued.
    isAuthorizationUsed: (authorizer, nonce) =>
      client.readContract({
        address: token,
        abi: stablecoinReadAbi,
        functionName: "authorizationState",
        args: [authorizer, nonce],
      }),
    domain: async () => {
      if (!cachedDomain) {
        const [, name, version, chainId, verifyingContract] = await client.readContract({
          address: token,
          abi: stablecoinReadAbi,
          functionName: "eip712Domain",
        });
        cachedDomain = { name, version, chainId: Number(chainId), verifyingContract };
      }
      return cachedDomain;
    },
    chainTime: async () => (await head.latest()).timestamp,
    pinned: head.pinned,
  };
}
