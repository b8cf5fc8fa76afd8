import type { Logger } from "../logging/logger.ts";

export type Closer = { name: string; close: () => Promise<void> | void };

export type Shutdown = {
  /** Registers something to close; closers run in reverse order of registration (last opened, first closed). */
  register: (closer: Closer) => void;
  /** Closes everything once; later calls return the same promise. */
  close: (reason: string) => Promise<void>;
  /** Resolves when `close` has finished. */
  closed: Promise<void>;
};

export type CreateShutdownParameters = {
  logger: Logger;
  timeoutMs: number;
  /** Install SIGINT/SIGTERM handlers that call `close` (true for processes, false in tests). */
  handleSignals?: boolean;
  /** Called after a close that hit the timeout or failed; defaults to exiting with code 1. */
  onForced?: () => void;
};

/**
 * The one shutdown path of a process: SIGINT/SIGTERM close servers, workers and the indexer
 * in order, with a hard timeout as a backstop so a hung socket cannot keep the process alive.
 * @example
 * const shutdown = createShutdown({ logger, timeoutMs: 10_000, handleSignals: true });
 * shutdown.register({ name: "http", close: () => app.close() });
 */
export function createShutdown({
  logger,
  timeoutMs,
  handleSignals = false,
  onForced,
}: CreateShutdownParameters): Shutdown {
  const closers: Closer[] = [];
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  const runClosers = async (reason: string) => {
    logger.info({ reason }, "shutting down");
    let failed = false;
    for (const closer of [...closers].reverse()) {
      try {
        await closer.close();
        logger.debug({ component: closer.name }, "closed");
      } catch (error) {
        failed = true;
        logger.error({ err: error, component: closer.name }, "close failed");
      }
    }
    if (failed) throw new Error("one or more components failed to close");
  };

  const close = (reason: string) => {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
        timer.unref();
      });
      try {
        const outcome = await Promise.race([runClosers(reason).then(() => "done" as const), deadline]);
        if (outcome === "timeout") {
          logger.error({ timeoutMs }, "graceful shutdown timed out; forcing exit");
          (onForced ?? (() => process.exit(1)))();
        }
      } catch {
        (onForced ?? (() => process.exit(1)))();
      } finally {
        clearTimeout(timer);
        resolveClosed();
      }
    })();
    return closing;
  };

  if (handleSignals) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => void close(signal));
    }
  }

  return { register: (closer) => closers.push(closer), close, closed };
}
