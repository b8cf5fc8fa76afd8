/**
 * node-postgres with its parameterised statements named (lib/db/postgres-named.ts), the server
 * path's query path, on the PostgreSQL server here: the same answers as unnamed statements
 * through drizzle and through callbacks, each text parsed once per connection (the server's own
 * pg_prepared_statements shows it), texts without parameters still sent by the simple protocol, a
 * bounded number named, a statement whose result columns changed under it run again outside a
 * transaction and refused inside one, and errors as the server gives them.
 */
import { randomBytes } from "node:crypto";

import { expect } from "chai";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";

import { openDatabase } from "../../lib/db/database.ts";
import { nameStatementsOnConnect } from "../../lib/db/postgres-named.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../helpers/database.ts";

describe("PostgreSQL with named statements", () => {
  const schema = `test_named_${randomBytes(4).toString("hex")}`;
  const open = (named: boolean, maxStatements?: number) => {
    // One connection, so pg_prepared_statements (per session) shows what the statements left.
    const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 1, options: `-c search_path=${schema}` });
    if (named) nameStatementsOnConnect(pool, maxStatements === undefined ? {} : { maxStatements });
    return pool;
  };
  const prepared = async (pool: pg.Pool) =>
    (
      await pool.query<{ name: string; statement: string }>(
        "SELECT name, statement FROM pg_prepared_statements ORDER BY prepare_time, name",
      )
    ).rows;
  let pools: pg.Pool[] = [];
  const track = (pool: pg.Pool) => (pools.push(pool), pool);

  before(async () => {
    const pool = open(false);
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.end();
  });
  beforeEach(async () => {
    const pool = track(open(false));
    await pool.query(`DROP TABLE IF EXISTS things; CREATE TABLE things (
      id int8 PRIMARY KEY, amount numeric(78,0), doc jsonb, at timestamptz, tags text[], note text)`);
  });
  afterEach(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    pools = [];
  });
  after(async () => {
    const pool = open(false);
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  });

  const insert = "INSERT INTO things (id, amount, doc, at, tags, note) VALUES ($1, $2, $3, $4, $5, $6)";
  const row = (id: bigint) => [
    id.toString(),
    (10n ** 40n + id).toString(),
    JSON.stringify({ nested: [1, "two", null] }),
    new Date("2026-12-03T09:00:00.123Z"),
    ["a", "b,c", 'd"e'],
    null,
  ];

  it("answers as unnamed statements do, through drizzle (both row modes) and through a callback", async () => {
    const plain = track(open(false));
    const named = track(open(true));
    for (let id = 1n; id <= 3n; id++) await named.query(insert, row(id));
    const select = (pool: pg.Pool) =>
      drizzle({ client: pool }).execute(sql`SELECT * FROM things WHERE id >= ${1} ORDER BY id`);
    const ours = await select(named);
    const theirs = await select(plain);
    expect(ours.rows).to.deep.equal(theirs.rows).and.to.have.length(3);
    expect(ours.rows[2]).to.deep.include({ id: "3", amount: (10n ** 40n + 3n).toString(), note: null });
    const asArrays = await named.query({ text: "SELECT id, tags FROM things WHERE id = $1", rowMode: "array" }, ["2"]);
    expect(asArrays.rows).to.deep.equal([["2", ["a", "b,c", 'd"e']]]);
    const viaCallback = await new Promise<pg.QueryResult>((resolve, reject) =>
      named.query("SELECT count(*)::int AS n FROM things WHERE id > $1", ["1"], (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
    expect(viaCallback.rows).to.deep.equal([{ n: 2 }]);
  });

  it("parses a parameterised text once per connection and runs it by name after; unnamed, the server keeps nothing", async () => {
    const named = track(open(true));
    for (let id = 1n; id <= 20n; id++) await named.query(insert, row(id));
    for (let id = 1n; id <= 20n; id++) await named.query("SELECT note FROM things WHERE id = $1", [id.toString()]);
    const statements = await prepared(named);
    expect(statements.map((statement) => statement.statement)).to.deep.equal([
      insert,
      "SELECT note FROM things WHERE id = $1",
    ]);
    expect(statements.every((statement) => /^stablerail_\d+$/.test(statement.name))).to.equal(true);
    expect((await named.query<{ n: string }>("SELECT count(*) AS n FROM things")).rows[0]!.n).to.equal("20");

    const plain = track(open(false));
    await plain.query("SELECT note FROM things WHERE id = $1", ["1"]);
    expect(await prepared(plain)).to.deep.equal([]);
  });

  it("sends a text without parameters as before, so a script of several statements still runs", async () => {
    const named = track(open(true));
    await named.query("INSERT INTO things (id) VALUES (1); INSERT INTO things (id) VALUES (2)");
    await drizzle({ client: named }).execute(sql`UPDATE things SET note = 'x'`);
    expect((await named.query("SELECT id, note FROM things ORDER BY id")).rows).to.deep.equal([
      { id: "1", note: "x" },
      { id: "2", note: "x" },
    ]);
    expect(await prepared(named)).to.deep.equal([]);
  });

  it("names at most maxStatements texts per connection; the rest still answer, unnamed", async () => {
    const named = track(open(true, 2));
    await named.query(insert, row(1n));
    for (const column of ["amount", "doc", "at", "tags", "note"])
      expect((await named.query(`SELECT ${column} FROM things WHERE id = $1`, ["1"])).rows).to.have.length(1);
    expect((await prepared(named)).map((statement) => statement.statement)).to.deep.equal([
      insert,
      "SELECT amount FROM things WHERE id = $1",
    ]);
  });

  it("runs a statement whose result columns changed once more outside a transaction; inside one, the caller sees the error", async () => {
    const named = track(open(true));
    const other = track(open(false));
    await named.query(insert, row(1n));
    const selectAll = "SELECT * FROM things WHERE id = $1";
    expect(Object.keys((await named.query(selectAll, ["1"])).rows[0]!)).to.not.include("extra");

    await other.query("ALTER TABLE things ADD COLUMN extra int DEFAULT 7");
    expect((await named.query(selectAll, ["1"])).rows[0]).to.include({ extra: 7 });

    await other.query("ALTER TABLE things ADD COLUMN more int DEFAULT 8");
    const client = await named.connect();
    try {
      await client.query("BEGIN");
      const failure = await client.query(selectAll, ["1"]).then(
        () => undefined,
        (error: Error & { code?: string }) => error,
      );
      expect(failure?.code).to.equal("0A000");
      await client.query("ROLLBACK");
      expect((await client.query(selectAll, ["1"])).rows[0]).to.include({ extra: 7, more: 8 });
    } finally {
      client.release();
    }
  });

  it("is the path of every service on DATABASE_URL: openDatabase's sessions name their statements", async () => {
    const database = await createTestDatabase("postgres", "named");
    try {
      const statements = await database.withSession(async (session) => {
        for (let n = 0; n < 3; n++) await session.execute(sql`SELECT ${n}::int + 1 AS next`);
        const listed = await session.execute(
          sql`SELECT statement FROM pg_prepared_statements WHERE name LIKE ${"stablerail_%"} ORDER BY statement`,
        );
        return (listed as unknown as { rows: { statement: string }[] }).rows;
      });
      expect(statements).to.deep.equal([
        { statement: "SELECT $1::int + 1 AS next" },
        { statement: "SELECT statement FROM pg_prepared_statements WHERE name LIKE $1 ORDER BY statement" },
      ]);
    } finally {
      await database.drop();
    }
  });

  it("names nothing when DATABASE_NAMED_STATEMENTS is false (a pooler that cannot keep them)", async () => {
    const unnamedSchema = `test_unnamed_${randomBytes(4).toString("hex")}`;
    const database = await openDatabase({ url: TEST_POSTGRES_URL, schema: unnamedSchema, namedStatements: false });
    try {
      const statements = await database.withSession(async (session) => {
        for (let n = 0; n < 3; n++) await session.execute(sql`SELECT ${n}::int + 1 AS next`);
        const listed = await session.execute(sql`SELECT statement FROM pg_prepared_statements WHERE name <> ${""}`);
        return (listed as unknown as { rows: { statement: string }[] }).rows;
      });
      expect(statements).to.deep.equal([]);
    } finally {
      await database.query(sql.raw(`DROP SCHEMA ${unnamedSchema} CASCADE`));
      await database.close();
    }
  });

  it("fails as the server fails (the code, the constraint) and the statement goes on working", async () => {
    const named = track(open(true));
    await named.query(insert, row(1n));
    const failure = await named.query(insert, row(1n)).then(
      () => undefined,
      (error: Error & { code?: string; constraint?: string }) => error,
    );
    expect(failure).to.include({ code: "23505", constraint: "things_pkey" });
    await named.query(insert, row(2n));
    expect((await named.query("SELECT count(*)::int AS n FROM things")).rows).to.deep.equal([{ n: 2 }]);
    expect((await prepared(named)).map((statement) => statement.statement)).to.deep.equal([insert]);
  });
});
