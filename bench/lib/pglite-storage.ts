/**
 * Benchmarks measure the embedded database where a user's `npm start` keeps it: PGlite on disk, in a data
 * folder (PGLITE_DIR's default), not the in-memory one the tests use. The two differ: in memory, every table
 * and WAL file is a JavaScript array that Emscripten's MEMFS copies whole each time it grows, and the whole
 * database lives in the process's memory (docs/benchmarks.md, "PGlite where a user keeps it").
 *
 * BENCH_PGLITE_STORAGE=memory measures the in-memory one instead (for a before/after against older figures).
 */
import { pgliteStorage, type PgliteStorage } from "../../test/helpers/database.ts";

/**
 * Chooses the storage of every PGlite database this process's fixtures open from now on
 * (test/helpers/database.ts reads TEST_PGLITE_STORAGE when each is opened) and returns it, for the bench to print.
 */
export function usePgliteStorageOfUsers(): PgliteStorage {
  process.env.TEST_PGLITE_STORAGE = process.env.BENCH_PGLITE_STORAGE ?? "disk";
  return pgliteStorage();
}
