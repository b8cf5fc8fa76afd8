import { protocol, type PGlite, type QueryOptions, type Results, type Transaction } from "@electric-sql/pglite";

import { bindExecuteSync } from "./pglite-bind.ts";

/**
 * PGlite with its statements prepared once: the same `PGlite` for drizzle and every caller, whose
 * `query` (and a transaction's) keeps each statement text parsed under a name and runs it as one
 * Bind + Execute + Sync call into the WebAssembly.
 *
 * Why: PGlite's own `query` makes six calls into the WebAssembly for every statement (Parse,
 * Describe, Bind, Describe, Execute, Sync) and parses and plans it afresh each time. On this
 * project's 2-core machine a primary-key SELECT took ~280 µs that way and ~100 µs prepared
 * (`bench/db/pglite-statements.ts`); on the embedded default every service pays it on every
 * statement. node-postgres does the same for a named query; PostgreSQL itself replans a prepared
 * statement when a table it reads changes, and keeps it across a rolled-back transaction. The run's
 * messages are written by pglite-bind.ts, not PGlite's serializer (a large parameter cost it 16× as much).
 *
 * What stays PGlite's: the locks (a query waits for an open transaction, as PGlite's does), the
 * serializers and parsers by type (a caller's `serializers`/`parsers` first), the errors
 * (PGlite's `DatabaseError` with the query and parameters attached), `syncToFs` after a
 * statement outside a transaction. A query with a `blob` or `paramTypes` goes to PGlite's own
 * path. At most `maxStatements` texts stay prepared; the least recently used is closed.
 * @example
 * const client = withPreparedStatements(await PGlite.create());
 * const db = drizzle({ client });
 */
export function withPreparedStatements(pglite: PGlite, { maxStatements = 512 } = {}): PGlite {
  const statements = new PreparedStatements(pglite, maxStatements);
  const query = async <T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> => {
    if (!preparable(options)) return pglite.query<T>(text, params, options);
    await pglite._checkReady();
    return pglite._runExclusiveTransaction(() =>
      pglite._runExclusiveQuery(async () => {
        const result = await statements.run<T>(text, params, options, { inTransaction: false });
        await pglite.syncToFs();
        return result;
      }),
    );
  };
  const transaction = <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> =>
    pglite.transaction((tx) => {
      const preparedTx: Transaction = {
        query: async <R>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<R>> => {
          if (tx.closed) throw new Error("Transaction is closed");
          if (!preparable(options)) return tx.query<R>(text, params, options);
          return pglite._runExclusiveQuery(() => statements.run<R>(text, params, options, { inTransaction: true }));
        },
        sql: (strings, ...params) => tx.sql(strings, ...params),
        exec: (text, options) => tx.exec(text, options),
        rollback: () => tx.rollback(),
        listen: (channel, callback) => tx.listen(channel, callback),
        get closed() {
          return tx.closed;
        },
      };
      return fn(preparedTx);
    });
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(pglite, {
    get(target, property) {
      if (property === "query") return query;
      if (property === "transaction") return transaction;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      // PGlite's methods use private fields: they must run on the instance, not on the proxy.
      let method = bound.get(property);
      if (!method) bound.set(property, (method = (value as (...args: unknown[]) => unknown).bind(target)));
      return method;
    },
  });
}

type Prepared = {
  name: string;
  /** Type OIDs of the parameters, as the server inferred them (PGlite's serializers are by OID). */
  parameterTypes: number[];
  /** The row's columns (empty for a statement that returns none). */
  fields: { name: string; dataTypeID: number }[];
};

type Message = { name: string } & Record<string, unknown>;

/** Names are unique in the process, so two wrappers of one instance never take each other's. */
let sequence = 0;

class PreparedStatements {
  private readonly byText = new Map<string, Prepared>();

  private readonly pglite: PGlite;
  private readonly maxStatements: number;

  // Fields assigned here rather than as parameter properties: a worker thread may load this file
  // through Node's type stripping, which takes only erasable syntax.
  constructor(pglite: PGlite, maxStatements: number) {
    this.pglite = pglite;
    this.maxStatements = maxStatements;
  }

  /** Runs `text` inside the caller's exclusive section (PGlite's query lock held). */
  async run<T>(
    text: string,
    params: unknown[],
    options: QueryOptions | undefined,
    { inTransaction }: { inTransaction: boolean },
  ): Promise<Results<T>> {
    try {
      return await this.execute<T>(await this.prepare(text), params, options);
    } catch (error) {
      if (!isStale(error)) throw withQuery(error, text, params, options);
      const stale = this.byText.get(text);
      this.byText.delete(text);
      // Inside a transaction the failed statement has aborted it: the caller sees the error, as
      // with any failed statement. Outside one, the statement is parsed again and run once more.
      if (inTransaction) throw withQuery(error, text, params, options);
      if (stale) await this.close(stale);
      try {
        return await this.execute<T>(await this.prepare(text), params, options);
      } catch (retried) {
        throw withQuery(retried, text, params, options);
      }
    }
  }

  private async prepare(text: string): Promise<Prepared> {
    const known = this.byText.get(text);
    if (known) {
      // Most recently used last: a Map keeps insertion order, so the first key is the eviction candidate.
      this.byText.delete(text);
      this.byText.set(text, known);
      return known;
    }
    const name = `stablerail_${++sequence}`;
    const { serialize } = protocol;
    const messages = (await this.pglite.execProtocolStream(
      concat([serialize.parse({ name, text }), serialize.describe({ type: "S", name }), serialize.sync()]),
      { syncToFs: false },
    )) as unknown as Message[];
    const parameters = messages.find((message) => message.name === "parameterDescription") as
      { dataTypeIDs: number[] } | undefined;
    const row = messages.find((message) => message.name === "rowDescription") as
      { fields: { name: string; dataTypeID: number }[] } | undefined;
    const prepared: Prepared = {
      name,
      parameterTypes: parameters?.dataTypeIDs ?? [],
      fields: row?.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID })) ?? [],
    };
    this.byText.set(text, prepared);
    if (this.byText.size > this.maxStatements) await this.closeLeastRecentlyUsed();
    return prepared;
  }

  private async closeLeastRecentlyUsed(): Promise<void> {
    const [text, oldest] = this.byText.entries().next().value as [string, Prepared];
    this.byText.delete(text);
    await this.close(oldest);
  }

  /** Closing a statement that no longer exists is not an error in PostgreSQL. */
  private async close(prepared: Prepared): Promise<void> {
    const { serialize } = protocol;
    await this.pglite.execProtocolStream(
      concat([serialize.close({ type: "S", name: prepared.name }), serialize.sync()]),
      {
        syncToFs: false,
      },
    );
  }

  private async execute<T>(
    prepared: Prepared,
    params: unknown[],
    options: QueryOptions | undefined,
  ): Promise<Results<T>> {
    const { serializers, parsers } = this.pglite;
    // As PGlite's own query: the caller's serializer for the type, else PGlite's, else toString().
    const values = params.map((value, index) => {
      if (value === null || value === undefined) return null;
      const type = prepared.parameterTypes[index]!;
      const serializer = options?.serializers?.[type] ?? serializers[type];
      return serializer ? serializer(value) : String(value);
    });
    const messages = (await this.pglite.execProtocolStream(bindExecuteSync(prepared.name, values), {
      syncToFs: false,
      ...(options?.onNotice ? { onNotice: options.onNotice } : {}),
    })) as unknown as Message[];
    return toResults<T>(messages, prepared.fields, options, parsers);
  }
}

/** The shape PGlite's `query` returns: rows as arrays or objects, parsed by type, with the command's counts. */
function toResults<T>(
  messages: Message[],
  fields: Prepared["fields"],
  options: QueryOptions | undefined,
  parsers: PGlite["parsers"],
): Results<T> {
  const parse = fields.map((field) => options?.parsers?.[field.dataTypeID] ?? parsers[field.dataTypeID]);
  const asArray = options?.rowMode === "array";
  const rows: unknown[] = [];
  const results: Results<T> = { rows: rows as T[], fields, affectedRows: 0 };
  for (const message of messages) {
    if (message.name === "dataRow") {
      const raw = message.fields as (string | null)[];
      const values = raw.map((value, index) => {
        if (value === null) return null;
        const parser = parse[index];
        return parser ? (parser as (text: string, type: number) => unknown)(value, fields[index]!.dataTypeID) : value;
      });
      rows.push(asArray ? values : Object.fromEntries(fields.map((field, index) => [field.name, values[index]])));
    } else if (message.name === "commandComplete") {
      const words = String(message.text).split(" ");
      const command = words[0]!;
      const count = Number.parseInt(words[words.length - 1]!, 10);
      results.command = command;
      if (!Number.isNaN(count)) {
        results.rowCount = count;
        if (["INSERT", "UPDATE", "DELETE", "COPY", "MERGE"].includes(command)) results.affectedRows = count;
      }
    }
  }
  return results;
}

function preparable(options: QueryOptions | undefined): boolean {
  return options?.blob === undefined && options?.paramTypes === undefined;
}

/** A prepared statement that must be parsed again: closed behind our back, or its table's columns changed. */
function isStale(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "26000" || (code === "0A000" && error.message.includes("cached plan must not change result type"));
}

/** PGlite attaches the statement to its errors; so does this path. */
function withQuery(error: unknown, text: string, params: unknown[], options: QueryOptions | undefined): unknown {
  if (error instanceof Error && "code" in error) Object.assign(error, { query: text, params, queryOptions: options });
  return error;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
