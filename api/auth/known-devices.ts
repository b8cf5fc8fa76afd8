import { sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { knownDevices } from "../db/security-schema.ts";

/**
 * Records that a user signed in from a device (first seen kept, last seen moved): the risk rules'
 * NEW_DEVICE check reads `first_seen_at`.
 */
export async function recordKnownDevice(database: Database, userId: string, deviceHash: string): Promise<void> {
  await database.db
    .insert(knownDevices)
    .values({ userId, deviceHash })
    .onConflictDoUpdate({ target: [knownDevices.userId, knownDevices.deviceHash], set: { lastSeenAt: sql`now()` } });
}
