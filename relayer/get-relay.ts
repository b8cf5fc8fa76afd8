import { asc, eq, inArray } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { relayTransitions, relays } from "./db/schema.ts";
import type { Relay, RelayStatus, RelayTransition } from "./relay-status.ts";

type RelayRow = typeof relays.$inferSelect;

/** Maps rows to {@link Relay}s with their transitions in order. */
export async function toRelays(database: Database, rows: RelayRow[]): Promise<Relay[]> {
  if (rows.length === 0) return [];
  const transitions = await database.db
    .select()
    .from(relayTransitions)
    .where(
      inArray(
        relayTransitions.relayId,
        rows.map((row) => row.relayId),
      ),
    )
    .orderBy(asc(relayTransitions.id));
  const byRelay = new Map<string, RelayTransition[]>();
  for (const transition of transitions) {
    const list = byRelay.get(transition.relayId) ?? [];
    list.push({
      relayId: transition.relayId,
      status: transition.status as RelayStatus,
      at: transition.at,
      transactionHash: transition.transactionHash,
      detail: (transition.detail as Record<string, unknown> | null) ?? null,
    });
    byRelay.set(transition.relayId, list);
  }
  return rows.map((row) => ({ ...toRelay(row), transitions: byRelay.get(row.relayId) ?? [] }));
}

function toRelay(row: RelayRow): Omit<Relay, "transitions"> {
  return {
    relayId: row.relayId,
    kind: row.kind,
    status: row.status as RelayStatus,
    requestedBy: row.requestedBy,
    relayer: row.relayer,
    nonce: row.nonce,
    transactionHash: row.transactionHash,
    blockNumber: row.blockNumber === null ? null : BigInt(row.blockNumber),
    blockHash: row.blockHash,
    batchIndex: row.batchIndex,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    deadline: row.deadline,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Reads several relays (without their transitions), in no particular order; unknown ids are absent. */
export async function getRelays(database: Database, relayIds: readonly string[]): Promise<Relay[]> {
  if (relayIds.length === 0) return [];
  const rows = await database.db
    .select()
    .from(relays)
    .where(inArray(relays.relayId, [...relayIds]));
  return rows.map((row) => ({ ...toRelay(row), transitions: [] }));
}

/**
 * Reads one relay with every transition it went through.
 * @returns the relay, or `undefined` when no worker has picked it up yet (or it never existed)
 * @example
 * const relay = await getRelay(database, relayIdFor("u1.k1")); // relay?.status === "confirmed"
 */
export async function getRelay(database: Database, relayId: string): Promise<Relay | undefined> {
  const rows = await database.db.select().from(relays).where(eq(relays.relayId, relayId)).limit(1);
  return (await toRelays(database, rows))[0];
}
