import { eq, sql } from "drizzle-orm";

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
  batchIndex?: number | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  detail?: Record<string, unknown> | undefined;
};

/** Moves relays to `status` and records the transition with its time. */
export async function recordTransition(
  database: Database,
  relayIds: string[],
  status: RelayStatus,
  update: TransitionUpdate = {},
): Promise<void> {
  for (const relayId of relayIds) {
    await database.db
      .update(relays)
      .set({
        status,
        updatedAt: sql`clock_timestamp()`,
        ...(update.relayer === undefined ? {} : { relayer: update.relayer }),
        ...(update.nonce === undefined ? {} : { nonce: update.nonce }),
        ...(update.transactionHash === undefined ? {} : { transactionHash: update.transactionHash }),
        ...(update.blockNumber === undefined ? {} : { blockNumber: update.blockNumber.toString() }),
        ...(update.batchIndex === undefined ? {} : { batchIndex: update.batchIndex }),
        ...(update.errorCode === undefined
          ? {}
          : { errorCode: update.errorCode, errorMessage: update.errorMessage ?? null }),
      })
      .where(eq(relays.relayId, relayId));
    await database.db.insert(relayTransitions).values({
      relayId,
      status,
      transactionHash: update.transactionHash ?? null,
      detail:
        update.detail ??
        (update.errorCode === undefined ? null : { code: update.errorCode, message: update.errorMessage }),
    });
  }
}
