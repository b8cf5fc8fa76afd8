/**
 * The embedded database in its own thread (lib/db/pglite-thread.ts): the event loop keeps running
 * while a statement executes, answers and errors are PGlite's, transactions keep PGlite's lock.
 */
import { expect } from "chai";

import { sql } from "drizzle-orm";

import { openDatabase } from "../../lib/db/database.ts";
import { openPgliteThread, type PgliteClient } from "../../lib/db/pglite-thread.ts";

/** Timer ticks (every 5 ms) while `work` runs, and how long it ran. */
async function ticksDuring(work: () => Promise<unknown>): Promise<{ ticks: number; elapsed: number }> {
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 5);
  const started = performance.now();
  await work();
  const elapsed = performance.now() - started;
  clearInterval(timer);
  return { ticks, elapsed };
}

describe("PGlite in a worker thread", () => {
  let client: PgliteClient;
  beforeEach(async () => {
    client = await openPgliteThread(undefined);
    await client.exec("CREATE TABLE things (id int8 PRIMARY KEY, amount numeric(78,0), at timestamptz, doc jsonb)");
  });
  afterEach(() => client.close());

  it("leaves the event loop free while a statement executes", async () => {
    const { ticks, elapsed } = await ticksDuring(() =>
      client.query("SELECT count(*) FROM generate_series(1, 3000000)"),
    );
    // In the caller's thread the loop would be blocked for the statement's whole run: no tick.
    expect(elapsed).to.be.greaterThan(50);
    expect(ticks).to.be.greaterThan(Math.floor(elapsed / 5 / 4));
  });

  it("runs in the caller's thread when openDatabase is told so (PGLITE_THREAD=false), and in its own by default", async () => {
    const long = sql`SELECT count(*)::int AS n FROM generate_series(1, 3000000)`;
    for (const pgliteThread of [false, undefined]) {
      const database = await openDatabase({ schema: "threads", ...(pgliteThread === false ? { pgliteThread } : {}) });
      try {
        const { ticks, elapsed } = await ticksDuring(() => database.query(long));
        expect(elapsed).to.be.greaterThan(50);
        if (pgliteThread === false) expect(ticks, "in the caller's thread the loop waits").to.be.at.most(1);
        else expect(ticks, "in its own thread the loop runs").to.be.greaterThan(Math.floor(elapsed / 5 / 4));
        expect(await database.query(sql`SELECT 1 AS one`)).to.deep.equal([{ one: 1 }]);
      } finally {
        await database.close();
      }
    }
  });

  it("answers with PGlite's values, keeps drizzle's text parsers, and keeps an error's code and the caller's stack", async () => {
    await client.query("INSERT INTO things VALUES ($1, $2, $3, $4)", [
      1n,
      (10n ** 40n).toString(),
      new Date("2026-12-03T21:00:00Z"),
      JSON.stringify({ a: [1, "b"] }),
    ]);
    const { rows } = await client.query<{ amount: string; at: string; doc: unknown }>(
      "SELECT amount, at, doc FROM things",
      [],
      { parsers: { 1184: (text: string) => text } },
    );
    expect(rows).to.deep.equal([
      { amount: (10n ** 40n).toString(), at: "2026-12-03 21:00:00+00", doc: { a: [1, "b"] } },
    ]);
    const error = (await client.query("INSERT INTO things (id) VALUES (1)").catch((e: unknown) => e)) as Error & {
      code?: string;
    };
    expect(error.code).to.equal("23505");
    expect(error.stack).to.include("pglite-thread.test.ts");
    expect((await client.query("SELECT count(*)::int AS n FROM things")).rows).to.deep.equal([{ n: 1 }]);
  });

  it("commits, rolls back on a throw, and holds other statements until a transaction ends", async () => {
    await client.transaction(async (tx) => {
      await tx.query("INSERT INTO things (id) VALUES (2)");
    });
    await client
      .transaction(async (tx) => {
        await tx.query("INSERT INTO things (id) VALUES (3)");
        throw new Error("abandon");
      })
      .catch(() => undefined);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = client.transaction(async (tx) => {
      await tx.query("INSERT INTO things (id) VALUES (4)");
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const outside = client.query<{ ids: string }>("SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM things");
    release();
    await open;
    expect((await outside).rows).to.deep.equal([{ ids: "2,4" }]);
  });

  it("runs transactions begun back to back one after another (BEGIN unanswered), each ending as its caller says", async () => {
    await client.query("INSERT INTO things (id, amount) VALUES (1, 0)");
    // Twenty read-modify-write transactions at once: each one's statements reach the worker before
    // its BEGIN has run, and must wait for it; PGlite's lock must still run them one at a time.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        client.transaction(async (tx) => {
          const { rows } = await tx.query<{ amount: string }>("SELECT amount FROM things WHERE id = 1");
          await tx.query("UPDATE things SET amount = $1 WHERE id = 1", [String(BigInt(rows[0]!.amount) + 1n)]);
        }),
      ),
    );
    const failed = (await client
      .transaction(async (tx) => {
        await tx.query("UPDATE things SET amount = 0 WHERE id = 1");
        await tx.query("INSERT INTO things (id) VALUES (1)");
      })
      .catch((e: unknown) => e)) as Error & { code?: string };
    expect(failed.code).to.equal("23505");
    expect(await client.transaction(async () => "nothing asked")).to.equal("nothing asked");
    expect((await client.query("SELECT amount FROM things WHERE id = 1")).rows).to.deep.equal([{ amount: "20" }]);
  });

  it("refuses a parser it cannot carry, and any call once closed, with DATABASE_UNAVAILABLE", async () => {
    expect(() => client.query("SELECT 1", [], { parsers: { 20: (text: string) => Number(text) } })).to.throw(
      /not supported/,
    );
    await client.close();
    const error = (await client.query("SELECT 1").catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).to.equal("DATABASE_UNAVAILABLE");
    const inTransaction = (await client.transaction((tx) => tx.query("SELECT 1")).catch((e: unknown) => e)) as Error & {
      code?: string;
    };
    expect(inTransaction.code).to.equal("DATABASE_UNAVAILABLE");
  });
});
