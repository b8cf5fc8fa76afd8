import { Worker } from "node:worker_threads";

import type { PGlite, QueryOptions, Results, Transaction } from "@electric-sql/pglite";

import { UnavailableError } from "../errors/base.ts";
import type { PgliteReply, PgliteRequest, SerializedError } from "./pglite-thread-protocol.ts";

/** What the embedded database's callers use of a PGlite instance (drizzle's driver and openDatabase). */
export type PgliteClient = Pick<PGlite, "query" | "exec" | "transaction" | "close">;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A call waiting for its answer. `origin`: where it was made; its stack is formatted only when the call fails. */
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; origin: Error };

/**
 * An embedded PGlite database that runs in a worker thread of this process (pglite-worker.ts),
 * behind the part of PGlite's interface the stack uses: `query`, `exec`, `transaction`, `close`.
 *
 * Why: PGlite is PostgreSQL compiled to WebAssembly, and in the caller's thread every statement runs
 * on the event loop — the API's requests, the relayer's jobs and the indexer's fetches wait while it
 * plans and executes (a third to a half of those services' main-thread time in the benchmarks). In
 * a worker it executes on another core while the event loop goes on; each statement costs a message
 * each way instead. Semantics stay PGlite's: one session, statements in arrival order, a statement
 * outside a transaction waiting while one is open (PGlite's own locks, in the worker).
 *
 * Values cross by structured clone, so what cannot be cloned is refused here: a caller's
 * parsers other than "keep the text" (drizzle's for dates and intervals), serializers, notices,
 * blobs. Errors keep PGlite's fields (code, detail, constraint, …) and get this thread's stack.
 * When the worker dies, every call in flight and after fails with DATABASE_UNAVAILABLE.
 */
export async function openPgliteThread(dataDir: string | undefined): Promise<PgliteClient> {
  const worker = new Worker(new URL("./pglite-worker.ts", import.meta.url), { workerData: { dataDir } });
  const pending = new Map<number, Pending>();
  let sequence = 0;
  let transactionSequence = 0;
  let failure: Error | undefined;

  // The thread keeps the process alive only while a call waits on it, as an in-process database would.
  worker.unref();
  const settle = (id: number) => {
    const call = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return call;
  };
  const failAll = (error: Error) => {
    failure ??= error;
    for (const id of [...pending.keys()]) settle(id)?.reject(failure);
  };
  worker.on("message", (reply: PgliteReply) => {
    const call = settle(reply.id);
    if (!call) return;
    if (reply.error) call.reject(rebuildError(reply.error, call.origin));
    else call.resolve(reply.result);
  });
  worker.on("error", (error) =>
    failAll(
      new UnavailableError("DATABASE_UNAVAILABLE", `The embedded database failed: ${error.message}`, { cause: error }),
    ),
  );
  worker.on("exit", (code) =>
    failAll(new UnavailableError("DATABASE_UNAVAILABLE", `The embedded database's thread exited (code ${code})`)),
  );

  const wait = <T>(id: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject, origin: new Error() });
    });
  const request = <T>(message: DistributiveOmit<PgliteRequest, "id">): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = ++sequence;
    const answer = wait<T>(id);
    try {
      worker.postMessage({ ...message, id });
    } catch (error) {
      // A parameter the structured clone cannot carry (a function, a class with private state).
      settle(id)?.reject(error as Error);
    }
    return answer;
  };

  // Id 0: the worker's answer once the database is open (or why it could not open).
  await wait<void>(0);

  const query = <T>(text: string, params: unknown[] = [], options?: QueryOptions, transaction?: number) =>
    request<Results<T>>({ op: "query", text, params, ...transferableOptions(options), transaction });
  const exec = (text: string, transaction?: number) => request<Results[]>({ op: "exec", text, transaction });

  const transaction = async <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> => {
    if (failure) throw failure;
    // BEGIN goes unanswered: the first statement follows it at once and carries its error, if any.
    const id = ++transactionSequence;
    worker.postMessage({ op: "begin", transaction: id, id: 0 } satisfies PgliteRequest);
    let closed = false;
    const end = (commit: boolean) => {
      closed = true;
      return request<void>({ op: "end", transaction: id, commit });
    };
    const open = () => {
      if (closed) throw new Error("Transaction is closed");
    };
    const tx: Transaction = {
      query: async <R>(text: string, params?: unknown[], options?: QueryOptions) => {
        open();
        return query<R>(text, params, options, id);
      },
      sql: () => {
        throw new Error("sql`` is not supported on the embedded database's thread; use query");
      },
      exec: async (text: string) => {
        open();
        return exec(text, id);
      },
      rollback: async () => {
        open();
        await end(false);
      },
      listen: () => {
        throw new Error("LISTEN is not supported on the embedded database's thread");
      },
      get closed() {
        return closed;
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      if (!closed) await end(false).catch(() => undefined);
      throw error;
    }
    if (!closed) await end(true);
    return result;
  };

  return {
    query: query as PgliteClient["query"],
    exec: ((text: string) => exec(text)) as PgliteClient["exec"],
    transaction: transaction as PgliteClient["transaction"],
    close: async () => {
      if (!failure) await request<void>({ op: "close" }).catch(() => undefined);
      failure ??= new UnavailableError("DATABASE_UNAVAILABLE", "The embedded database is closed");
      await worker.terminate();
    },
  };
}

/** The options a query can carry to the worker: the row shape, and which types to leave as text. */
function transferableOptions(options: QueryOptions | undefined): { rowMode?: "array" | "object"; rawTypes?: number[] } {
  if (!options) return {};
  if (options.serializers || options.blob || options.onNotice || options.paramTypes)
    throw new Error(
      "serializers, blobs, notices and parameter types are not supported on the embedded database's thread",
    );
  const rawTypes: number[] = [];
  for (const [type, parser] of Object.entries(options.parsers ?? {})) {
    // A parser that returns its text unchanged (drizzle's, for dates, times and intervals) is carried
    // as "leave this type as text"; any other would have to run here, on values already parsed.
    if ((parser as (text: string, type: number) => unknown)("\u0000probe", Number(type)) !== "\u0000probe")
      throw new Error(
        `a parser for type ${type} that changes the text is not supported on the embedded database's thread`,
      );
    rawTypes.push(Number(type));
  }
  return { ...(options.rowMode ? { rowMode: options.rowMode } : {}), ...(rawTypes.length ? { rawTypes } : {}) };
}

/** The worker's error as this thread throws it: PGlite's fields, this thread's stack (where the call was made). */
function rebuildError({ message, name, properties }: SerializedError, origin: Error): Error {
  const error = Object.assign(new Error(message), properties);
  if (name) error.name = name;
  const stack = origin.stack;
  if (stack) error.stack = `${error.name}: ${message}\n${stack.split("\n").slice(2).join("\n")}`;
  return error;
}
