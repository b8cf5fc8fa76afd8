import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { Address, PublicClient } from "viem";

import type { ApiSettings } from "../lib/config/api.ts";
import type { Database } from "../lib/db/database.ts";
import type { Logger } from "../lib/logging/logger.ts";
import type { CustodialKeys } from "../lib/signing/encrypted-key-signer.ts";
import type { FreshAuthenticationProof } from "./auth/fresh-authentication.ts";
import type { TokenReads } from "./chain/token-reads.ts";
import type { MoneyMovementPolicy } from "./movements/movement-policies.ts";
import type { StepUpApprovals } from "./risk/step-up.ts";
import type { WebhookUrlPolicy } from "./webhooks/webhook-url-policy.ts";
import type { RelayGateway } from "../relayer/index.ts";
import type { ContractAddresses } from "../lib/chain/contracts.ts";

/** Everything buildApp needs, opened by the caller (server.ts, `npm start`, a test) and closed by it. */
export type AppDependencies = {
  logger: Logger;
  settings: ApiSettings;
  database: Database;
  redis: Redis;
  redisPrefix: string;
  chainId: number;
  publicClient: PublicClient;
  /** Deployed contract addresses (lib/chain/deployments.ts). */
  contracts: ContractAddresses;
  /** Where custodial wallet keys are kept and used: the only way the API signs for a wallet (lib/signing). */
  custodialKeys: CustodialKeys;
  relay: RelayGateway;
  /** The relayer's metrics registry, so /metrics serves queue depth and relay outcomes too. */
  metricsRegistry?: Registry | undefined;
  /** The relayer's operator key address: the escrow operator every payment's terms name. */
  operator: Address;
  /** Replace or extend today's money policies (risk engine, step-up auth). */
  policies?: MoneyMovementPolicy[] | undefined;
  /**
   * What counts as fresh authentication before a session mints a credential (api/auth/fresh-authentication.ts);
   * issue 14's step-up adds its proof here.
   */
  freshAuthenticationProofs?: readonly FreshAuthenticationProof[] | undefined;
  /** Verifies and consumes step-up approvals bound to a movement's digest (the auth module's; api/risk/step-up.ts). */
  stepUpApprovals?: StepUpApprovals | undefined;
  /** Where merchants' webhook URLs may point (WEBHOOK_ALLOW_LOOPBACK); loopback refused when absent. */
  webhookUrlPolicy?: WebhookUrlPolicy | undefined;
  /**
   * The key TOTP seeds are encrypted under (api/auth/totp/totp-secret-box.ts; server.ts derives it from
   * the key-encryption key). Absent: a random key of this process, so only it can read its factors.
   */
  totpSecretKey?: Buffer | undefined;
};

/** The services routes use, decorated on the app as `app.services`. */
export type AppServices = AppDependencies & {
  tokenReads: TokenReads;
  policies: MoneyMovementPolicy[];
  freshAuthenticationProofs: readonly FreshAuthenticationProof[];
  webhookUrlPolicy: WebhookUrlPolicy;
};
