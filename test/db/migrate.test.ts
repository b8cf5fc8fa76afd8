import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { sql } from "drizzle-orm";

import { apiMigrations } from "../../api/db/migration-set.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { openDatabase } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../helpers/database.ts";

/** The hash drizzle records for each migration of a set (sha256 of its SQL file), from the set's journal. */
function expectedHashes(folder: string): string[] {
  const journal = JSON.parse(readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string }[];
  };
  return journal.entries.map((entry) =>
    createHash("sha256")
      .update(readFileSync(path.join(folder, `${entry.tag}.sql`), "utf8"))
      .digest("hex"),
  );
}

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
        // Every migration of the set's journal applied, each exactly once — not merely "some rows".
        expect(rows.map((row) => row.hash).sort(), set.table).to.deep.equal(expectedHashes(set.folder).sort());
      }
      // And again, with everything applied: nothing to do, nothing fails.
      await runMigrations(others[0]!, sets);
    } finally {
      await Promise.all(others.map((database) => database.close()));
      await first.drop();
    }
  });
});
