/** The messages between the main thread's PGlite client (pglite-thread.ts) and its worker (pglite-worker.ts). */
export type PgliteRequest = { id: number } & (
  | {
      op: "query";
      text: string;
      params: unknown[];
      rowMode?: "array" | "object";
      /** Type OIDs whose values come back as the server's text (a caller's identity parsers). */
      rawTypes?: number[];
      transaction?: number;
    }
  | { op: "exec"; text: string; transaction?: number }
  /** Answered by nothing: the transaction's next message (a statement or its end) waits for it in the worker. */
  | { op: "begin"; transaction: number }
  | { op: "end"; transaction: number; commit: boolean }
  | { op: "close" }
);

/** An error as it crosses the thread boundary: PGlite's fields (code, detail, constraint, …) kept. */
export type SerializedError = { message: string; name?: string; properties: Record<string, unknown> };

/** Id 0 is the worker's "ready" (or its failure to open the database). */
export type PgliteReply = { id: number } & ({ result: unknown; error?: undefined } | { error: SerializedError });
