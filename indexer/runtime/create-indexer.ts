/**
 * The indexer's loop for one chain: genesis check, backfill (historical sync) up to the head
 * minus the confirmation depth, then following new heads (realtime sync), every batch written by
 * the ledger stage in one transaction with its checkpoint. Input: the stages. Output: `catchUp`
 * (index up to the current head once — tests and benchmarks drive this) and `run` (the process
 * loop, under the advisory lock, until stopped).
 */
import { sql } from "drizzle-orm";
import type { Address, Hash } from "viem";

import type { Database, Db } from "../../lib/db/database.ts";
import type { IndexerSettings } from "../../lib/config/indexer.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import type { Decoder } from "../decode/decode-log.ts";
import type { ReadIndexes } from "../ledger/read-indexes.ts";
import type { LedgerWriter } from "../ledger/writer.ts";
import type { Rpc } from "../rpc/rpc.ts";
import type { HistoricalSync } from "../sync/historical.ts";
import type { RealtimeSync } from "../sync/realtime.ts";
import { releaseAdvisoryLock, tryAdvisoryLock } from "./advisory-lock.ts";

/** Below this many blocks behind, block-by-block following is cheaper than a backfill. */
const BACKFILL_THRESHOLD = 32n;

export type IndexerState = "idle" | "standby" | "active" | "reconnecting" | "stopped";

export type Indexer = {
  /** Indexes from the checkpoint to the head (minus confirmations) once; returns the indexed head. */
  catchUp: () => Promise<{ number: bigint; hash: Hash }>;
  /** Takes the advisory lock (waiting as a standby while another instance holds it), then follows the chain until `stop`. */
  run: () => Promise<void>;
  stop: () => Promise<void>;
  /**
   * `idle` before `run`, `standby` while another instance holds the chain's lock, `active`,
   * `reconnecting` after its database session was lost (it takes the lock again, or waits as a
   * standby if another instance took it meanwhile), `stopped`.
   */
  state: () => IndexerState;
  /** The state, and how many indexing rounds in a row failed (0 when the last one succeeded) with the last error. */
  health: () => { state: IndexerState; consecutiveFailures: number; lastError: string | undefined };
};

export type CreateIndexerParameters = {
  common: { logger: Logger };
  database: Database;
  chainId: number;
  startBlock: bigint;
  rpc: Rpc;
  decoder: Decoder;
  writer: LedgerWriter;
  /** The read-only indexes a cold start defers (dropped while an empty ledger is filled, built at the head). */
  readIndexes: ReadIndexes;
  historical: HistoricalSync;
  realtime: RealtimeSync;
  settings: Pick<IndexerSettings, "confirmations" | "pollIntervalMs" | "blockLogLevel" | "standbyRetryMs">;
  contracts: Partial<Record<string, Address>>;
};

export function createIndexer({
  common,
  database,
  chainId,
  startBlock,
  rpc,
  writer,
  readIndexes,
  historical,
  realtime,
  settings,
}: CreateIndexerParameters): Indexer {
  const { logger } = common;
  const floor = startBlock - 1n;
  let stopping = false;
  let wake: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let state: ReturnType<Indexer["state"]> = "idle";
  /**
   * Whether this instance has seen every read index in place since it took the lock (a rebuild
   * found nothing deferred, or built what was). Until then each catch-up that reaches its target
   * rebuilds what a cold start deferred — its own, or that of an instance killed mid-backfill.
   */
  let readIndexesBuilt = false;

  const sleep = (ms: number, lost?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        lost?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      lost?.addEventListener("abort", done, { once: true });
      wake = done;
    });

  async function ensureChain() {
    const genesis = (await rpc.getBlockHeader(0n)).hash;
    const checkpoint = await writer.readCheckpoint();
    if (checkpoint?.genesisHash === genesis) return checkpoint;
    if (checkpoint) {
      logger.warn(
        { chainId, stored: checkpoint.genesisHash, node: genesis },
        "the chain was restarted (new genesis); resetting this chain's ledger",
      );
    }
    await writer.resetChain(genesis, startBlock);
    return (await writer.readCheckpoint())!;
  }

  async function backfill(from: bigint, to: bigint) {
    const started = Date.now();
    let lastReport = started;
    let events = 0;
    // The next range is fetched while this one is written (one batch ahead, so memory stays bounded
    // by two batches): fetching and writing take turns on different resources (the node, the
    // database), and in sequence the process sat idle through the one it was not doing.
    const batches = historical.sync(from, to);
    let next = batches.next();
    try {
      for (;;) {
        const result = await next;
        if (result.done) break;
        const batch = result.value;
        next = batches.next();
        // A fetch failure surfaces at its own await; until then it must not count as unhandled.
        next.catch(() => undefined);
        await writer.commit(batch);
        events += batch.logs.length;
        const now = Date.now();
        if (now - lastReport >= 2_000 || batch.head.number === to) {
          lastReport = now;
          const seconds = Math.max((now - started) / 1000, 0.001);
          const blocks = Number(batch.head.number - from + 1n);
          const remaining = Number(to - batch.head.number);
          const blocksPerSecond = blocks / seconds;
          logger.info(
            {
              block: Number(batch.head.number),
              headDistance: remaining,
              blocksPerSecond: Math.round(blocksPerSecond),
              eventsPerSecond: Math.round(events / seconds),
              etaSeconds: blocksPerSecond > 0 ? Math.round(remaining / blocksPerSecond) : null,
            },
            "backfilling",
          );
        }
      }
    } finally {
      // On a write failure, stop the generator once the fetch in flight settles.
      void next.then(
        () => batches.return(undefined),
        () => undefined,
      );
    }
  }

  async function catchUp(lost?: AbortSignal) {
    let checkpoint = await ensureChain();
    const chainHead = await rpc.getHeadNumber();
    const target = chainHead - BigInt(settings.confirmations);
    // A cold start (nothing indexed on this chain yet) into an empty ledger fills the tables without
    // the read-only indexes and builds them once at the target: once per chain, never while following.
    if (checkpoint.number <= floor && target > checkpoint.number && (await readIndexes.deferIfEmpty()))
      readIndexesBuilt = false;
    let intact = checkpoint.number <= floor;
    if (!intact && checkpoint.number <= chainHead)
      intact = (await rpc.getBlockHeader(checkpoint.number)).hash === checkpoint.hash;
    if (!intact && checkpoint.number >= target) {
      // The node's chain is now no longer than what is indexed (a deep reorg to a shorter branch, or a
      // restarted local chain with the same genesis): roll back to the common ancestor right away.
      const ancestor = await realtime.findAncestor(checkpoint.number < target ? checkpoint.number : target);
      const head =
        ancestor.hash === undefined
          ? { number: floor, hash: "0x" as Hash, parentHash: "0x" as Hash, timestamp: 0n }
          : ancestor;
      await writer.commit({ rollbackTo: head.number, blocks: [], logs: [], head });
      logger.warn(
        { ancestor: Number(head.number), orphaned: Number(checkpoint.number - head.number) },
        "reorg to a shorter chain: rolled back",
      );
      checkpoint = (await writer.readCheckpoint())!;
      intact = true;
    }
    // A checkpoint on an orphaned branch goes through realtime, which finds the ancestor and rolls back.
    if (intact && target - checkpoint.number > BACKFILL_THRESHOLD) {
      await backfill(checkpoint.number + 1n, target);
      checkpoint = (await writer.readCheckpoint())!;
    }
    for await (const event of realtime.catchUp({ number: checkpoint.number, hash: checkpoint.hash })) {
      if (event.type === "block") {
        await writer.commit({ blocks: [event.block], logs: event.logs, head: event.block });
        logger[settings.blockLogLevel === "silent" ? "trace" : settings.blockLogLevel](
          { block: Number(event.block.number), hash: event.block.hash, events: event.logs.length },
          "indexed block",
        );
      } else {
        const last =
          event.blocks[event.blocks.length - 1]?.block ??
          (event.ancestor.hash === undefined
            ? { number: floor, hash: "0x" as Hash, parentHash: "0x" as Hash, timestamp: 0n }
            : (event.ancestor as { number: bigint; hash: Hash; parentHash: Hash; timestamp: bigint }));
        await writer.commit({
          rollbackTo: event.ancestor.number,
          blocks: event.blocks.map((b) => b.block),
          logs: event.blocks.flatMap((b) => b.logs),
          head: last,
        });
        logger.warn(
          { ancestor: Number(event.ancestor.number), orphaned: Number(event.orphaned), newHead: Number(last.number) },
          "reorg: rolled back and applied the new branch",
        );
      }
      if (stopping || lost?.aborted) break;
    }
    // At the target: build what was deferred (not on the way out: a stopping process leaves it to the next start).
    if (!readIndexesBuilt && !stopping && !lost?.aborted) {
      await readIndexes.rebuild();
      readIndexesBuilt = true;
    }
    const head = (await writer.readCheckpoint())!;
    return { number: head.number, hash: head.hash };
  }

  /**
   * Follows the chain while this instance holds the lock. A failure is retried with a backoff
   * (the poll interval doubled per consecutive failure, up to 32 of them) so a node that keeps
   * answering a broken chain is not hammered; the first failure and then one in every 32 are
   * logged as errors with the count, so a stuck indexer is loud without flooding the log.
   */
  async function follow(lost: AbortSignal) {
    while (!stopping && !lost.aborted) {
      try {
        await catchUp(lost);
        if (failures > 0) logger.info({ failures }, "indexing recovered");
        failures = 0;
        lastError = undefined;
      } catch (error) {
        failures += 1;
        lastError = (error as Error).message;
        if (lost.aborted) break;
        if (failures === 1 || failures % 32 === 0)
          logger.error({ err: error, consecutiveFailures: failures }, "indexing failed; retrying with a backoff");
      }
      if (!stopping && !lost.aborted) {
        await sleep(settings.pollIntervalMs * Math.min(2 ** Math.max(failures - 1, 0), 32), lost);
        // The lock lives on the session: a session that no longer answers holds no lock.
        if (!stopping && !lost.aborted) await probeSession?.();
      }
    }
  }

  let failures = 0;
  let lastError: string | undefined;
  let probeSession: (() => Promise<void>) | undefined;

  /**
   * One session's turn: take the advisory lock (waiting as a standby), then follow until stopped
   * or until the session is lost — then the lock is gone with it (the server released it), and
   * this instance must stop writing before a standby takes over.
   */
  async function holdLockAndFollow(session: Db, lost: AbortSignal) {
    let announced = false;
    state = "standby";
    while (!stopping && !lost.aborted && !(await tryAdvisoryLock(session, database.schema, chainId))) {
      if (!announced) logger.info({ chainId }, "another indexer holds this chain; waiting as a standby");
      announced = true;
      await sleep(settings.standbyRetryMs, lost);
    }
    if (lost.aborted) throw lost.reason;
    if (stopping) return;
    state = "active";
    // Another instance may have held the lock meanwhile (and deferred the read indexes of a cold start).
    readIndexesBuilt = false;
    logger.info({ chainId }, "indexer active");
    probeSession = async () => {
      await session.execute(sql`SELECT 1`);
    };
    try {
      await follow(lost);
    } finally {
      probeSession = undefined;
      if (!lost.aborted) await releaseAdvisoryLock(session, database.schema, chainId).catch(() => undefined);
    }
    if (lost.aborted && !stopping) throw lost.reason;
  }

  /** Sessions one after another: a lost one (database restarted, backend terminated) is replaced. */
  async function runSessions() {
    while (!stopping) {
      try {
        await database.withSession(holdLockAndFollow);
      } catch (error) {
        if (stopping) break;
        logger.error(
          { err: error, chainId },
          "lost the database session (and with it the indexer lock); reconnecting and taking the lock again",
        );
      }
      if (stopping) break;
      state = "reconnecting";
      await sleep(settings.standbyRetryMs);
    }
  }

  return {
    catchUp: () => catchUp(),
    run: () => (running ??= runSessions()),
    stop: async () => {
      stopping = true;
      wake?.();
      await running;
      state = "stopped";
    },
    state: () => state,
    health: () => ({ state, consecutiveFailures: failures, lastError }),
  };
}
