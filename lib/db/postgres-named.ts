import type pg from "pg";

/**
 * node-postgres with its parameterised statements named: on each pooled connection, every
 * statement text that carries parameters is parsed and planned by the server once, then run by
 * name (Bind + Execute) every time after. node-postgres caches a named statement per connection
 * by itself; what it lacks is a name for drizzle's statements, which it sends unnamed, so the
 * server parses and plans each one again on every call.
 *
 * Why: measured on this project's 2-core machine against its PostgreSQL 15 (one connection, the
 * same statement 3,000 times), the server's CPU for a primary-key SELECT went from 77–83 µs to
 * 37–53 µs named, and for a page of 50 postings joined to their entries from 373–390 µs to
 * 137–170 µs; every service on `DATABASE_URL` pays it on every statement.
 *
 * What is not named: a text without parameters (it goes by the simple protocol, which is what lets
 * a migration send several statements in one text); a submittable (cursor, stream); a query that
 * names itself. At most `maxStatements` texts are named per connection, first come first named
 * (the services' statements are fixed texts, so the hot ones come first); a text beyond that
 * goes unnamed, as before. A named statement whose result columns changed under it (PostgreSQL's
 * `0A000` "cached plan must not change result type", after a live schema change) is dropped from
 * the connection's names and, when the connection is outside a transaction, run again once under
 * a new name; inside a transaction the error reaches the caller, as any failed statement does.
 * @example
 * const pool = new pg.Pool({ connectionString });
 * nameStatementsOnConnect(pool);
 */
export function nameStatementsOnConnect(pool: pg.Pool, { maxStatements = 256 } = {}): void {
  pool.on("connect", (client) => nameStatements(client, maxStatements));
}

type QueryConfig = pg.QueryConfig & { name?: string; submit?: unknown };
type Callback = (error: Error | null, result?: pg.QueryResult) => void;
type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** Names this client's parameterised statements (see {@link nameStatementsOnConnect}). */
export function nameStatements(client: pg.ClientBase, maxStatements: number): void {
  const names = new Map<string, string>();
  let sequence = 0;
  // node-postgres parses ReadyForQuery's status byte but keeps it to itself: 'I' idle, 'T' in a
  // transaction, 'E' in a failed one. Only an idle connection may run a failed statement again.
  let status = "I";
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on("readyForQuery", (message: { status: string }) => (status = message.status));
  // Through the prototype at each call, not a method bound now: instrumentation that wraps
  // pg.Client.prototype.query later (OpenTelemetry's, the submit profile's counter) still sees it.
  const query: Query = (...args) =>
    (Object.getPrototypeOf(client) as { query: (...a: unknown[]) => unknown }).query.apply(client, args);
  const named = (config: QueryConfig, values: unknown[]): QueryConfig => {
    let name = names.get(config.text);
    if (name === undefined) {
      // Every name given out holds a statement on the server until the connection ends (a stale
      // one too), so the bound counts names given, not names kept.
      if (sequence >= maxStatements) return { ...config, values };
      names.set(config.text, (name = `stablerail_${++sequence}`));
    }
    return { ...config, name, values };
  };
  const run = async (config: QueryConfig, values: unknown[]): Promise<pg.QueryResult> => {
    try {
      return (await query(named(config, values))) as pg.QueryResult;
    } catch (error) {
      if (!isChangedResultType(error)) throw error;
      // The stale statement stays on the server until the connection ends; its text is named
      // afresh while there is room, else it goes unnamed.
      names.delete(config.text);
      if (status !== "I") throw error;
      return (await query(named(config, values))) as pg.QueryResult;
    }
  };
  (client as unknown as { query: Query }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // pg's Pool.query hands the client the caller's arguments: a text or a config object.
    const config = typeof text === "string" ? { text } : text;
    if (!nameable(config)) return query(text, values, callback);
    const parameters = (Array.isArray(values) ? values : config.values) as unknown[] | undefined;
    const done = (typeof values === "function" ? values : callback) as Callback | undefined;
    if (!parameters || parameters.length === 0) return query(text, values, callback);
    const result = run(config, parameters);
    if (!done) return result;
    result.then(
      (value) => done(null, value),
      (error: Error) => done(error),
    );
    return undefined;
  };
}

function nameable(config: unknown): config is QueryConfig {
  if (typeof config !== "object" || config === null) return false;
  const candidate = config as QueryConfig;
  // An empty name is no name (node-postgres sends it unnamed): lib/db/prepared.ts prepares with one.
  return typeof candidate.text === "string" && !candidate.name && typeof candidate.submit !== "function";
}

function isChangedResultType(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === "0A000" &&
    error.message.includes("cached plan must not change result type")
  );
}
