/**
 * Starts the HTTP API on opened dependencies: applies its migrations, bootstraps the admin key,
 * builds the app and listens. `api/main.ts` (the API process) and `npm start` (in-process, sharing
 * its database and chain) both call it.
 *
 * Inputs: the API settings, the database, Redis, the chain client, the deployment, the relay
 * gateway. Output: an HTTP server on API_HOST:API_PORT.
 */
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Address, PublicClient } from "viem";

import { contractAddressesOf } from "../lib/chain/contracts.ts";
import type { Deployment } from "../lib/chain/deployments.ts";
import type { ApiSettings } from "../lib/config/api.ts";
import type { WebhookSettings } from "../lib/config/webhooks.ts";
import type { Database } from "../lib/db/database.ts";
import { runMigrations } from "../lib/db/migrate.ts";
import { ConfigError } from "../lib/errors/config-error.ts";
import { ledgerMigrations } from "../lib/ledger/migration-set.ts";
import type { Logger } from "../lib/logging/logger.ts";
import { encryptedKeyCustody } from "../lib/signing/encrypted-key-signer.ts";
import type { RelayGateway } from "../relayer/index.ts";
import { buildApp } from "./app.ts";
import { ensureBootstrapAdmin } from "./auth/bootstrap-admin.ts";
import { apiMigrations } from "./db/migration-set.ts";
import { createApiRedis } from "./redis.ts";
import { totpKeyFrom } from "./auth/totp/totp-secret-box.ts";
import { loadKeyEncryptionKey } from "./wallets/load-key-encryption-key.ts";

export type StartApiServerParameters = {
  logger: Logger;
  settings: ApiSettings;
  dataDir: string;
  database: Database;
  redisUrl: string;
  redisPrefix: string;
  publicClient: PublicClient;
  deployment: Deployment;
  relay: RelayGateway;
  metricsRegistry?: Registry | undefined;
  /** WEBHOOK_ALLOW_LOOPBACK: webhook URLs on loopback accepted (local use only); refused when absent. */
  webhooks?: Pick<WebhookSettings, "allowLoopback"> | undefined;
};

export type ApiServer = {
  app: FastifyInstance;
  url: string;
  bootstrapAdminKey: string | undefined;
  close: () => Promise<void>;
};

/**
 * Applies the API migrations, bootstraps the admin key, builds the app and listens.
 * @returns the listening server; `close()` stops accepting, drains requests, then closes Redis
 */
export async function startApiServer(p: StartApiServerParameters): Promise<ApiServer> {
  await runMigrations(p.database, [ledgerMigrations, apiMigrations]);
  const keyEncryptionKey = await loadKeyEncryptionKey(p.settings.keyEncryptionKey, p.dataDir, p.logger);
  const bootstrapAdminKey = await ensureBootstrapAdmin(p.database, p.logger, p.settings.bootstrapAdminKey);
  const redis = createApiRedis(p.redisUrl);
  const app = await buildApp({
    logger: p.logger,
    settings: p.settings,
    database: p.database,
    redis,
    redisPrefix: p.redisPrefix,
    chainId: p.deployment.chainId,
    publicClient: p.publicClient,
    contracts: contractAddressesOf(p.deployment),
    custodialKeys: encryptedKeyCustody(keyEncryptionKey),
    totpSecretKey: totpKeyFrom(keyEncryptionKey),
    relay: p.relay,
    operator: escrowOperatorOf(p.settings, p.deployment),
    metricsRegistry: p.metricsRegistry,
    webhookUrlPolicy: { allowLoopback: p.webhooks?.allowLoopback ?? false },
  });
  const url = await app.listen({ host: p.settings.host, port: p.settings.port });
  return {
    app,
    url,
    bootstrapAdminKey,
    close: async () => {
      await app.close();
      redis.disconnect();
    },
  };
}

/**
 * The address every payment's escrow terms name as operator — the relayer's operator key — taken
 * from API_ESCROW_OPERATOR or the deployment file: the API never holds a relayer key.
 * @throws ConfigError when neither names one
 */
export function escrowOperatorOf(settings: ApiSettings, deployment: Deployment): Address {
  const operator = settings.escrowOperator ?? deployment.operator;
  if (!operator) {
    throw new ConfigError([
      {
        variable: "API_ESCROW_OPERATOR",
        problem: "required: the deployment file records no operator (redeploy with `npm run deploy`, or set it)",
      },
    ]);
  }
  return operator;
}
