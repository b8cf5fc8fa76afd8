/**
 * PGlite with prepared statements (lib/db/pglite-prepared.ts), the embedded default's query path:
 * the same answers as PGlite's own `query` for every type the services use, one call into the
 * WebAssembly per warm statement instead of six, each text parsed once, statements that outlive a
 * change of their table or a rolled-back transaction, errors as PGlite gives them, the transaction
 * lock kept, and a bounded number of statements held.
 */
import { PGlite, types } from "@electric-sql/pglite";
import { expect } from "chai";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";

import { withPreparedStatements } from "../../lib/db/pglite-prepared.ts";

describe("PGlite with prepared statements", () => {
  let pglite: PGlite;
  let client: PGlite;

  beforeEach(async () => {
    pglite = await PGlite.create();
    client = withPreparedStatements(pglite);
    await pglite.exec(`
      CREATE TABLE things (
        id int8 PRIMARY KEY, amount numeric(78,0), doc jsonb, at timestamptz, raw bytea, ok bool,
        tags text[], n int4, ref uuid, note text);`);
  });
  afterEach(() => pglite.close());

  const insert = `INSERT INTO things (id, amount, doc, at, raw, ok, tags, n, ref, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
  const row = (id: bigint) => [
    id,
    (10n ** 40n + id).toString(),
    { nested: { list: [1, "two", null] }, quote: 'say "hi"' },
    new Date("2026-12-02T21:00:00.123Z"),
    new Uint8Array([0, 1, 254, 255]),
    id % 2n === 0n,
    ["a", "b,c", 'd"e', ""],
    -7,
    "7f0c2f1e-4d6b-4a51-9a47-6a1d4c1f0e2b",
    null,
  ];

  it("answers as PGlite's own query does, in both row modes and with a caller's parsers", async () => {
    const inserted = await client.query(insert, row(1n));
    const reference = await pglite.query(insert, row(2n));
    expect(inserted.affectedRows).to.equal(reference.affectedRows).and.equal(1);
    expect(inserted.rows).to.deep.equal(reference.rows);

    const select = "SELECT * FROM things WHERE id = ANY($1) ORDER BY id";
    const parsers = { [types.TIMESTAMPTZ]: (value: string) => value, [types.INT8]: (value: string) => `int8:${value}` };
    for (const options of [undefined, { rowMode: "array" as const }, { rowMode: "array" as const, parsers }]) {
      const ours = await client.query(select, [[1, 2]], options);
      const theirs = await pglite.query(select, [[1, 2]], options);
      expect(ours.rows).to.have.length(2);
      expect(ours.rows).to.deep.equal(theirs.rows);
      expect(ours.fields).to.deep.equal(theirs.fields);
      expect(ours.affectedRows).to.equal(theirs.affectedRows);
    }
    const updated = await client.query("UPDATE things SET note = $1 WHERE id > $2", ["x", 0]);
    expect(updated.affectedRows).to.equal(2);
    expect((await client.query("SELECT note FROM things WHERE note IS NULL")).rows).to.deep.equal([]);
  });

  it("runs a warm statement in one call into the WebAssembly, where PGlite's own query makes six, and parses it once", async () => {
    let calls = 0;
    const execProtocolStream = pglite.execProtocolStream.bind(pglite);
    pglite.execProtocolStream = (...args) => {
      calls++;
      return execProtocolStream(...args);
    };
    const select = "SELECT count(*)::int AS n FROM things WHERE id > $1";
    const counted = async (run: () => Promise<unknown>) => {
      calls = 0;
      await run();
      return calls;
    };
    expect(await counted(() => client.query(select, [0]))).to.equal(2); // parse + describe, then bind + execute
    expect(await counted(() => client.query(select, [1]))).to.equal(1);
    expect(await counted(() => client.query(select, [2]))).to.equal(1);
    expect(await counted(() => pglite.query(select, [2]))).to.equal(6);
    const prepared = await pglite.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1",
      [select],
    );
    expect(prepared.rows[0]!.n).to.equal(1);
  });

  it("runs a statement prepared before its table changed, or after every statement was deallocated, against the table as it is now", async () => {
    await client.query(insert, row(1n));
    const all = "SELECT * FROM things";
    expect(Object.keys((await client.query<Record<string, unknown>>(all)).rows[0]!)).not.to.include("extra");
    await pglite.exec("ALTER TABLE things ADD COLUMN extra text DEFAULT 'new'");
    expect((await client.query<{ extra: string }>(all)).rows[0]!.extra).to.equal("new");

    await pglite.exec("DEALLOCATE ALL");
    expect((await client.query<{ id: number }>("SELECT id FROM things")).rows).to.deep.equal([{ id: 1 }]);
    expect((await client.query<{ extra: string }>(all)).rows[0]!.extra).to.equal("new");
  });

  it("fails as PGlite fails (the code, the statement attached) and goes on; a rolled-back transaction keeps its statements usable", async () => {
    await client.query(insert, row(1n));
    const duplicate = await client.query(insert, row(1n)).catch((error: unknown) => error);
    expect(duplicate).to.include({ code: "23505", query: insert });
    expect((await client.query("SELECT id FROM things")).rows).to.have.length(1);

    const db = drizzle({ client });
    const failed = await db
      .transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO things (id, note) VALUES (${5}, ${"in the transaction"})`);
        await tx.execute(sql`INSERT INTO things (id, note) VALUES (${1}, ${"duplicate"})`);
      })
      .catch((error: unknown) => error);
    expect(failed).to.be.instanceOf(Error);
    const ids = await db.execute<{ id: number }>(sql`SELECT id FROM things ORDER BY id`);
    expect(ids.rows.map((r) => r.id)).to.deep.equal([1]);
    // The statements parsed inside the rolled-back transaction still run, now committing.
    await db.execute(sql`INSERT INTO things (id, note) VALUES (${5}, ${"after"})`);
    expect((await db.execute(sql`SELECT id FROM things ORDER BY id`)).rows).to.deep.equal([{ id: 1 }, { id: 5 }]);
  });

  it("keeps the transaction lock: a query sent while a transaction is open waits for it and sees only what it committed", async () => {
    const db = drizzle({ client });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const transaction = db
      .transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO things (id, note) VALUES (${9}, ${"uncommitted"})`);
        entered();
        await held;
        tx.rollback();
      })
      .catch(() => undefined);
    await inside;
    const outside = client.query<{ n: number }>("SELECT count(*)::int AS n FROM things");
    let answered = false;
    void outside.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered, "a query outside ran inside another caller's transaction").to.equal(false);
    release();
    await transaction;
    expect((await outside).rows[0]!.n).to.equal(0);
  });

  it("holds at most maxStatements statements, closing the least recently used", async () => {
    const small = withPreparedStatements(pglite, { maxStatements: 3 });
    for (let i = 0; i < 10; i++)
      expect((await small.query<{ n: number }>(`SELECT ${i}::int AS n`)).rows[0]!.n).to.equal(i);
    const held = await pglite.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'stablerail_%'",
    );
    expect(held.rows[0]!.n).to.equal(3);
    expect((await small.query<{ n: number }>("SELECT 0::int AS n")).rows[0]!.n).to.equal(0);
  });
});
