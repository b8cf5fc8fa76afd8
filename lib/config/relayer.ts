import { z } from "zod";

import { defineEnvSection } from "./env-section.ts";
import {
  addressField,
  bigintField,
  nonNegativeIntField,
  positiveIntField,
  privateKeyField,
  privateKeyListField,
} from "./fields.ts";

/**
 * Settings of the relayer workers (`npm run worker`, or in-process under `npm start`).
 *
 * Keys: on the local chain the defaults are Hardhat's accounts #1–#3 as relayer keys and #0
 * (the deployer, which `npm start` grants the operator and PAYOUT_ROLE) as the operator key.
 * Escrow and payout jobs are sent by the operator key only; transfers by the relayer keys.
 */
const HARDHAT_RELAYER_KEYS = [
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
].join(",");
const HARDHAT_OPERATOR_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/**
 * Why a ceiling: settleAuthorizations costs ~50k gas per item, so 200 items stay near 10M gas —
 * well inside a block — and one lost transaction never holds more than 200 transfers.
 */
const MAX_BATCH_SIZE = 200;

const addressListField = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(addressField));

export const relayerEnv = defineEnvSection(
  "Relayer",
  {
    RELAYER_PRIVATE_KEYS: privateKeyListField
      .default(privateKeyListField.parse(HARDHAT_RELAYER_KEYS))
      .describe(
        "Comma-separated private keys that send relayed transfers (default: Hardhat accounts #1-#3, local chain only)",
      ),
    RELAYER_OPERATOR_PRIVATE_KEY: privateKeyField
      .default(HARDHAT_OPERATOR_KEY)
      .describe(
        "Key that sends escrow and payout jobs: the escrow terms' operator and Settlement PAYOUT_ROLE holder (default: Hardhat account #0)",
      ),
    RELAYER_CONCURRENCY: positiveIntField.default(32).describe("Jobs one worker process runs at once"),
    RELAYER_CONFIRMATIONS: nonNegativeIntField
      .default(0)
      .describe("Blocks after the mined block before a relay counts as confirmed"),
    RELAYER_FINALITY_BLOCKS: positiveIntField
      .default(64)
      .describe(
        "Blocks on top of a relay's block after which it is final; until then the relayer re-checks it every watch round and, when a reorg dropped it, re-sends the same signed transaction",
      ),
    RELAYER_WATCH_INTERVAL_MS: positiveIntField
      .default(2_000)
      .describe(
        "How often each worker checks its keys' nonces against the chain (re-sending what the node lost, filling gaps), re-checks unfinal relays for reorgs and sweeps relays whose job ended without an outcome, in milliseconds",
      ),
    RELAYER_STUCK_KEY_SECONDS: positiveIntField
      .default(120)
      .describe(
        "A key whose oldest sent-but-unmined transaction is older than this many seconds is reported stuck (log and metric)",
      ),
    RELAYER_JOB_LOCK_MS: positiveIntField
      .default(30_000)
      .describe(
        "BullMQ lock of a running relay job, renewed while its worker lives; a crashed worker's jobs are taken over after about this long",
      ),
    RELAYER_MAX_FEE_PER_GAS_CAP: bigintField
      .default(500_000_000_000n)
      .describe("Refuse to send when the estimated maxFeePerGas exceeds this many wei"),
    RELAYER_REPLACE_AFTER_MS: positiveIntField
      .default(30_000)
      .describe(
        "A transaction not mined after this many milliseconds is replaced at the same nonce with fees raised by 12.5%",
      ),
    RELAYER_ALLOWLIST: addressListField
      .optional()
      .describe(
        "Comma-separated recipients a relay may pay or call (checked inside EIP-3009, permit and forwarded calldata); unset allows all",
      ),
    RELAYER_LOW_BALANCE_WEI: bigintField
      .default(100_000_000_000_000_000n)
      .describe("Warn (log + metric) when a relayer key holds less than this many wei"),
    RELAYER_LEASE_MS: positiveIntField
      .default(15_000)
      .describe("Lifetime of a worker's Redis lease on a relayer key; renewed at a third of it"),
    // On by default: under load a batch carries up to 16 transfers in one transaction (about 0.7x
    // the gas each, and the relayer's per-transaction work shared); a lone transfer waits at most
    // RELAYER_BATCH_WAIT_MS and is then sent alone (issue 17).
    RELAYER_BATCH_SIZE: positiveIntField
      .max(MAX_BATCH_SIZE)
      .default(16)
      .describe(
        `Most EIP-3009 transfers of one token sent together as one Settlement.settleAuthorizations transaction (1 = no batching; at most ${MAX_BATCH_SIZE}; a batch also holds no more than RELAYER_CONCURRENCY)`,
      ),
    RELAYER_BATCH_WAIT_MS: nonNegativeIntField
      .max(10_000)
      .default(50)
      .describe("How long a worker waits for more transfers to fill a batch before sending what it has (milliseconds)"),
  },
  (env) => ({
    relayerKeys: env.RELAYER_PRIVATE_KEYS,
    operatorKey: env.RELAYER_OPERATOR_PRIVATE_KEY,
    concurrency: env.RELAYER_CONCURRENCY,
    confirmations: env.RELAYER_CONFIRMATIONS,
    finalityBlocks: env.RELAYER_FINALITY_BLOCKS,
    watchIntervalMs: env.RELAYER_WATCH_INTERVAL_MS,
    stuckKeySeconds: env.RELAYER_STUCK_KEY_SECONDS,
    jobLockMs: env.RELAYER_JOB_LOCK_MS,
    maxFeePerGasCap: env.RELAYER_MAX_FEE_PER_GAS_CAP,
    replaceAfterMs: env.RELAYER_REPLACE_AFTER_MS,
    allowlist: env.RELAYER_ALLOWLIST,
    lowBalanceWei: env.RELAYER_LOW_BALANCE_WEI,
    leaseMs: env.RELAYER_LEASE_MS,
    batchSize: env.RELAYER_BATCH_SIZE,
    batchWaitMs: env.RELAYER_BATCH_WAIT_MS,
  }),
);

export type RelayerSettings = ReturnType<typeof relayerEnv.toSettings>;
