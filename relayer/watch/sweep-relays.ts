import { and, asc, inArray, lt, sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { relayerTransactions, relays, relayTransitions } from "../db/schema.ts";
import { operatorKinds } from "../jobs/relay-request.ts";
import type { RelayerMetrics } from "../metrics.ts";
import type { RelayQueue } from "../queue.ts";
import { recordTransition } from "../record-transition.ts";
import type { RelayStatus } from "../relay-status.ts";
import { reviveRelayJob } from "./revive-relay-job.ts";

const inFlight = ["queued", "signed", "submitted", "mined", "replaced", "reorged"] as const satisfies RelayStatus[];
/** BullMQ's failedReason for a job whose lock expired too often (its workers were killed). */
const STALLED = /stalled more than allowable limit/;
/** How often a stalled relay is run again before it ends dead. */
export const MAX_STALL_REVIVALS = 3;

async function stallRevivals(database: Database, relayId: string): Promise<number> {
  const [row] = await database.query<{ n: string }>(
    sql`SELECT count(*) AS n FROM ${relayTransitions} WHERE ${relayTransitions.relayId} = ${relayId} AND ${relayTransitions.detail}->>'revived' = 'stalled'`,
  );
  return Number(row?.n ?? 0);
}

const running = new Set(["active", "waiting", "delayed", "prioritized", "waiting-children", "paused"]);

export type SweepRelaysParameters = {
  database: Database;
  queue: RelayQueue;
  logger: Logger;
  metrics?: RelayerMetrics | undefined;
  /** Only relays unchanged for this long are looked at (younger ones are being worked on). */
  olderThanMs: number;
  limit?: number;
};

/**
 * The backstop for relays whose BullMQ job ended without giving them an outcome — a job failed
 * by BullMQ's stalled-job limit (its worker was killed twice), removed from Redis, or a worker
 * that died between its last attempt and the record: without this sweep such a relay would say
 * `queued` or `submitted` for ever.
 *
 * - A transaction is recorded for it: it may still mine (or has), so it is never abandoned —
 *   its job is put back and follows that transaction at its nonce.
 * - Nothing is recorded and BullMQ failed the job for stalling (its workers were killed): it is
 *   run again (at most {@link MAX_STALL_REVIVALS} times).
 * - Nothing is recorded otherwise: nothing can execute on chain; it ends `dead` (RELAY_JOB_ENDED
 *   with the job's reason), for an operator to retry or cancel.
 * @returns the relay ids revived and those marked dead
 */
export async function sweepRelays(p: SweepRelaysParameters): Promise<{ revived: string[]; dead: string[] }> {
  const candidates = await p.database.db
    .select({ relayId: relays.relayId, kind: relays.kind, status: relays.status })
    .from(relays)
    .where(
      and(
        inArray(relays.status, [...inFlight]),
        lt(relays.updatedAt, sql`now() - make_interval(secs => ${p.olderThanMs / 1000})`),
      ),
    )
    .orderBy(asc(relays.updatedAt))
    .limit(p.limit ?? 200);
  const revived: string[] = [];
  const dead: string[] = [];
  for (const candidate of candidates) {
    const target = operatorKinds.has(candidate.kind as never) ? p.queue.operator : p.queue.transfers;
    const job = await target.getJob(candidate.relayId);
    const state = job ? await job.getState() : "missing";
    if (running.has(state)) continue;
    const [recorded] = await p.database.db
      .select({ hash: relayerTransactions.hash })
      .from(relayerTransactions)
      .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([candidate.relayId])}::jsonb`)
      .limit(1);
    if (recorded) {
      if (await reviveRelayJob(p.queue, p.database, candidate.relayId)) {
        revived.push(candidate.relayId);
        p.logger.warn(
          { relayId: candidate.relayId, status: candidate.status, job: state, transactionHash: recorded.hash },
          "a relay's job ended without an outcome while its transaction may mine; following it again",
        );
      }
      continue;
    }
    const reason = job?.failedReason ?? (state === "missing" ? "its job is no longer in the queue" : `job ${state}`);
    // A job BullMQ failed because its workers died under it (stalled past the limit) says nothing
    // about the relay: nothing was signed, so running it again cannot pay twice. It is revived —
    // a worker crash must not cost an accepted movement — up to MAX_STALL_REVIVALS times, after
    // which a relay that keeps killing its workers is a dead letter for an operator.
    if (
      state === "failed" &&
      STALLED.test(reason) &&
      (await stallRevivals(p.database, candidate.relayId)) < MAX_STALL_REVIVALS
    ) {
      const moved = await recordTransition(p.database, [candidate.relayId], candidate.status as RelayStatus, {
        detail: { revived: "stalled", reason },
        onlyFrom: [candidate.status as RelayStatus],
      });
      if (moved.length > 0 && (await reviveRelayJob(p.queue, p.database, candidate.relayId))) {
        revived.push(candidate.relayId);
        p.logger.warn(
          { relayId: candidate.relayId, status: candidate.status, reason },
          "a relay's job stalled past BullMQ's limit (its workers died) with nothing sent; running it again",
        );
      }
      continue;
    }
    const moved = await recordTransition(p.database, [candidate.relayId], "dead", {
      errorCode: "RELAY_JOB_ENDED",
      errorMessage: `The relay's job ended (${reason}) before any transaction was signed; nothing was sent — retry it or cancel it`,
      onlyFrom: [candidate.status as RelayStatus],
    });
    if (moved.length > 0) {
      dead.push(candidate.relayId);
      p.metrics?.outcomes.inc({ kind: candidate.kind, outcome: "dead" });
      p.logger.error({ relayId: candidate.relayId, reason }, "a relay's job ended with nothing sent; it is dead");
    }
  }
  return { revived, dead };
}
