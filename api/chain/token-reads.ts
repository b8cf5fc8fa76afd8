import { parseAbi, type Address, type Hex, type PublicClient } from "viem";

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
};

/**
 * Typed reads of the Stablecoin at `token`.
 * @param client - a viem public client on the configured chain
 * @param token - the Stablecoin address from the deployment file
 */
export function createTokenReads(client: PublicClient, token: Address): TokenReads {
  let cachedDomain: Awaited<ReturnType<TokenReads["domain"]>> | undefined;
  return {
    balanceOf: (account) =>
      client.readContract({ address: token, abi: stablecoinReadAbi, functionName: "balanceOf", args: [account] }),
    isFrozen: (account) =>
      client.readContract({ address: token, abi: stablecoinReadAbi, functionName: "isFrozen", args: [account] }),
    isPaused: () => client.readContract({ address: token, abi: stablecoinReadAbi, functionName: "paused" }),
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
    chainTime: async () => (await client.getBlock({ blockTag: "latest" })).timestamp,
  };
}
