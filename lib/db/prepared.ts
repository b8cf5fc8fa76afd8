import { sql, type SQL } from "drizzle-orm";

import type { Db } from "./database.ts";

/**
 * A drizzle statement built once per database handle, then run with its placeholders: the
 * builder's work — walking the query's objects, checking every entity, writing the SQL text and
 * the result mapping — is done on the first call instead of on every one. Use it for the
 * statements of constant shape on hot paths (every request's authentication, the money door's
 * reads); a statement whose shape depends on its inputs (an `IN` list, optional filters) stays a
 * plain builder call.
 *
 * Why: sampled on the API submit (bench/api/submit-profile.ts), drizzle's building and mapping was
 * the largest share of the CPU our own dependencies spend per request, about 1.3 ms of ~12.
 *
 * `build` returns the query unprepared; it is prepared here with an empty name: drizzle builds it
 * once, and whether the server also parses and plans it once per connection stays the database's
 * choice (DATABASE_NAMED_STATEMENTS, lib/db/postgres-named.ts), not each call site's.
 * @example
 * const walletById = preparedOnce((db) => db.select().from(wallets).where(eq(wallets.id, sql.placeholder("id"))));
 * const [wallet] = await walletById(database.db).execute({ id });
 */
export function preparedOnce<Statement>(
  build: (db: Db) => { prepare: (name: string) => Statement },
): (db: Db) => Statement {
  // Per handle: a statement is bound to the session it was built on (a pool, PGlite, a transaction).
  const built = new WeakMap<Db, Statement>();
  return (db) => {
    let statement = built.get(db);
    // No name of our own: naming is the database's choice (see above).
    if (statement === undefined) built.set(db, (statement = build(db).prepare("")));
    return statement;
  };
}

/**
 * A placeholder for a nullable column whose drizzle encoder cannot take a null (a timestamp, JSON):
 * drizzle runs a placeholder's value through the column's encoder without the null check its
 * builder has, so a null would fail (a timestamp) or be stored as JSON `null` instead of SQL NULL.
 * This one passes its value raw; give it {@link encodedOrNull}'s result.
 */
export function nullablePlaceholder(name: string): SQL {
  return sql`${sql.placeholder(name)}`;
}

/** `value` as the column's encoder gives it to the driver, or null: what drizzle's builder sends. */
export function encodedOrNull(column: { mapToDriverValue: (value: unknown) => unknown }, value: unknown): unknown {
  return value === null || value === undefined ? null : column.mapToDriverValue(value);
}
