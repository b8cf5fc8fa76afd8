/**
 * The worker thread that owns an embedded PGlite database (see pglite-thread.ts for why): it opens
 * the instance in `workerData.dataDir` (memory when absent), with its statements prepared once
 * (pglite-prepared.ts), and answers the main thread's requests one message each. PGlite's own locks
 * order them: a statement outside a transaction waits while one is open, as in one process.
 *
 * Only erasable TypeScript here and in what it imports: a worker starts without the parent's
 * loader hooks, so Node's own type stripping may be what loads it.
 */
import { parentPort, workerData } from "node:worker_threads";

import { PGlite, type QueryOptions, type Results, type Transaction } from "@electric-sql/pglite";

import { withPreparedStatements } from "./pglite-prepared.ts";
import type { PgliteReply, PgliteRequest, SerializedError } from "./pglite-thread-protocol.ts";

const port = parentPort;
if (!port) throw new Error("pglite-worker.ts runs as a worker thread (see pglite-thread.ts)");

const { dataDir } = workerData as { dataDir?: string };
const pglite = await PGlite.create(dataDir)
  .then((instance) => withPreparedStatements(instance))
  .catch((error: unknown) => {
    port.postMessage({ id: 0, error: serializeError(error) } satisfies PgliteReply);
    throw error;
  });

/** Open transactions by id: PGlite's handle, and how the main thread ends it. */
const transactions = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<void> }>();
let transactionSequence = 0;
// Thrown into PGlite's transaction callback to make it roll back; never seen by the main thread.
const ROLLBACK = Symbol("rollback");

async function handle(request: PgliteRequest): Promise<unknown> {
  switch (request.op) {
    case "query": {
      const on = request.transaction === undefined ? pglite : transactionOf(request.transaction);
      return on.query(request.text, request.params, queryOptions(request.rowMode, request.rawTypes));
    }
    case "exec": {
      const on = request.transaction === undefined ? pglite : transactionOf(request.transaction);
      return on.exec(request.text);
    }
    case "begin":
      return begin();
    case "end": {
      const open = transactions.get(request.transaction);
      if (!open) throw new Error("Transaction is closed");
      transactions.delete(request.transaction);
      open.end(request.commit);
      await open.done.catch((error: unknown) => {
        if (error !== ROLLBACK) throw error;
      });
      return undefined;
    }
    case "close":
      await pglite.close();
      return undefined;
  }
}

/** Opens a transaction and resolves with its id once BEGIN ran (after any transaction before it). */
function begin(): Promise<number> {
  return new Promise<number>((opened, failed) => {
    const done = pglite.transaction(
      (tx) =>
        new Promise<void>((commit, rollback) => {
          const id = ++transactionSequence;
          transactions.set(id, { tx, end: (yes) => (yes ? commit() : rollback(ROLLBACK)), done });
          opened(id);
        }),
    );
    // BEGIN itself failed: no id was handed out.
    done.catch((error: unknown) => {
      if (error !== ROLLBACK) failed(error);
    });
  });
}

function transactionOf(id: number): Transaction {
  const open = transactions.get(id);
  if (!open) throw new Error("Transaction is closed");
  return open.tx;
}

/** The caller's options as PGlite takes them: the types it asked to keep as text get the identity parser. */
function queryOptions(rowMode: "array" | "object" | undefined, rawTypes: number[] | undefined): QueryOptions {
  const options: QueryOptions = rowMode ? { rowMode } : {};
  if (rawTypes?.length) options.parsers = Object.fromEntries(rawTypes.map((type) => [type, (text: string) => text]));
  return options;
}

/** What crosses the thread boundary of an error: its message and its own data (code, detail, …), no functions. */
function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { message: String(error), properties: {} };
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === "queryOptions" || key === "params" || typeof value === "function") continue;
    properties[key] = value;
  }
  return { message: error.message, name: error.name, properties };
}

const reply = (message: PgliteReply) => {
  try {
    port.postMessage(message);
  } catch (error) {
    // A value the structured clone cannot carry: the caller gets that as its error, not silence.
    port.postMessage({ id: message.id, error: serializeError(error) } satisfies PgliteReply);
  }
};

port.on("message", (request: PgliteRequest) => {
  handle(request).then(
    (result) => reply({ id: request.id, result: result as Results | Results[] | number | undefined }),
    (error: unknown) => reply({ id: request.id, error: serializeError(error) }),
  );
});
reply({ id: 0, result: undefined });
