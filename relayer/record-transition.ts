import { and, eq, inArray, sql } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { relayTransitions, relays } from "./db/schema.ts";
import type { RelayJob } from "./jobs/relay-job.ts";
import type { RelayStatus } from "./relay-status.ts";

/** Inserts the relay row (status `queued`, at the job's enqueue time) if a worker sees it first. */
export async function ensureRelayRecorded(database: Database, job: RelayJob, queuedAt: Date): Promise<void> {
  const inserted = await database.db
    .insert(relays)
    .values({
      relayId: job.relayId,
      kind: job.request.kind,
      status: "queued",
      requestedBy: job.requestedBy,
      request: job.request,
      deadline: job.deadline === undefined ? null : new Date(job.deadline),
      createdAt: queuedAt,
      updatedAt: queuedAt,
    })
    .onConflictDoNothing()
    .returning({ relayId: relays.relayId });
  if (inserted.length > 0) {
    await database.db.insert(relayTransitions).values({ relayId: job.relayId, status: "queued", at: queuedAt });
  }
}

export type TransitionUpdate = {
  relayer?: string | undefined;
  nonce?: number | undefined;
  transactionHash?: string | undefined;
  blockNumber?: bigint | undefined;
  blockHash?: string | undefined;
  /** Forget the mined block (its block left the chain): block number, hash and finality are cleared. */
  clearBlock?: boolean | undefined;
  batchIndex?: number | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  detail?: Record<string, unknown> | undefined;
  /** Move only relays whose status is one of these now (a check-and-set: of two processes deciding the same move, one records it). */
  onlyFrom?: readonly RelayStatus[] | undefined;
};

/**
 * Moves relays to `status` and records the transition with its time.
 * @returns the relay ids that moved (all of them, unless `update.onlyFrom` excluded some)
 */
export async function recordTransition(
  database: Database,
  relayIds: string[],
  status: RelayStatus,
  update: TransitionUpdate = {},
): Promise<string[]> {
  const moved: string[] = [];
  for (const relayId of relayIds) {
    const updated = await database.db
      .update(relays)
      .set({
        status,
        updatedAt: sql`clock_timestamp()`,
        ...(update.relayer === undefined ? {} : { relayer: update.relayer }),
        ...(update.nonce === undefined ? {} : { nonce: update.nonce }),
        ...(update.transactionHash === undefined ? {} : { transactionHash: update.transactionHash }),
        ...(update.blockNumber === undefined ? {} : { blockNumber: update.blockNumber.toString() }),
        ...(update.blockHash === undefined ? {} : { blockHash: update.blockHash }),
        ...(update.clearBlock ? { blockNumber: null, blockHash: null, finalAt: null } : {}),
        ...(update.batchIndex === undefined ? {} : { batchIndex: update.batchIndex }),
        ...(update.errorCode === undefined
          ? {}
          : { errorCode: update.errorCode, errorMessage: update.errorMessage ?? null }),
      })
      .where(
        update.onlyFrom === undefined
          ? eq(relays.relayId, relayId)
          : and(eq(relays.relayId, relayId), inArray(relays.status, [...update.onlyFrom])),
      )
      .returning({ relayId: relays.relayId });
    if (update.onlyFrom !== undefined && updated.length === 0) continue;
    moved.push(relayId);
    await database.db.insert(relayTransitions).values({
      relayId,
      status,
      transactionHash: update.transactionHash ?? null,
      detail:
        update.detail ??
        (update.errorCode === undefined ? null : { code: update.errorCode, message: update.errorMessage }),
    });
  }
  return moved;
}
