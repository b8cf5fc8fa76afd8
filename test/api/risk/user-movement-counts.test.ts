/**
 * The count of each user's history the risk engine reads (user_movement_counts, kept by the trigger
 * of migration 0009) against its definition: the user's movements whose status is not refused
 * (refusedStatuses of api/risk/assess-movement.ts), counted in full. On both engines; through
 * inserts, status changes (into and out of the refused ones), a movement given to another user,
 * deletes, TRUNCATE, and a database that held movements before the migration.
 */
import { randomUUID } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { eq, sql } from "drizzle-orm";

import { apiMigrations } from "../../../api/db/migration-set.ts";
import { moneyMovements } from "../../../api/db/schema.ts";
import { userMovementCounts } from "../../../api/db/security-schema.ts";
import { refusedStatuses } from "../../../api/risk/assess-movement.ts";
import type { Database } from "../../../lib/db/database.ts";
import { runMigrations } from "../../../lib/db/migrate.ts";
import { createTestDatabase, describeEachEngine } from "../../helpers/database.ts";
import { createRandom } from "../../../lib/seeded-random.ts";

const STATUSES = ["held", "queued", "open", "submitted", "confirmed", "failed", ...refusedStatuses];

const movementRow = (userId: string, status: string) => ({
  id: randomUUID(),
  userId,
  kind: "transfer",
  from: "0x" + "1".repeat(40),
  to: "0x" + "2".repeat(40),
  token: "0x" + "3".repeat(40),
  amount: "1",
  nonce: randomUUID(),
  status,
});

/** The definition, counted in full; and the kept counts (users without a row count 0). */
async function countsBothWays(database: Database) {
  const refused = sql.join(
    refusedStatuses.map((s) => sql`${s}`),
    sql`, `,
  );
  const defined = await database.query<{ user_id: string; n: string }>(
    sql`SELECT user_id, count(*) AS n FROM money_movements WHERE status NOT IN (${refused}) GROUP BY user_id`,
  );
  const kept = await database.db.select().from(userMovementCounts);
  const byUser = (rows: [string, number][]) => Object.fromEntries(rows.filter(([, n]) => n !== 0).sort());
  return {
    defined: byUser(defined.map((row) => [row.user_id, Number(row.n)])),
    kept: byUser(kept.map((row) => [row.userId, row.movements])),
  };
}

describeEachEngine("A user's movement count for the risk engine (migration 0009)", (engine) => {
  it("equals the movements not refused, counted in full, through 300 inserts, status changes, moves, deletes and a TRUNCATE", async () => {
    const database = await createTestDatabase(engine, "movement_counts");
    try {
      await runMigrations(database, [apiMigrations]);
      const { next, pick } = createRandom(29);
      const users = Array.from({ length: 4 }, () => randomUUID());
      const ids: string[] = [];
      for (let step = 0; step < 300; step += 1) {
        const roll = next();
        if (roll < 0.4 || ids.length === 0) {
          const row = movementRow(pick(users), pick(STATUSES));
          await database.db.insert(moneyMovements).values(row);
          ids.push(row.id);
        } else if (roll < 0.85) {
          await database.db
            .update(moneyMovements)
            .set({ status: pick(STATUSES) })
            .where(eq(moneyMovements.id, pick(ids)));
        } else if (roll < 0.93) {
          await database.db
            .update(moneyMovements)
            .set({ userId: pick(users) })
            .where(eq(moneyMovements.id, pick(ids)));
        } else {
          const id = ids.splice(Math.floor(next() * ids.length), 1)[0]!;
          await database.db.delete(moneyMovements).where(eq(moneyMovements.id, id));
        }
        if (step % 25 === 24) {
          const { defined, kept } = await countsBothWays(database);
          expect(kept, `step ${step}`).to.deep.equal(defined);
        }
      }
      // Several rows in one statement, as one UPDATE: each row counted.
      await database.db.update(moneyMovements).set({ status: "denied" }).where(eq(moneyMovements.userId, users[0]!));
      const { defined, kept } = await countsBothWays(database);
      expect(kept).to.deep.equal(defined);
      expect(Object.keys(defined).length, "the sequence left some counts").to.be.greaterThan(1);
      // TRUNCATE fires no row trigger; the counts go with the rows all the same.
      await database.query(sql`TRUNCATE money_movements`);
      expect(await countsBothWays(database)).to.deep.equal({ defined: {}, kept: {} });
    } finally {
      await database.drop();
    }
  });

  it("counts the movements recorded before the migration", async () => {
    const database = await createTestDatabase(engine, "movement_counts_backfill");
    // The API's migrations up to 0008, in a folder of their own with the journal cut there.
    const before = await mkdtemp(join(tmpdir(), "stablerail-migrations-"));
    try {
      await cp(apiMigrations.folder, before, { recursive: true });
      const journalPath = join(before, "meta", "_journal.json");
      const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: { tag: string }[] };
      const at = journal.entries.findIndex((entry) => entry.tag.startsWith("0009_"));
      expect(at, "migration 0009 is in the journal").to.be.greaterThan(0);
      journal.entries = journal.entries.slice(0, at);
      await writeFile(journalPath, JSON.stringify(journal));
      await runMigrations(database, [{ ...apiMigrations, folder: before }]);

      const [alice, bob] = [randomUUID(), randomUUID()];
      await database.db
        .insert(moneyMovements)
        .values([
          movementRow(alice, "confirmed"),
          movementRow(alice, "queued"),
          movementRow(alice, "denied"),
          movementRow(bob, "rejected"),
          movementRow(bob, "held"),
        ]);
      await runMigrations(database, [apiMigrations]);
      const { defined, kept } = await countsBothWays(database);
      expect(kept).to.deep.equal({ [alice]: 2, [bob]: 1 });
      expect(kept).to.deep.equal(defined);
    } finally {
      await rm(before, { recursive: true, force: true });
      await database.drop();
    }
  });
});
