// The Ponder app of bench/indexer/vs-ponder.ts: the test token's Transfer events on the benchmark's
// hardhat node. The benchmark passes the node, the token and its deployment block by environment.
import { createConfig } from "ponder";
import { parseAbi } from "viem";

export default createConfig({
  chains: { hardhat: { id: 31337, rpc: process.env.PONDER_RPC_URL! } },
  contracts: {
    Token: {
      chain: "hardhat",
      abi: parseAbi(["event Transfer(address indexed from, address indexed to, uint256 value)"]),
      address: process.env.PONDER_TOKEN_ADDRESS as `0x${string}`,
      startBlock: Number(process.env.PONDER_START_BLOCK),
    },
  },
});
