/**
 * The watch round of one worker process, every RELAYER_WATCH_INTERVAL_MS. Inputs: the keys it
 * holds, the relay tables, the chain. Outputs: re-sent transactions, `reorged`/`dead` transitions,
 * revived jobs, the stuck-key gauge and log.
 *
 * 1. Each held key re-synchronises with the chain (nonce-manager.ts `repair`): what the node lost
 *    at our nonces is broadcast again from its recorded bytes, a nonce with nothing recorded is
 *    filled — so a lost broadcast or a reorg no longer jams a key until the worker restarts.
 * 2. Confirmed relays of those keys are re-checked until final (watch-finality.ts).
 * 3. Relays whose job ended without an outcome are followed again or end dead (sweep-relays.ts).
 * 4. Keys with a transaction unmined past RELAYER_STUCK_KEY_SECONDS are reported stuck.
 */
import type { PublicClient } from "viem";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import type { RelayerMetrics } from "../metrics.ts";
import type { RelayerKey } from "../nonce-manager.ts";
import type { RelayQueue } from "../queue.ts";
import { listStuckKeys } from "./stuck-keys.ts";
import { sweepRelays } from "./sweep-relays.ts";
import { watchFinality } from "./watch-finality.ts";

export type RelayWatcher = {
  /** One round (rounds never overlap); errors of one step are logged and do not stop the others. */
  round: () => Promise<void>;
};

export type CreateRelayWatcherParameters = {
  database: Database;
  publicClient: PublicClient;
  logger: Logger;
  queue: RelayQueue;
  metrics: RelayerMetrics;
  keys: () => readonly RelayerKey[];
  settings: { finalityBlocks: number; stuckKeySeconds: number; watchIntervalMs: number; jobLockMs: number };
};

export function createRelayWatcher(p: CreateRelayWatcherParameters): RelayWatcher {
  const { logger } = p;
  let current: Promise<void> | undefined;
  const stuckSince = new Map<string, number>();
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      logger.warn({ err: (error as Error).message, step: name }, "relay watch step failed; retried next round");
    }
  };

  const round = async () => {
    const keys = p.keys();
    for (const key of keys)
      await step("repair", async () => {
        const report = await key.repair();
        const resent = report.rebroadcast + report.resigned + report.filled;
        if (resent > 0) {
          p.metrics.rebroadcasts.inc({ relayer: key.address }, resent);
          logger.warn({ relayer: key.address, ...report }, "re-sent transactions the node no longer held");
        }
      });
    await step("finality", async () => {
      const { reorged } = await watchFinality({ ...p, keys, finalityBlocks: p.settings.finalityBlocks });
      if (reorged.length > 0) p.metrics.reorgs.inc(reorged.length);
    });
    await step("sweep", async () => {
      // A relay untouched for two job locks has no live worker holding it (or is waiting in line).
      await sweepRelays({ ...p, olderThanMs: Math.max(2 * p.settings.jobLockMs, 5_000) });
    });
    await step("stuck keys", async () => {
      const addresses = keys.map((key) => key.address);
      const unmined = await listStuckKeys(p.database, { olderThanSeconds: 0, relayers: addresses });
      for (const address of addresses) {
        const oldest = unmined.find((key) => key.relayer.toLowerCase() === address.toLowerCase());
        p.metrics.keyOldestUnmined.set({ relayer: address }, oldest?.ageSeconds ?? 0);
        if (oldest && oldest.ageSeconds > p.settings.stuckKeySeconds) {
          const last = stuckSince.get(address) ?? 0;
          // Once a minute per key: loud, not a flood.
          if (Date.now() - last > 60_000) {
            stuckSince.set(address, Date.now());
            logger.error(
              { relayer: address, nonce: oldest.nonce, ageSeconds: Math.round(oldest.ageSeconds) },
              "relayer key is stuck: a transaction has not mined for longer than RELAYER_STUCK_KEY_SECONDS",
            );
          }
        } else stuckSince.delete(address);
      }
    });
  };

  return {
    round: () => {
      current ??= round().finally(() => (current = undefined));
      return current;
    },
  };
}
