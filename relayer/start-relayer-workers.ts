import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { formatEther, getAddress, type PublicClient } from "viem";

import type { RelayerSettings } from "../lib/config/relayer.ts";
import type { Database } from "../lib/db/database.ts";
import { runMigrations } from "../lib/db/migrate.ts";
import type { Logger } from "../lib/logging/logger.ts";
import { privateKeySigner } from "../lib/signing/private-key-signer.ts";
import { createTransferBatching, type TransferBatching } from "./batching/create-transfer-batching.ts";
import type { ContractAddresses } from "../lib/chain/contracts.ts";
import { relayerMigrations } from "./db/migration-set.ts";
import { relayerTransactions } from "./db/schema.ts";
import { RelayRetriesExhaustedError, RelayerKeyUnavailableError } from "./errors.ts";
import { recordTransition } from "./record-transition.ts";
import { createRelayWatcher } from "./watch/create-relay-watcher.ts";
import { acquireKeyLease } from "./key-lease.ts";
import { createRelayerMetrics, type RelayerMetrics } from "./metrics.ts";
import { isRetryable, processRelay } from "./process-relay.ts";
import { createRelayQueue, OPERATOR_QUEUE, TRANSFER_QUEUE, type RelayQueue } from "./queue.ts";
import { RelayerKey } from "./nonce-manager.ts";
import { createTransitionWriter } from "./transition-writer.ts";
import { createRelayStarter } from "./begin-relay.ts";

export type StartRelayerWorkersParameters = {
  database: Database;
  redisUrl: string;
  prefix: string;
  publicClient: PublicClient;
  logger: Logger;
  settings: RelayerSettings;
  contracts: ContractAddresses;
  /** The registry the API's /metrics serves; a private one when absent. */
  registry?: Registry | undefined;
  /** How often key balances are read, in milliseconds. */
  balanceIntervalMs?: number | undefined;
};

export type RelayerWorkers = {
  /** Keys this process holds a lease on (relayer keys, then the operator key if held). */
  keys: RelayerKey[];
  operatorKey: RelayerKey | undefined;
  queue: RelayQueue;
  metrics: RelayerMetrics;
  /** Runs one watch round now (it also runs every RELAYER_WATCH_INTERVAL_MS). */
  watch: () => Promise<void>;
  close: () => Promise<void>;
};

/**
 * Starts the relay workers of one process (`npm run worker`, or in-process under `npm start`
 * sharing its Database). Applies the relayer migrations, leases every configured key it can
 * (see key-lease.ts), re-synchronises each leased key's nonce, and consumes `relay-transfers`
 * while it holds a relayer key and `relay-operator` while it holds the operator key. Every
 * RELAYER_LEASE_MS it takes the keys nobody holds — a crashed worker's, once its lease expired —
 * so a dead process's keys (and the relays recorded on them) are carried on by the others.
 * @returns the running workers; `close()` stops taking jobs, waits for running ones and releases the leases
 */
export async function startRelayerWorkers(p: StartRelayerWorkersParameters): Promise<RelayerWorkers> {
  const logger = p.logger.child({ component: "relayer" });
  await runMigrations(p.database, [relayerMigrations]);
  const connection = new Redis(p.redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (error) => logger.error({ err: error }, "relayer redis connection error"));
  const queue = createRelayQueue({ redis: p.redisUrl, prefix: p.prefix });
  const metrics = createRelayerMetrics(p.registry ?? new Registry(), queue);

  // Keys this process holds right now. A lease lost (this process stalled past it) drops its key;
  // a key nobody holds (its worker died, its lease expired) is taken on the next lease round.
  const relayerKeys: RelayerKey[] = [];
  let operatorKey: RelayerKey | undefined;
  const allKeys = () => (operatorKey ? [...relayerKeys, operatorKey] : [...relayerKeys]);
  const operatorAddress = privateKeySigner(p.settings.operatorKey).address;
  const isOperator = (address: string) => getAddress(address) === getAddress(operatorAddress);

  const leaseKey = async (privateKey: `0x${string}`): Promise<RelayerKey | undefined> => {
    const account = privateKeySigner(privateKey);
    const lease = await acquireKeyLease(connection, p.prefix, account.address, p.settings.leaseMs, () => {
      logger.error(
        { relayer: account.address },
        "lost the lease on a relayer key; it sends nothing more from this process",
      );
      dropKey(account.address);
    });
    if (!lease) return undefined;
    const key = new RelayerKey(account, p.publicClient, p.database, lease, logger);
    await key.start();
    return key;
  };
  const dropKey = (address: string) => {
    if (operatorKey && getAddress(operatorKey.address) === getAddress(address)) operatorKey = undefined;
    const index = relayerKeys.findIndex((key) => getAddress(key.address) === getAddress(address));
    if (index >= 0) relayerKeys.splice(index, 1);
    syncWorkers();
  };
  let turn = 0;

  const dependencies = {
    database: p.database,
    publicClient: p.publicClient,
    logger,
    contracts: p.contracts,
    metrics,
    settings: p.settings,
    keyByAddress: (address: string) => allKeys().find((key) => getAddress(key.address) === getAddress(address)),
    begin: createRelayStarter(p.database),
    transitions: createTransitionWriter(p.database),
  };

  /**
   * A retryable failure on the job's last attempt. Nothing signed for the relay: nothing can
   * execute, so it ends `dead` with the reason (instead of saying `queued` for ever). A transaction
   * recorded: it may still mine, so the job is not given up — it waits and follows it again,
   * without using an attempt, until it mines or its nonce is taken.
   */
  const outOfAttempts = async (job: Job, token: string | undefined, error: Error): Promise<never> => {
    const relayId = (job.data as { relayId?: unknown }).relayId;
    if (typeof relayId !== "string") throw error;
    const [recorded] = await p.database.db
      .select({ hash: relayerTransactions.hash })
      .from(relayerTransactions)
      .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([relayId])}::jsonb`)
      .limit(1);
    if (recorded && token) {
      logger.warn(
        { relayId, attempts: job.attemptsMade + 1, transactionHash: recorded.hash, err: error.message },
        "a relay used its attempts while its transaction may still mine; it keeps following it",
      );
      await job.moveToDelayed(Date.now() + Math.min(p.settings.watchIntervalMs * 5, 30_000), token);
      throw new DelayedError();
    }
    const exhausted = new RelayRetriesExhaustedError(job.attemptsMade + 1, error.message);
    const moved = await recordTransition(p.database, [relayId], "dead", {
      errorCode: exhausted.code,
      errorMessage: exhausted.message,
      onlyFrom: ["queued", "signed", "submitted", "mined", "replaced", "reorged"],
    });
    if (moved.length > 0) metrics.outcomes.inc({ kind: String(job.name), outcome: "dead" });
    logger.error({ relayId, err: error.message }, "a relay used every attempt with nothing sent; it is dead");
    throw new UnrecoverableError(`${exhausted.code}: ${exhausted.message}`);
  };

  const workers: Worker[] = [];
  const startWorker = (name: string, pickKey: () => RelayerKey, batching?: TransferBatching) => {
    const worker = new Worker(
      name,
      async (job, token) => {
        try {
          if (batching?.handles(job)) return await batching.process(job);
          return await processRelay(job, { ...dependencies, pickKey });
        } catch (error) {
          if (error instanceof UnrecoverableError || error instanceof DelayedError) throw error;
          if (!isRetryable(error)) throw new UnrecoverableError((error as Error).message);
          if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw error;
          return outOfAttempts(job, token, error as Error);
        }
      },
      {
        connection,
        prefix: p.prefix,
        concurrency: p.settings.concurrency,
        autorun: true,
        lockDuration: p.settings.jobLockMs,
        stalledInterval: p.settings.jobLockMs,
      },
    );
    worker.on("error", (error) => logger.error({ err: error, queue: name }, "relay worker error"));
    worker.on("failed", (job, error) =>
      logger.warn({ relayId: job?.id, attempts: job?.attemptsMade, err: error.message }, "relay attempt failed"),
    );
    workers.push(worker);
    return worker;
  };

  const pickRelayerKey = () => {
    const key = relayerKeys[turn++ % Math.max(relayerKeys.length, 1)];
    if (!key) throw new RelayerKeyUnavailableError("This worker holds no relayer key");
    return key;
  };
  const pickOperatorKey = () => {
    if (!operatorKey) throw new RelayerKeyUnavailableError("This worker does not hold the operator key");
    return operatorKey;
  };
  if (p.settings.batchSize > p.settings.concurrency)
    logger.warn(
      { batchSize: p.settings.batchSize, concurrency: p.settings.concurrency },
      "a batch holds at most RELAYER_CONCURRENCY transfers; raise it to fill batches of RELAYER_BATCH_SIZE",
    );
  let transferWorker: Worker | undefined;
  let operatorWorker: Worker | undefined;
  let closing = false;
  /** A queue is consumed only while this process holds a key that can send its jobs. */
  function syncWorkers() {
    if (closing) return;
    if (relayerKeys.length > 0 && !transferWorker) {
      const batching = createTransferBatching({
        ...dependencies,
        pickKey: pickRelayerKey,
        batchSize: p.settings.batchSize,
        batchWaitMs: p.settings.batchWaitMs,
      });
      transferWorker = startWorker(TRANSFER_QUEUE, pickRelayerKey, batching);
    } else if (transferWorker) {
      if (relayerKeys.length === 0 && !transferWorker.isPaused()) void transferWorker.pause(true);
      if (relayerKeys.length > 0 && transferWorker.isPaused()) transferWorker.resume();
    }
    if (operatorKey && !operatorWorker) operatorWorker = startWorker(OPERATOR_QUEUE, pickOperatorKey);
    else if (operatorWorker) {
      if (!operatorKey && !operatorWorker.isPaused()) void operatorWorker.pause(true);
      if (operatorKey && operatorWorker.isPaused()) operatorWorker.resume();
    }
  }

  /** One lease round: takes every configured key that no process holds now. */
  const leaseFreeKeys = async () => {
    for (const privateKey of p.settings.relayerKeys) {
      const address = privateKeySigner(privateKey).address;
      if (isOperator(address) || relayerKeys.some((key) => getAddress(key.address) === getAddress(address))) continue;
      const key = await leaseKey(privateKey);
      if (key && closing) await key.release();
      else if (key) {
        relayerKeys.push(key);
        logger.info({ relayer: key.address }, "leased a relayer key");
      }
    }
    if (!operatorKey) {
      const key = await leaseKey(p.settings.operatorKey);
      if (key && closing) await key.release();
      else if (key) {
        operatorKey = key;
        logger.info({ operator: key.address }, "leased the operator key");
      }
    }
    syncWorkers();
  };
  await leaseFreeKeys();
  let leasing = Promise.resolve();
  const leaseTimer = setInterval(() => {
    leasing = leasing
      .then(leaseFreeKeys)
      .catch((error: unknown) => logger.error({ err: error }, "relayer key lease round failed"));
  }, p.settings.leaseMs);
  leaseTimer.unref();

  const checkBalances = async () => {
    for (const key of allKeys()) {
      const balance = await p.publicClient.getBalance({ address: key.address }).catch(() => undefined);
      if (balance === undefined) continue;
      metrics.keyBalance.set({ relayer: key.address }, Number(formatEther(balance)));
      const low = balance < p.settings.lowBalanceWei;
      metrics.lowBalance.set({ relayer: key.address }, low ? 1 : 0);
      if (low)
        logger.warn(
          { relayer: key.address, balanceWei: balance.toString(), thresholdWei: p.settings.lowBalanceWei.toString() },
          "relayer key is low on gas; fund it",
        );
    }
  };
  await checkBalances();
  const balanceTimer = setInterval(() => void checkBalances(), p.balanceIntervalMs ?? 30_000);
  balanceTimer.unref();

  const watcher = createRelayWatcher({
    database: p.database,
    publicClient: p.publicClient,
    logger,
    queue,
    metrics,
    keys: allKeys,
    settings: p.settings,
  });
  let watching = Promise.resolve();
  const watchTimer = setInterval(() => {
    if (closing) return;
    watching = watcher.round();
  }, p.settings.watchIntervalMs);
  watchTimer.unref();
  logger.info(
    { relayers: relayerKeys.map((key) => key.address), operator: operatorKey?.address },
    "relay workers started",
  );

  return {
    get keys() {
      return allKeys();
    },
    get operatorKey() {
      return operatorKey;
    },
    queue,
    metrics,
    watch: () => watcher.round(),
    close: async () => {
      closing = true;
      clearInterval(leaseTimer);
      clearInterval(balanceTimer);
      clearInterval(watchTimer);
      await leasing;
      await watching;
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(allKeys().map((key) => key.release().catch(() => undefined)));
      await queue.close();
      connection.disconnect();
    },
  };
}
