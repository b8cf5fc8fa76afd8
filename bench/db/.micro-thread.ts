import { PGlite } from "@electric-sql/pglite";
import { openPgliteThread } from "../../lib/db/pglite-thread.ts";
import { withPreparedStatements } from "../../lib/db/pglite-prepared.ts";

const N = 3000;
async function run(label: string, db: { query: (t: string, p?: unknown[]) => Promise<unknown>; exec: (t: string) => Promise<unknown>; transaction: (fn: (tx: any) => Promise<unknown>) => Promise<unknown> }) {
  await db.exec("CREATE TABLE IF NOT EXISTS t (id int primary key, v text)");
  await db.exec("INSERT INTO t SELECT g, 'x' || g FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING");
  for (let i = 0; i < 300; i++) await db.query("SELECT * FROM t WHERE id = $1", [i % 1000]);
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await db.query("SELECT * FROM t WHERE id = $1", [i % 1000]);
  const c1 = process.cpuUsage(c0); const t1 = performance.now();
  const c2 = process.cpuUsage(); const t2 = performance.now();
  for (let i = 0; i < N / 10; i++) await db.transaction(async (tx) => { for (let j = 0; j < 3; j++) await tx.query("SELECT * FROM t WHERE id = $1", [j]); });
  const c3 = process.cpuUsage(c2); const t3 = performance.now();
  console.log(label, "read: wall", ((t1 - t0) * 1000 / N).toFixed(0), "µs cpu", ((c1.user + c1.system) / N).toFixed(0), "µs | tx(3 reads): wall", ((t3 - t2) * 1000 / (N / 10)).toFixed(0), "µs cpu", ((c3.user + c3.system) / (N / 10)).toFixed(0), "µs");
}
const inproc = await withPreparedStatements(await PGlite.create());
await run("in-process", inproc as never);
const thread = await openPgliteThread(undefined);
await run("thread    ", thread as never);
await run("in-process", inproc as never);
await run("thread    ", thread as never);
await thread.close();
