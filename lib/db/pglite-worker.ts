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

/**
 * Open transactions by the main thread's id: PGlite's handle once BEGIN ran (`ready`), how the main
 * thread ends it, and PGlite's own promise of it. `ready` rejects with BEGIN's error, which every
 * statement of the transaction and its end then answer with.
 */
const transactions = new Map<
  number,
  { ready: Promise<Transaction>; end: (commit: boolean) => void; done: Promise<void> }
>();
// Thrown into PGlite's transaction callback to make it roll back; never seen by the main thread.
const ROLLBACK = Symbol("rollback");

async function handle(request: PgliteRequest): Promise<unknown> {
  switch (request.op) {
    case "query": {
      const on = request.transaction === undefined ? pglite : await transactionOf(request.transaction);
      return on.query(request.text, request.params, queryOptions(request.rowMode, request.rawTypes));
    }
    case "exec": {
      const on = request.transaction === undefined ? pglite : await transactionOf(request.transaction);
      return on.exec(request.text);
    }
    case "end": {
      const open = transactions.get(request.transaction);
      if (!open) throw new Error("Transaction is closed");
      transactions.delete(request.transaction);
      await open.ready;
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

/**
 * Opens transaction `id` (after any transaction before it: PGlite's lock). Nothing is answered: the
 * main thread sends the transaction's first statement right behind this message, and that statement
 * waits for BEGIN here — one round trip between the threads less per transaction.
 */
function begin(id: number): void {
  let opened!: (tx: Transaction) => void;
  let failed!: (error: unknown) => void;
  const ready = new Promise<Transaction>((resolve, reject) => {
    opened = resolve;
    failed = reject;
  });
  // Answered through the transaction's statements; never left as an unhandled rejection here.
  ready.catch(() => undefined);
  let finish: ((commit: boolean) => void) | undefined;
  const done = pglite.transaction(
    (tx) =>
      new Promise<void>((commit, rollback) => {
        finish = (yes) => (yes ? commit() : rollback(ROLLBACK));
        opened(tx);
      }),
  );
  // BEGIN itself failed: `ready` carries the error (after BEGIN, rejecting it is a no-op).
  done.catch((error: unknown) => {
    if (error !== ROLLBACK) failed(error);
  });
  transactions.set(id, { ready, end: (yes) => finish?.(yes), done });
}

function transactionOf(id: number): Promise<Transaction> {
  const open = transactions.get(id);
  if (!open) throw new Error("Transaction is closed");
  return open.ready;
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
  if (request.op === "begin") return begin(request.transaction);
  handle(request).then(
    (result) => reply({ id: request.id, result: result as Results | Results[] | number | undefined }),
    (error: unknown) => reply({ id: request.id, error: serializeError(error) }),
  );
});
reply({ id: 0, result: undefined });
