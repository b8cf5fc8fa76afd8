import type { PgliteClient } from "./pglite-thread.ts";

/** The embedded database's housekeeping loop: {@link startPgliteMaintenance}. */
export type PgliteMaintenance = {
  /** Runs one round now (what the timer does): vacuums and analyzes the tables that need it. */
  runOnce: () => Promise<void>;
  /** Stops the timer and waits for a round in flight. */
  stop: () => Promise<void>;
};

// PostgreSQL's autovacuum defaults: a table is vacuumed once its dead rows pass 50 + 20 % of its
// live ones, analyzed once the rows changed since its last analysis pass 50 + 10 %.
const TABLES_DUE = `
  SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS name,
         n_dead_tup > 50 + 0.2 * n_live_tup AS vacuum
  FROM pg_stat_user_tables
  WHERE n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup`;

/**
 * Autovacuum for embedded PGlite, which has none: PostgreSQL in one process runs no background
 * workers, so every updated or deleted row stays behind as a dead version, and the tables' statistics
 * never refresh. A relayer record is rewritten at each step of its relay, so dead versions outnumbered
 * live ones 3 to 1 after 4,500 relays and each relay's statements slowed with them (the relayer
 * benchmark fell from 212 to 89 relays/s over three rounds of 1,500; with a VACUUM between rounds it
 * held 250–267). Every `intervalMs`, this finds the tables past autovacuum's default thresholds and
 * runs `VACUUM (ANALYZE)` (or `ANALYZE`) on them, as autovacuum would. Each runs as one statement on
 * the database's single session, between transactions, so it only delays the statements behind it
 * (tens of milliseconds for a table of thousands of rows).
 * @returns a handle to run a round now (tests) or stop the loop (on close)
 */
export function startPgliteMaintenance(client: PgliteClient, intervalMs: number): PgliteMaintenance {
  let running: Promise<void> | undefined;
  let stopped = false;

  const round = async () => {
    const { rows } = await client.query<{ name: string; vacuum: boolean }>(TABLES_DUE);
    for (const table of rows) {
      if (stopped) return;
      await client.exec(`${table.vacuum ? "VACUUM (ANALYZE)" : "ANALYZE"} ${table.name}`);
    }
  };
  const runOnce = (): Promise<void> => {
    // One round at a time: a slow round is not stacked on by the next tick.
    running ??= round().finally(() => (running = undefined));
    return running;
  };

  const timer =
    intervalMs > 0
      ? setInterval(() => {
          // Housekeeping never fails a caller: a table dropped meanwhile, or the database closing,
          // ends this round; the next one starts afresh.
          if (!running) runOnce().catch(() => undefined);
        }, intervalMs)
      : undefined;
  // Housekeeping alone does not keep the process alive.
  timer?.unref();

  return {
    runOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
