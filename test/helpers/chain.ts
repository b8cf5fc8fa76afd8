import { network } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  type Account,
  type EIP1193Provider,
  type PublicClient,
  type TestClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailChain } from "../../lib/chain/chain.ts";

/**
 * Hardhat's default accounts (mnemonic "test test ... junk"), as viem local accounts; the same
 * keys `hardhat node` funds, so tests and the local stack agree on who holds ETH.
 */
export const HARDHAT_PRIVATE_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
  "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897",
  "0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82",
  "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1",
  "0x47c99abed3324a2707c28affff1267e45918ec8c3f20b8aa892e8b065d2942dd",
  "0xc526ee95bf44d8fc405a158bb884d9d1238d99f0612e9f33d006bb0789009aaa",
  "0x8166f546bab6da521a8369cab06c5d2b9e46670292d85c875ee9ec20e84ffb61",
] as const;

export type TestChain = {
  provider: EIP1193Provider;
  publicClient: PublicClient;
  testClient: TestClient;
  accounts: Account[];
  wallet: (account: Account) => WalletClient;
  /** Hardhat's network connection (ethers, networkHelpers, ignition) on the same chain. */
  connection: Awaited<ReturnType<typeof network.create>>;
  close: () => Promise<void>;
};

/**
 * Starts a fresh in-process Hardhat EVM (chain id 31337) and wraps it with viem clients.
 * Each call is an independent chain, so test files never share state.
 *
 * Its clock starts now. Hardhat resolves a simulated network's `initialDate` once, when the config
 * loads, and every chain created later starts from that date: in a 15-minute test run the chain of
 * a late test file ran minutes behind the wall clock, so an authorization valid for ten minutes by
 * chain time (what the API signs with) was already past its deadline by the relayer's clock.
 */
export async function createTestChain(): Promise<TestChain> {
  const connection = await network.create({ override: { initialDate: new Date() } });
  const provider = connection.provider as unknown as EIP1193Provider;
  const chain = stablerailChain(31337, "http://in-process.invalid");
  const transport = custom(provider);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const testClient = createTestClient({ chain, transport, mode: "hardhat" }) as TestClient;
  const accounts = HARDHAT_PRIVATE_KEYS.map((key) => privateKeyToAccount(key));
  return {
    provider,
    publicClient,
    testClient,
    accounts,
    wallet: (account) => createWalletClient({ account, chain, transport }),
    connection,
    close: () => connection.close(),
  };
}
