/**
 * Builds the whole API on real parts for a test file: an in-process Hardhat chain with the
 * Stablecoin deployed (alice and bob funded), PGlite with the ledger and API migrations, Redis
 * under a unique prefix, the indexer (caught up on demand), and buildApp. Until the relayer's
 * enqueueRelay lands, the relay port is served by a stand-in that records each request and
 * executes it on chain from a gas-paying account — so a signature the API accepts is proved
 * valid by the token itself.
 */
import { randomBytes } from "node:crypto";

import type { FastifyInstance } from "fastify";
import { parseAbi, type Address, type Hex } from "viem";

import { buildApp } from "../../../api/app.ts";
import { ensureBootstrapAdmin } from "../../../api/auth/bootstrap-admin.ts";
import { apiMigrations } from "../../../api/db/migration-set.ts";
import type { RelayGateway, RelayRequest, RelayStatus } from "../../../api/money/relay-gateway.ts";
import { createApiRedis } from "../../../api/redis.ts";
import { createRelayerGateway } from "../../../api/money/relayer-gateway.ts";
import { createRelayQueue } from "../../../api/relayer/queue.ts";
import type { Indexer } from "../../../indexer/runtime/create-indexer.ts";
import { startIndexer } from "../../../indexer/runtime/start-indexer.ts";
import { apiEnv } from "../../../lib/config/api.ts";
import { z } from "zod";
import { indexerEnv } from "../../../lib/config/indexer.ts";
import { runMigrations } from "../../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../../lib/ledger/migration-set.ts";
import { createLogger } from "../../../lib/logging/logger.ts";
import { createTestChain, type TestChain } from "../../helpers/chain.ts";
import { createTestDatabase } from "../../helpers/database.ts";
import { deployStablecoin } from "../../helpers/stablecoin.ts";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const ADMIN_KEY = `sr_key_${"a".repeat(43)}`;

const relayAbi = parseAbi([
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function balanceOf(address) view returns (uint256)",
]);

export type ApiFixture = Awaited<ReturnType<typeof createApiFixture>>;

export type ApiFixtureOptions = {
  rateLimitPerMinute?: number;
  engine?: "pglite" | "postgres";
  /** "chain" (default): the stand-in executes each relay on chain; "queue": the relayer's real queue (no worker). */
  relay?: "chain" | "queue";
};

export async function createApiFixture(label: string, overrides: ApiFixtureOptions = {}) {
  const chain: TestChain = await createTestChain();
  const roles = await deployStablecoin(chain.connection);
  const token = (await roles.token.getAddress()) as Address;
  const database = await createTestDatabase(overrides.engine ?? "pglite", `api_${label}`);
  await runMigrations(database, [ledgerMigrations, apiMigrations]);
  const redis = createApiRedis(TEST_REDIS_URL);
  await new Promise<void>((resolve) => (redis.status === "ready" ? resolve() : redis.once("ready", () => resolve())));
  const redisPrefix = `test-api-${label}-${randomBytes(4).toString("hex")}`;
  const logger = createLogger({
    name: "api",
    level: (process.env.TEST_API_LOG_LEVEL ?? "silent") as "silent",
    pretty: false,
  });
  // loadConfig's section typing rejects concrete sections under tsc (reported to the lead); parse each directly.
  const config = {
    api: apiEnv.toSettings(
      z.object(apiEnv.shape).parse({ API_RATE_LIMIT_PER_MINUTE: String(overrides.rateLimitPerMinute ?? 10_000) }),
    ),
    indexer: indexerEnv.toSettings(z.object(indexerEnv.shape).parse({})),
  };
  const indexer: Indexer = await startIndexer({
    common: { logger },
    database,
    client: chain.publicClient,
    chainId: 31337,
    contracts: { Stablecoin: token },
    startBlock: 0,
    settings: config.indexer,
    follow: false,
  });

  const relayed: RelayRequest[] = [];
  const statuses = new Map<string, RelayStatus>();
  const gasPayer = chain.accounts[9]!;
  const relayQueue =
    overrides.relay === "queue" ? createRelayQueue({ redis: TEST_REDIS_URL, prefix: redisPrefix }) : undefined;
  const chainRelay: RelayGateway = {
    enqueueRelay: async (request) => {
      relayed.push(request);
      const relayId = `relay-${request.idempotencyKey}`;
      const hash = await chain.wallet(gasPayer).writeContract({
        address: request.token,
        abi: relayAbi,
        functionName: "transferWithAuthorization",
        args: [
          request.from,
          request.to,
          request.value,
          request.validAfter,
          request.validBefore,
          request.nonce,
          request.signature,
        ],
        account: gasPayer,
        chain: null,
      });
      await chain.publicClient.waitForTransactionReceipt({ hash });
      statuses.set(relayId, { relayId, state: "confirmed", transactionHash: hash });
      return { relayId };
    },
    getRelay: async (relayId) => statuses.get(relayId),
  };
  const relay = relayQueue ? createRelayerGateway({ queue: relayQueue, getRelay: async () => undefined }) : chainRelay;

  await ensureBootstrapAdmin(database, logger, ADMIN_KEY);
  const app: FastifyInstance = await buildApp({
    logger,
    settings: config.api,
    database,
    redis,
    redisPrefix,
    chainId: 31337,
    publicClient: chain.publicClient,
    contracts: { stablecoin: token },
    keyEncryptionKey: randomBytes(32),
    relay,
  });
  await app.ready();

  const request = async (
    method: "GET" | "POST" | "DELETE",
    url: string,
    options: { key?: string; body?: unknown; idempotencyKey?: string; headers?: Record<string, string> } = {},
  ) => {
    const response = await app.inject({
      method,
      url,
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

  /** Funds an address with tokens from alice (through the token's public transfer). */
  const fund = async (to: Address, amount: bigint) => {
    await (await roles.token.connect(roles.alice).transfer(to, amount)).wait();
  };

  const balanceOf = (account: Address) =>
    chain.publicClient.readContract({ address: token, abi: relayAbi, functionName: "balanceOf", args: [account] });

  const close = async () => {
    await app.close();
    await indexer.stop();
    if (relayQueue) {
      await relayQueue.transfers.obliterate({ force: true });
      await relayQueue.close();
    }
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await database.drop();
    await chain.close();
  };

  return {
    app,
    chain,
    roles,
    token,
    database,
    redis,
    redisPrefix,
    indexer,
    relayed,
    request,
    createUser,
    fund,
    balanceOf,
    close,
  };
}

export function newIdempotencyKey(): string {
  return `test-${randomBytes(8).toString("hex")}`;
}

export type { Hex };
