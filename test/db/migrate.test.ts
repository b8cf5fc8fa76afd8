import { expect } from "chai";
import { sql } from "drizzle-orm";

import { apiMigrations } from "../../api/db/migration-set.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { openDatabase } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../helpers/database.ts";

describe("runMigrations on PostgreSQL", () => {
  it("lets processes that start together on a fresh schema take turns: every one succeeds, each migration applied once", async () => {
    const first = await createTestDatabase("postgres", "migrate_race");
    // Four more connections pools on the same schema, as four processes starting at once would have.
    const others = await Promise.all(
      Array.from({ length: 4 }, () => openDatabase({ url: TEST_POSTGRES_URL, schema: first.schema, poolSize: 2 })),
    );
    try {
      const sets = [ledgerMigrations, relayerMigrations, apiMigrations];
      const outcomes = await Promise.allSettled([first, ...others].map((database) => runMigrations(database, sets)));
      expect(outcomes.filter((outcome) => outcome.status === "rejected")).to.deep.equal([]);
      for (const set of sets) {
        const rows = await first.query<{ hash: string }>(
          sql`SELECT hash FROM ${sql.identifier(first.schema)}.${sql.identifier(set.table)}`,
        );
        expect(new Set(rows.map((row) => row.hash)).size, set.table).to.equal(rows.length);
        expect(rows.length, set.table).to.be.greaterThan(0);
      }
      // And again, with everything applied: nothing to do, nothing fails.
      await runMigrations(others[0]!, sets);
    } finally {
      await Promise.all(others.map((database) => database.close()));
      await first.drop();
    }
  });
});
