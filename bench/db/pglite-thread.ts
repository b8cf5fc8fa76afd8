/**
 * What the embedded database's worker thread costs per statement (printed, not asserted):
 * PGlite in the caller's thread with prepared statements (PGLITE_THREAD=false, the baseline)
 * against PGlite in its worker thread (lib/db/pglite-thread.ts, the default), on the same data, in
 * alternating rounds.
 *
 * Rows: a primary-key read outside a transaction (the API's wallet lookup); a transaction of three
 * reads (BEGIN goes unanswered in the thread, so it costs one round trip less than it has
 * statements); 16 such reads in flight at once (the thread overlaps nothing for one session, but
 * the caller's event loop stays free). CPU is the whole process's, worker included. Each row prints
 * µs per operation, wall and CPU, and the thread's ratio to the caller's thread.
 *
 * Run: `tsx bench/db/pglite-thread.ts` (BENCH_PGLITE_THREAD_OPERATIONS = 3,000 per row and path).
 */
import { PGlite } from "@electric-sql/pglite";

import { withPreparedStatements } from "../../lib/db/pglite-prepared.ts";
import { openPgliteThread, type PgliteClient } from "../../lib/db/pglite-thread.ts";
import { compareAlternating, type AlternatingOperation } from "../lib/alternating-paths.ts";
import { printConditions } from "../lib/conditions.ts";

const OPERATIONS = Number(process.env.BENCH_PGLITE_THREAD_OPERATIONS ?? 3_000);
const ROUNDS = 4;

const schema = `
  CREATE TABLE wallets (id int PRIMARY KEY, address text NOT NULL, encrypted_key text NOT NULL);
  INSERT INTO wallets SELECT g, '0x' || md5(g::text), repeat('k', 200) FROM generate_series(1, 1000) g;
  ANALYZE wallets;`;
const read = "SELECT id, address, encrypted_key FROM wallets WHERE id = $1";

const operations: AlternatingOperation<PgliteClient>[] = [
  { name: "primary-key read", run: (db, i) => db.query(read, [(i % 1000) + 1]) },
  {
    name: "transaction of 3 reads",
    run: (db, i) =>
      db.transaction(async (tx) => {
        for (let k = 0; k < 3; k++) await tx.query(read, [((i + k) % 1000) + 1]);
      }),
  },
  {
    name: "16 reads in flight",
    unitsPerCall: 16,
    run: (db, i) => Promise.all(Array.from({ length: 16 }, (_, k) => db.query(read, [((i * 16 + k) % 1000) + 1]))),
  },
];

const inProcess = withPreparedStatements(await PGlite.create());
const thread = await openPgliteThread(undefined);
const paths: [string, PgliteClient][] = [
  ["caller's thread", inProcess],
  ["worker thread (default)", thread],
];
for (const [, db] of paths) await db.exec(schema);

printConditions("start");
console.log(`\nPGlite in the caller's thread vs its worker thread, ${OPERATIONS} operations per row and path`);
await compareAlternating({ paths, operations, units: OPERATIONS, rounds: ROUNDS, label: "operation" });
printConditions("end");
await Promise.all(paths.map(([, db]) => db.close()));
