import { getHeapSpaceStatistics } from "node:v8";

/**
 * Node flags of the processes that run the indexer (`npm start`, `npm run indexer`), kept here so the
 * package scripts, the benchmarks that start our indexer and the test that checks them agree.
 *
 * `--max-semi-space-size=64` (MiB; Node 22's default is 16): the indexer works in batches (about 5,000
 * logs fetched, decoded, journalized and turned into COPY lines, with the next batch's fetch in flight),
 * and a batch's objects live until its transaction commits. With the default young generation each
 * scavenge found most of the batch alive and copied it: on 100,000 events at 1,000 per block,
 * PostgreSQL, 118–120 scavenges and 0.8–1.0 s of the main thread during a 4.7–5.5 s cold start; with 64
 * MiB, 28 scavenges and 0.46–0.48 s (docs/benchmarks.md, issue 17). V8 reads the flag when the heap is
 * created, so it must be on the command line (`v8.setFlagsFromString` later changes nothing).
 */
export const INDEXER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

/** The young generation's current capacity in MiB (V8's `new_space`), as the benchmarks print it. */
export function youngGenerationMiB(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return Math.round((space?.space_size ?? 0) / 1024 / 1024);
}

/** Whether this process was started with every flag of {@link INDEXER_NODE_FLAGS}. */
export function hasIndexerNodeFlags(): boolean {
  return INDEXER_NODE_FLAGS.every((flag) => process.execArgv.includes(flag));
}
