/**
 * Shared set-up of the relayer tests: a fresh in-process chain with the Stablerail contracts
 * deployed through their public functions, an in-memory PGlite database, a unique Redis prefix,
 * and helpers to sign EIP-3009 transfers with viem and wait for relays.
 */
import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";
import { pino } from "pino";
import {
  createPublicClient,
  getAddress,
  http,
  toHex,
  type Address,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailChain } from "../../lib/chain/chain.ts";

import { transferWithAuthorizationTypes } from "../../lib/signing/transfer-with-authorization.ts";
import type { RelayerSettings } from "../../lib/config/relayer.ts";
import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import type { ContractAddresses } from "../../lib/chain/contracts.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { getRelay } from "../../relayer/get-relay.ts";
import { acquireKeyLease } from "../../relayer/key-lease.ts";
import { RelayerKey } from "../../relayer/nonce-manager.ts";
import { startRelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import type { Relay } from "../../relayer/relay-status.ts";
import { DEFAULT_ADMIN_TRANSFER_DELAY, DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../ignition/modules/Stablerail.ts";
import { createTestChain, HARDHAT_PRIVATE_KEYS, type TestChain } from "../helpers/chain.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { deployStablecoin } from "../helpers/stablecoin.ts";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Silent, unless TEST_LOG_FILE names a file for the relayer's log lines (to read how a fault test failed). */
export const logger = process.env.TEST_LOG_FILE
  ? pino({ name: "relayer-test", level: "debug" }, pino.destination({ dest: process.env.TEST_LOG_FILE, sync: true }))
  : createLogger({ name: "relayer-test", level: "silent", format: "json" });

export async function createRelayerFixture(label: string) {
  const chain = await createTestChain();
  const { token, admin, alice, bob, carol } = await deployStablecoin(chain.connection);
  const { ethers } = chain.connection;
  const forwarder = await ethers.deployContract("StablerailForwarder", []);
  const escrow = await ethers.deployContract("PaymentEscrow", [await forwarder.getAddress()]);
  const settlement = await ethers.deployContract("Settlement", [
    admin.address,
    DEFAULT_ADMIN_TRANSFER_DELAY,
    await forwarder.getAddress(),
    DEFAULT_AUTHORIZATION_GAS_LIMIT,
  ]);
  const contracts: ContractAddresses = {
    stablecoin: getAddress(await token.getAddress()),
    paymentEscrow: getAddress(await escrow.getAddress()),
    settlement: getAddress(await settlement.getAddress()),
    forwarder: getAddress(await forwarder.getAddress()),
  };
  const database = await createTestDatabase("pglite", label);
  await runMigrations(database, [relayerMigrations]);
  const prefix = `test-relayer-${label}-${randomBytes(4).toString("hex")}`;
  const accountOf = (address: string) =>
    chain.accounts.find((account) => getAddress(account.address) === getAddress(address)) as PrivateKeyAccount;
  const settings = (overrides: Partial<RelayerSettings> = {}): RelayerSettings => ({
    relayerKeys: [HARDHAT_PRIVATE_KEYS[1], HARDHAT_PRIVATE_KEYS[2], HARDHAT_PRIVATE_KEYS[3]],
    operatorKey: HARDHAT_PRIVATE_KEYS[0],
    concurrency: 16,
    confirmations: 0,
    finalityBlocks: 64,
    watchIntervalMs: 200,
    stuckKeySeconds: 120,
    jobLockMs: 30_000,
    maxFeePerGasCap: 500_000_000_000n,
    replaceAfterMs: 60_000,
    allowlist: undefined,
    lowBalanceWei: 10n ** 17n,
    leaseMs: 5_000,
    batchSize: 1,
    batchWaitMs: 50,
    ...overrides,
  });

  /**
   * Signs an EIP-3009 transfer of `value` from `from` to `to`, valid now for a day: every automined
   * block moves the chain's clock at least a second on, so a benchmark of thousands of transfers
   * runs the chain hours ahead of the wall clock (an hour expired them at 1,500 per side and round).
   */
  const signTransfer = async (
    from: PrivateKeyAccount,
    to: Address,
    value: bigint,
    nonce: Hex = toHex(randomBytes(32)),
  ) => {
    const validBefore = BigInt(Math.floor(Date.now() / 1000) + 86_400);
    const signature = await from.signTypedData({
      domain: { name: "Stablerail USD", version: "1", chainId: 31337, verifyingContract: contracts.stablecoin },
      types: transferWithAuthorizationTypes,
      primaryType: "TransferWithAuthorization",
      message: { from: from.address, to, value, validAfter: 0n, validBefore, nonce },
    });
    return {
      kind: "token.transferWithAuthorization" as const,
      token: contracts.stablecoin,
      from: from.address,
      to,
      value: value.toString(),
      validAfter: "0",
      validBefore: validBefore.toString(),
      nonce,
      signature,
    };
  };

  /**
   * Starts this process's relay workers on the fixture's chain and contracts (its PGlite database
   * unless another is given; the in-process chain unless another client — through a proxy — is).
   */
  const startWorkers = (
    overrides: Partial<RelayerSettings> = {},
    on: Database = database,
    publicClient: PublicClient = chain.publicClient,
  ) =>
    startRelayerWorkers({
      database: on,
      redisUrl: REDIS_URL,
      prefix,
      publicClient,
      logger,
      contracts,
      settings: settings(overrides),
    });

  /** Polls until the relay reaches one of `statuses`. */
  const waitForRelay = async (
    relayId: string,
    statuses: string[] = ["confirmed", "failed", "expired", "cancelled"],
  ): Promise<Relay> => {
    for (;;) {
      const relay = await getRelay(database, relayId);
      if (relay && statuses.includes(relay.status)) return relay;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const cleanRedis = async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  };

  /** A client of the fixture's chain through `url` (a JSON-RPC server or a fault-injecting proxy). */
  const clientVia = (url: string, retryCount = 0) =>
    createPublicClient({
      chain: stablerailChain(31337, url),
      transport: http(url, { retryCount, timeout: 5_000 }),
      pollingInterval: 50,
    }) as PublicClient;

  return {
    chain: chain as TestChain,
    clientVia,
    token,
    contracts,
    database,
    prefix,
    settings,
    startWorkers,
    signTransfer,
    waitForRelay,
    accountOf,
    alice: accountOf(alice.address),
    bob: accountOf(bob.address),
    carol: accountOf(carol.address),
    close: async () => {
      await cleanRedis();
      await database.drop();
      await chain.close();
    },
  };
}

export type RelayerFixture = Awaited<ReturnType<typeof createRelayerFixture>>;

/**
 * Leases Hardhat account `index` as a relayer key in the fixture's Redis namespace and starts it
 * (re-synchronised from the chain), reading the chain through `client` (the fixture's by default).
 */
export async function startRelayerKey(
  f: RelayerFixture,
  redis: Redis,
  index: number,
  { client = f.chain.publicClient, leaseMs = 5_000 }: { client?: PublicClient; leaseMs?: number } = {},
): Promise<RelayerKey> {
  const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[index]!);
  const lease = await acquireKeyLease(redis, f.prefix, account.address, leaseMs, () => undefined);
  if (!lease) throw new Error(`the lease on Hardhat account #${index} is held elsewhere`);
  const key = new RelayerKey(account, client, f.database, lease, logger);
  await key.start();
  return key;
}
