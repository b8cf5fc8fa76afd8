/**
 * Statements built once per database handle (lib/db/prepared.ts), on both engines: the same rows as
 * the builder's own statement, built on a handle's first call and never again, a handle of its own
 * for each database (never another schema's statement), and on the PostgreSQL server the choice to
 * name statements left to the database (DATABASE_NAMED_STATEMENTS), which the server's
 * pg_prepared_statements shows.
 */
import { randomBytes } from "node:crypto";

import { expect } from "chai";
import { and, eq, gt, sql } from "drizzle-orm";
import { numeric, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import pg from "pg";

import { openDatabase, type Database } from "../../lib/db/database.ts";
import { preparedOnce } from "../../lib/db/prepared.ts";
import { createTestDatabase, describeEachEngine, TEST_POSTGRES_URL } from "../helpers/database.ts";

const accounts = pgTable("accounts", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  balance: numeric("balance", { precision: 78, scale: 0 }).notNull(),
  status: text("status").notNull(),
  openedAt: timestamp("opened_at", { withTimezone: true }).notNull(),
});

const createAccounts = sql`CREATE TABLE accounts (id text PRIMARY KEY, owner text NOT NULL,
  balance numeric(78,0) NOT NULL, status text NOT NULL, opened_at timestamptz NOT NULL)`;

async function seed(database: Database, owner: string): Promise<void> {
  await database.query(createAccounts);
  await database.db.insert(accounts).values([
    { id: `${owner}-1`, owner, balance: (10n ** 40n).toString(), status: "open", openedAt: new Date("2026-01-01Z") },
    { id: `${owner}-2`, owner, balance: "7", status: "open", openedAt: new Date("2026-06-01Z") },
    { id: `${owner}-3`, owner, balance: "5", status: "closed", openedAt: new Date("2026-09-01Z") },
  ]);
}

describeEachEngine("Statements built once per handle", (engine) => {
  const opened: (Database & { drop: () => Promise<void> })[] = [];
  const open = async (label: string) => {
    const database = await createTestDatabase(engine, label);
    opened.push(database);
    return database;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.drop()));
  });

  let builds = 0;
  const openSince = preparedOnce((db) => {
    builds += 1;
    return db
      .select({ id: accounts.id, balance: accounts.balance, openedAt: accounts.openedAt })
      .from(accounts)
      .where(and(eq(accounts.owner, sql.placeholder("owner")), gt(accounts.openedAt, sql.placeholder("since"))))
      .orderBy(accounts.id);
  });
  const closeAccount = preparedOnce((db) =>
    db
      .update(accounts)
      .set({ status: "closed" })
      .where(eq(accounts.id, sql.placeholder("id")))
      .returning({ id: accounts.id, status: accounts.status }),
  );

  it("answers as the builder's own statement does, and builds on a handle's first call only", async () => {
    const database = await open("prepared_same");
    await seed(database, "alice");
    builds = 0;
    const since = new Date("2026-03-01Z");
    const built = await database.db
      .select({ id: accounts.id, balance: accounts.balance, openedAt: accounts.openedAt })
      .from(accounts)
      .where(and(eq(accounts.owner, "alice"), gt(accounts.openedAt, since)))
      .orderBy(accounts.id);
    for (let i = 0; i < 3; i++) {
      const rows = await openSince(database.db).execute({ owner: "alice", since: since.toISOString() });
      expect(rows).to.deep.equal(built);
    }
    expect(built.map((row) => row.id)).to.deep.equal(["alice-2", "alice-3"]);
    expect(builds).to.equal(1);

    expect(await closeAccount(database.db).execute({ id: "alice-2" })).to.deep.equal([
      { id: "alice-2", status: "closed" },
    ]);
    expect(await closeAccount(database.db).execute({ id: "nobody" })).to.deep.equal([]);
    const [big] = await database.db.select().from(accounts).where(eq(accounts.id, "alice-1"));
    expect(big!.balance).to.equal((10n ** 40n).toString());
    expect(big!.status).to.equal("open");
  });

  it("builds its own statement for each database, which reads that database's rows only", async () => {
    const first = await open("prepared_first");
    const second = await open("prepared_second");
    await seed(first, "alice");
    await seed(second, "bob");
    builds = 0;
    const since = new Date("2025-01-01Z").toISOString();
    expect((await openSince(first.db).execute({ owner: "alice", since })).map((r) => r.id)).to.have.length(3);
    expect(await openSince(second.db).execute({ owner: "alice", since })).to.deep.equal([]);
    expect((await openSince(second.db).execute({ owner: "bob", since })).map((r) => r.id)).to.deep.equal([
      "bob-1",
      "bob-2",
      "bob-3",
    ]);
    expect(builds).to.equal(2);
  });

  if (engine === "postgres") {
    for (const named of [true, false]) {
      it(`leaves naming to the database: DATABASE_NAMED_STATEMENTS ${named ? "on names it once" : "off leaves it unnamed"}`, async () => {
        const schema = `test_prepared_named_${randomBytes(4).toString("hex")}`;
        // One connection, so pg_prepared_statements (per session) shows what the calls left.
        const database = await openDatabase({ url: TEST_POSTGRES_URL, schema, poolSize: 1, namedStatements: named });
        try {
          await seed(database, "carol");
          const since = new Date("2025-01-01Z").toISOString();
          for (let i = 0; i < 4; i++) await openSince(database.db).execute({ owner: "carol", since });
          const statements = await database.query<{ statement: string }>(
            sql`SELECT statement FROM pg_prepared_statements WHERE statement LIKE ${"%opened_at%>%"}`,
          );
          expect(statements).to.have.length(named ? 1 : 0);
        } finally {
          await database.close();
          const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
        }
      });
    }
  }
});
