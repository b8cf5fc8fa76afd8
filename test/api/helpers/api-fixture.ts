/**
 * Builds the whole API on real parts for a test file: an in-process Hardhat chain with the
 * Stablecoin, forwarder, escrow and settlement deployed (alice and bob funded), PGlite or
 * PostgreSQL with the ledger, API and relayer migrations, Redis under a unique prefix, the
 * indexer (caught up on demand), the real relayer workers (unless `relay: "queue"`: queue only,
 * no worker) and buildApp.
 */
import { randomBytes } from "node:crypto";

import type { FastifyInstance } from "fastify";
import { notInArray } from "drizzle-orm";
import type { Redis } from "ioredis";
import { parseAbi, type Address, type Hex, type PrivateKeyAccount } from "viem";
import { createSiweMessage } from "viem/siwe";

import { buildApp } from "../../../api/app.ts";
import type { AppDependencies } from "../../../api/dependencies.ts";
import { ensureBootstrapAdmin } from "../../../api/auth/bootstrap-admin.ts";
import { apiMigrations } from "../../../api/db/migration-set.ts";
import type { RelaySummary } from "../../../relayer/index.ts";
import { createApiRedis } from "../../../api/redis.ts";
import { relays } from "../../../relayer/db/schema.ts";
import { relayerMigrations } from "../../../relayer/db/migration-set.ts";
import { createRelayGateway } from "../../../relayer/relay-gateway.ts";
import { startRelayerWorkers, type RelayerWorkers } from "../../../relayer/start-relayer-workers.ts";
import { DEFAULT_ADMIN_TRANSFER_DELAY, DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../../ignition/modules/Stablerail.ts";
import type { Indexer } from "../../../indexer/runtime/create-indexer.ts";
import { startIndexer } from "../../../indexer/runtime/start-indexer.ts";
import { apiEnv } from "../../../lib/config/api.ts";
import { z } from "zod";
import { indexerEnv } from "../../../lib/config/indexer.ts";
import { relayerEnv } from "../../../lib/config/relayer.ts";
import { runMigrations } from "../../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../../lib/ledger/migration-set.ts";
import { encryptedKeyCustody } from "../../../lib/signing/encrypted-key-signer.ts";
import { createLogger } from "../../../lib/logging/logger.ts";
import { createTestChain, HARDHAT_PRIVATE_KEYS, type TestChain } from "../../helpers/chain.ts";
import { createTestDatabase } from "../../helpers/database.ts";
import { deployStablecoin } from "../../helpers/stablecoin.ts";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const ADMIN_KEY = `sr_key_${"a".repeat(43)}`;

const tokenAbi = parseAbi([
  "function balanceOf(address) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
]);

/** Keys the relayer uses in API tests: accounts no test signs with directly, so nonces never collide. */
export const RELAYER_KEYS = [HARDHAT_PRIVATE_KEYS[11], HARDHAT_PRIVATE_KEYS[12]];
/** The operator key: escrow operator and Settlement PAYOUT_ROLE holder. */
export const OPERATOR_KEY = HARDHAT_PRIVATE_KEYS[10];

export type ApiFixture = Awaited<ReturnType<typeof createApiFixture>>;

export type ApiFixtureOptions = {
  /** API_RATE_LIMIT_PER_MINUTE (per principal); every other limit is high unless `env` sets it. */
  rateLimitPerMinute?: number;
  /** Further API_* settings, as the environment would give them. */
  env?: Record<string, string>;
  engine?: "pglite" | "postgres";
  /** "workers" (default): the real relayer workers send each relay; "queue": relays are only queued (no worker). */
  relay?: "workers" | "queue";
  /** With engine "postgres": the URL to reach the server by (e.g. through a test's proxy). */
  postgresUrl?: string;
  /** API_PAYMENT_FEE_BPS and API_PAYMENT_FEE_RECEIVER (no platform fee when absent). */
  paymentFee?: { bps: number; receiver: Address };
};

export async function createApiFixture(label: string, overrides: ApiFixtureOptions = {}) {
  const chain: TestChain = await createTestChain();
  const roles = await deployStablecoin(chain.connection);
  const token = (await roles.token.getAddress()) as Address;
  const { ethers } = chain.connection;
  const forwarder = await ethers.deployContract("StablerailForwarder", []);
  const escrow = await ethers.deployContract("PaymentEscrow", [await forwarder.getAddress()]);
  const settlement = await ethers.deployContract("Settlement", [
    roles.admin.address,
    DEFAULT_ADMIN_TRANSFER_DELAY,
    await forwarder.getAddress(),
    DEFAULT_AUTHORIZATION_GAS_LIMIT,
  ]);
  const operator = chain.accounts[10]!;
  await (
    await (settlement.connect(roles.admin) as typeof settlement).getFunction("grantRole")(
      await settlement.getFunction("PAYOUT_ROLE")(),
      operator.address,
    )
  ).wait();
  const contracts = {
    stablecoin: token,
    paymentEscrow: (await escrow.getAddress()) as Address,
    settlement: (await settlement.getAddress()) as Address,
    forwarder: (await forwarder.getAddress()) as Address,
  };
  const database = await createTestDatabase(overrides.engine ?? "pglite", `api_${label}`, overrides.postgresUrl);
  await runMigrations(database, [ledgerMigrations, apiMigrations, relayerMigrations]);
  const redis = createApiRedis(TEST_REDIS_URL);
  await new Promise<void>((resolve) => (redis.status === "ready" ? resolve() : redis.once("ready", () => resolve())));
  const redisPrefix = `test-api-${label}-${randomBytes(4).toString("hex")}`;
  const logger = createLogger({
    name: "api",
    level: (process.env.TEST_API_LOG_LEVEL ?? "silent") as "silent",
    format: "json",
  });
  // loadConfig's section typing rejects concrete sections under tsc (reported to the lead); parse each directly.
  const apiSettings = (env: Record<string, string> = {}) =>
    apiEnv.toSettings(
      z.object(apiEnv.shape).parse({
        API_RATE_LIMIT_PER_MINUTE: String(overrides.rateLimitPerMinute ?? 10_000),
        API_RATE_LIMIT_PER_IP_PER_MINUTE: "1000000",
        API_AUTH_FAILURES_PER_IP_PER_MINUTE: "1000000",
        ...(overrides.paymentFee
          ? {
              API_PAYMENT_FEE_BPS: String(overrides.paymentFee.bps),
              API_PAYMENT_FEE_RECEIVER: overrides.paymentFee.receiver,
            }
          : {}),
        ...overrides.env,
        ...env,
      }),
    );
  const config = {
    api: apiSettings(),
    indexer: indexerEnv.toSettings(z.object(indexerEnv.shape).parse({})),
  };
  const indexer: Indexer = await startIndexer({
    common: { logger },
    database,
    client: chain.publicClient,
    chainId: 31337,
    contracts: { Stablecoin: token, PaymentEscrow: contracts.paymentEscrow, Settlement: contracts.settlement },
    startBlock: 0,
    settings: config.indexer,
    follow: false,
  });

  const relayerSettings = relayerEnv.toSettings(
    z.object(relayerEnv.shape).parse({
      RELAYER_PRIVATE_KEYS: RELAYER_KEYS.join(","),
      RELAYER_OPERATOR_PRIVATE_KEY: OPERATOR_KEY,
      RELAYER_CONFIRMATIONS: "0",
    }),
  );
  const workers: RelayerWorkers | undefined =
    overrides.relay === "queue"
      ? undefined
      : await startRelayerWorkers({
          database,
          redisUrl: TEST_REDIS_URL,
          prefix: redisPrefix,
          publicClient: chain.publicClient,
          logger,
          contracts,
          settings: relayerSettings,
        });
  const relay = createRelayGateway({ redisUrl: TEST_REDIS_URL, prefix: redisPrefix, database });

  await ensureBootstrapAdmin(database, logger, ADMIN_KEY);
  const custodialKeys = encryptedKeyCustody(randomBytes(32));
  const build = async (settings = config.api, extra: Partial<AppDependencies> = {}) => {
    const built: FastifyInstance = await buildApp({
      logger,
      settings,
      database,
      redis,
      redisPrefix,
      chainId: 31337,
      publicClient: chain.publicClient,
      contracts,
      custodialKeys,
      relay,
      operator: operator.address,
      // The tests' webhook receivers listen on 127.0.0.1 (WEBHOOK_ALLOW_LOOPBACK, as in local development).
      webhookUrlPolicy: { allowLoopback: true },
      ...extra,
    });
    await built.ready();
    return built;
  };
  const app = await build();
  /** Another API process on the same database and Redis, with its own API_* settings if given (closed by `close`). */
  const others: FastifyInstance[] = [];
  const buildAnotherApp = async (env?: Record<string, string>, extra: Partial<AppDependencies> = {}) => {
    const other = await build(env ? apiSettings(env) : config.api, extra);
    others.push(other);
    return other;
  };

  const request = async (
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    url: string,
    options: {
      key?: string;
      body?: unknown;
      idempotencyKey?: string;
      headers?: Record<string, string>;
      /** The client's address as the API sees it (default 127.0.0.1). */
      remoteAddress?: string;
      /** Another API process from {@link buildAnotherApp}. */
      via?: FastifyInstance;
    } = {},
  ) => {
    const response = await (options.via ?? app).inject({
      method,
      url,
      ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
      headers: {
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });
    return {
      status: response.statusCode,
      body: response.headers["content-type"]?.toString().includes("json") ? response.json() : response.body,
      headers: response.headers,
    };
  };

  /** Creates a principal through the API (as the admin) and returns its id and first key. */
  const createUser = async (role: "user" | "merchant" | "operator" | "auditor" | "admin", name: string = role) => {
    const response = await request("POST", "/v1/users", { key: ADMIN_KEY, body: { role, name } });
    if (response.status !== 201) throw new Error(`createUser failed: ${JSON.stringify(response.body)}`);
    return { id: response.body.user.id as string, key: response.body.apiKey as string };
  };

  /**
   * A SIWE message as a wallet builds it from GET /v1/auth/siwe/nonce (asked with `key`, or
   * anonymously), signed by `account`; `overrides` change fields before signing.
   */
  const signInWithEthereum = async (
    account: PrivateKeyAccount,
    options: {
      key?: string;
      remoteAddress?: string;
      overrides?: Partial<Parameters<typeof createSiweMessage>[0]>;
    } = {},
  ) => {
    const issued = (
      await request("GET", "/v1/auth/siwe/nonce", {
        ...(options.key ? { key: options.key } : {}),
        ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
      })
    ).body;
    const message = createSiweMessage({
      address: account.address,
      chainId: issued.chainId,
      domain: issued.domain,
      nonce: issued.nonce,
      uri: issued.uri,
      version: "1",
      issuedAt: new Date(),
      ...options.overrides,
    });
    return { message, signature: await account.signMessage({ message }), nonce: issued.nonce as string };
  };

  /** Registers `account` as a self-custody wallet of the principal holding `key`, proved by a SIWE signature. */
  const registerSelfCustody = async (key: string, account: PrivateKeyAccount) => {
    const { message, signature } = await signInWithEthereum(account, { key });
    const response = await request("POST", "/v1/wallets/self-custody", {
      key,
      body: { message, signature },
    });
    if (response.status !== 201) throw new Error(`self-custody registration failed: ${JSON.stringify(response.body)}`);
    return response.body as { id: string; address: Address };
  };

  const fund = async (to: Address, amount: bigint) => {
    await (await roles.token.connect(roles.alice).transfer(to, amount)).wait();
  };

  const balanceOf = (account: Address) =>
    chain.publicClient.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [account] });
  const allowanceOf = (owner: Address, spender: Address) =>
    chain.publicClient.readContract({
      address: token,
      abi: tokenAbi,
      functionName: "allowance",
      args: [owner, spender],
    });

  const jobCounts = async (
    ...states: ("waiting" | "active" | "delayed" | "prioritized" | "completed" | "failed")[]
  ) => {
    const [transfers, operator] = await Promise.all([
      relay.queue.transfers.getJobCounts(...states),
      relay.queue.operator.getJobCounts(...states),
    ]);
    return [...Object.values(transfers), ...Object.values(operator)].reduce((a, b) => a + b, 0);
  };
  /** How many relays have been queued so far, whatever became of them (the relay queues' own count). */
  const relayCount = () => jobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");

  /** Waits until every relay queued so far has reached a final state (so balances are stable). */
  const settleRelays = async (): Promise<void> => {
    for (;;) {
      const open = await database.db
        .select({ id: relays.relayId })
        .from(relays)
        .where(notInArray(relays.status, ["confirmed", "failed", "expired", "cancelled"]));
      if (open.length === 0 && (await jobCounts("waiting", "active", "delayed", "prioritized")) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  /** Waits until a relay reaches a final state (confirmed, failed, dead) and returns its status. */
  const waitForRelay = async (relayId: string): Promise<RelaySummary> => {
    for (;;) {
      const status = await relay.getRelay(relayId);
      if (status && ["confirmed", "failed", "dead"].includes(status.state)) return status;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  /** The relay queues' Redis connection (the producer's, not the API's): a test may take it down. */
  const relayQueueConnection = async () => relay.queue.transfers.opts.connection as unknown as Redis;

  /** Advances chain time by `seconds` and mines a block (escrow expiries are judged by chain time). */
  const increaseTime = async (seconds: number) => {
    await chain.testClient.increaseTime({ seconds });
    await chain.testClient.mine({ blocks: 1 });
  };

  const close = async () => {
    for (const other of others) await other.close();
    await app.close();
    await indexer.stop();
    await workers?.close();
    await relay.queue.transfers.obliterate({ force: true });
    await relay.queue.operator.obliterate({ force: true });
    await relay.close();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await database.drop();
    await chain.close();
  };

  return {
    app,
    buildAnotherApp,
    chain,
    roles,
    token,
    database,
    redis,
    redisPrefix,
    indexer,
    contracts,
    operator,
    workers,
    relayCount,
    relayQueueConnection,
    waitForRelay,
    settleRelays,
    request,
    createUser,
    signInWithEthereum,
    registerSelfCustody,
    fund,
    balanceOf,
    allowanceOf,
    increaseTime,
    close,
  };
}

export function newIdempotencyKey(): string {
  return `test-${randomBytes(8).toString("hex")}`;
}

export type { Hex };
