/**
 * Relayer benchmark: relayed transfers per second sustained on the local chain, against the same
 * number of transfers sent directly with viem from one key, measured in the same run on the same
 * chain. Prints figures; asserts nothing about speed (it stops when a transfer does not land,
 * since a fast wrong figure is worthless).
 *
 * Real parts, as the relayer tests set them up (test/relayer/fixture.ts): Hardhat's in-process
 * EVM (automine) with the Stablerail contracts, the relayer migrations in a PGlite database on disk, as
 * `npm start` keeps it (bench/lib/pglite-storage.ts; BENCH_PGLITE_STORAGE=memory for the tests' in-memory one), the Redis at 127.0.0.1:6379 (TEST_REDIS_URL) under a unique key prefix, and the real
 * workers of relayer/start-relayer-workers.ts with the defaults a user gets (3 relayer keys,
 * concurrency 32 — BENCH_RELAYER_CONCURRENCY — 0 confirmations, and batches of up to 16 transfers sent
 * as one Settlement.settleAuthorizations — BENCH_RELAYER_BATCH_SIZE; 1 sends each transfer alone).
 *
 * Both sides carry the same transfers: EIP-3009 `transferWithAuthorization` of 1 unit from alice
 * to bob, signed by alice before the clock starts.
 * - relayed: every authorisation queued with `enqueueRelay` (as the API does), clock stopped when
 *   the last relay is `confirmed` in the relayer's database;
 * - direct: one funded key sends them itself with viem's `writeContract` (gas estimated, fees from
 *   the node, nonce counted locally), one after the other, clock stopped at the last receipt.
 * A warm-up of each side runs first; sides alternate for BENCH_ROUNDS rounds (median reported).
 * Each round also prints the JSON-RPC requests one transfer cost on each side, by method: both sides
 * reach the chain through one counting transport.
 *
 * The chain, the workers, PGlite and the benchmark share one Node process (and Redis runs beside it) on a
 * 2-core machine, so the figures are a floor; the ratio to the direct sends of the same run is the figure to read.
 * The load average is printed at the start and the end.
 *
 * Run: `hardhat run bench/relayer/relayed-transfers.ts` (BENCH_TRANSFERS per side per round, default 500;
 * BENCH_NODE_LATENCY_MS delays every request of both sides, as a node one round trip away would).
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

import { sql } from "drizzle-orm";
import { createPublicClient, createWalletClient, custom, getAddress, type Hash, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { z } from "zod";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { relayerEnv } from "../../lib/config/relayer.ts";
import { arrayLiteral } from "../../lib/db/array-literal.ts";
import { createRelayGateway } from "../../relayer/index.ts";

import { createRelayerFixture, REDIS_URL } from "../../test/relayer/fixture.ts";
import { HARDHAT_PRIVATE_KEYS } from "../../test/helpers/chain.ts";
import { percentile, printConditions } from "../lib/conditions.ts";
import { usePgliteStorageOfUsers } from "../lib/pglite-storage.ts";
import { profilePhase } from "../lib/profile-phase.ts";

// The settings a user gets (`relayerEnv` parsed from an empty environment: concurrency, batch
// size, confirmations, watch interval, lease, fee cap), unless a BENCH_ variable sets one.
const defaults = relayerEnv.toSettings(z.object(relayerEnv.shape).parse({}));
const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_RELAYER_CONCURRENCY ?? defaults.concurrency);
const BATCH_SIZE = Number(process.env.BENCH_RELAYER_BATCH_SIZE ?? defaults.batchSize);
const WARM_UP = 20;
const PRODUCERS = Number(process.env.BENCH_RELAYER_PRODUCERS ?? 32);
// A node one round trip away (a hosted RPC endpoint, a node in another zone): every request of both
// sides waits this long before the in-process chain answers it. 0, the default, is the chain in process.
const NODE_LATENCY_MS = Number(process.env.BENCH_NODE_LATENCY_MS ?? 0);

// Before the fixture opens its database.
const pgliteStorage = usePgliteStorageOfUsers();
const f = await createRelayerFixture("bench");
// Both sides reach the chain through one counting transport, so each round prints the JSON-RPC
// requests a transfer cost on each side, by method (where the chain's share of the time goes).
const requestsByMethod = new Map<string, number>();
const countingTransport = custom({
  request: async (call: { method: string; params?: unknown }) => {
    requestsByMethod.set(call.method, (requestsByMethod.get(call.method) ?? 0) + 1);
    if (NODE_LATENCY_MS > 0) await sleep(NODE_LATENCY_MS);
    return f.chain.provider.request(call as Parameters<typeof f.chain.provider.request>[0]);
  },
});
const chainDefinition = f.chain.publicClient.chain!;
const relayerClient = createPublicClient({
  chain: chainDefinition,
  transport: countingTransport,
  pollingInterval: 50,
}) as PublicClient;
const workers = await f.startWorkers(
  { ...defaults, concurrency: CONCURRENCY, batchSize: BATCH_SIZE },
  f.database,
  relayerClient,
);
// The producer the API uses: the job queued, then the relay recorded.
const gateway = createRelayGateway({ redisUrl: REDIS_URL, prefix: f.prefix, database: f.database });
// Hardhat's account #10: funded with ETH, used by neither the relayer (#0–#3) nor the token's roles (#0–#9).
const direct = createWalletClient({
  account: privateKeyToAccount(HARDHAT_PRIVATE_KEYS[10]),
  chain: chainDefinition,
  transport: countingTransport,
});
/** The requests counted since the last call, per transfer, most first; the count starts again. */
const requestsPerTransfer = (): string => {
  const counted = [...requestsByMethod].sort((a, b) => b[1] - a[1]);
  requestsByMethod.clear();
  const total = counted.reduce((sum, [, n]) => sum + n, 0) / TRANSFERS;
  return `${total.toFixed(2)} (${counted.map(([method, n]) => `${method} ${(n / TRANSFERS).toFixed(2)}`).join(", ")})`;
};
const runId = randomBytes(4).toString("hex");
type Signed = Awaited<ReturnType<typeof f.signTransfer>>;

const signMany = (count: number): Promise<Signed[]> =>
  Promise.all(Array.from({ length: count }, () => f.signTransfer(f.alice, f.bob.address, 1n)));

/** Queues every authorisation as a relay; resolves when all are final. @returns elapsed ms and latencies */
async function relayAll(label: string, transfers: Signed[]) {
  const ids: string[] = new Array(transfers.length);
  const started = performance.now();
  // PRODUCERS requests in flight at once, as an API serving many users queues them: one producer
  // awaiting each enqueue in turn would cap the relayer at the producer's speed.
  let next = 0;
  const produce = async () => {
    for (let i = next++; i < transfers.length; i = next++) {
      ids[i] = (
        await gateway.enqueueRelay({
          idempotencyKey: `bench.${runId}.${label}.${i}`,
          request: transfers[i]!,
          requestedBy: "bench",
        })
      ).relayId;
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, produce));
  // Polled as the relayer's own statements bind ids (one array parameter), and only for a window of
  // the ids not final yet: the poll shares the relayer's embedded database (one session: the relayer's
  // statements wait behind it), and counting all of a round's 1,500 ids every 50 ms took a tenth of that
  // database's time. Relays end roughly in queue order, so the window slides. The next poll waits 50 ms
  // unless this one found the whole window final (the ids behind it may be too): polling again at once
  // whenever some were final had the harness poll every 13 ms, 6 % of the database thread's time
  // (docs/benchmarks.md, 2026-12-07, sixth). The clock can stop up to 50 ms late: against the relayer.
  const open = [...ids];
  const WINDOW = 64;
  let polls = 0;
  while (open.length > 0) {
    const window = open.slice(0, WINDOW);
    polls += 1;
    const final = await f.database.query<{ relay_id: string }>(
      sql`SELECT relay_id FROM relays WHERE relay_id IN (SELECT unnest(${arrayLiteral(window)}::text[])) AND status IN ('confirmed', 'failed', 'expired', 'cancelled', 'dead')`,
    );
    const done = new Set(final.map((row) => row.relay_id));
    for (let i = open.length - 1; i >= 0; i -= 1) if (done.has(open[i]!)) open.splice(i, 1);
    if (open.length > 0 && done.size < window.length) await sleep(50);
  }
  const ms = performance.now() - started;
  const idList = sql`SELECT unnest(${arrayLiteral(ids)}::text[])`;
  const statuses = await f.database.query<{ status: string; count: string | number }>(
    sql`SELECT status, count(*) AS count FROM relays WHERE relay_id IN (${idList}) GROUP BY status`,
  );
  const failed = statuses.filter((row) => row.status !== "confirmed");
  if (failed.length > 0) {
    const reasons = await f.database.query<{ error_code: string; error_message: string; count: string | number }>(
      sql`SELECT error_code, left(error_message, 300) AS error_message, count(*) AS count FROM relays
          WHERE relay_id IN (${idList}) AND status <> 'confirmed' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5`,
    );
    throw new Error(`relays did not all confirm: ${JSON.stringify(statuses)}; ${JSON.stringify(reasons)}`);
  }
  const latencies = await f.database.query<{ ms: string | number }>(sql`
    SELECT extract(epoch FROM max(at) FILTER (WHERE status = 'confirmed') - min(at) FILTER (WHERE status = 'queued')) * 1000 AS ms
    FROM relay_transitions WHERE relay_id IN (${idList}) GROUP BY relay_id`);
  return { ms, polls, latencies: latencies.map((row) => Number(row.ms)).sort((a, b) => a - b) };
}

/** Sends every authorisation from one key, one after the other; resolves at the last receipt. */
async function sendAll(transfers: Signed[]) {
  let nonce = await f.chain.publicClient.getTransactionCount({ address: direct.account!.address, blockTag: "pending" });
  const hashes: Hash[] = [];
  const started = performance.now();
  for (const t of transfers) {
    hashes.push(
      await direct.writeContract({
        account: direct.account!,
        chain: direct.chain,
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        functionName: "transferWithAuthorization",
        args: [
          getAddress(t.from),
          getAddress(t.to),
          BigInt(t.value),
          BigInt(t.validAfter),
          BigInt(t.validBefore),
          t.nonce,
          t.signature,
        ],
        nonce: nonce++,
      }),
    );
  }
  await f.chain.publicClient.waitForTransactionReceipt({ hash: hashes[hashes.length - 1]! });
  const ms = performance.now() - started;
  for (const hash of hashes) {
    const receipt = await f.chain.publicClient.getTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`direct transfer ${hash} reverted`);
  }
  return { ms };
}

/** Runs `work` and measures the CPU time of the whole process (all threads) it took, in ms. */
async function cpuOf<T>(work: () => Promise<T>): Promise<{ result: T; cpu: number }> {
  const before = process.cpuUsage();
  const result = await work();
  const { user, system } = process.cpuUsage(before);
  return { result, cpu: (user + system) / 1000 };
}

const perSecond = (count: number, ms: number) => count / (ms / 1000);
/** The median; of an even count, the mean of the middle two (of two rounds, not the faster one). */
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(52)} ${value}\n`);

try {
  printConditions("start");
  line("PGlite's storage (BENCH_PGLITE_STORAGE)", pgliteStorage);
  const bobBefore = (await f.token.balanceOf(f.bob.address)) as bigint;
  await sendAll(await signMany(WARM_UP));
  await relayAll("warm-up", await signMany(WARM_UP));

  const directRates: number[] = [];
  const relayedRates: number[] = [];
  const latencies: number[] = [];
  const cpu = { direct: [] as number[], relayed: [] as number[] };
  const cores: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const [forDirect, forRelay] = [await signMany(TRANSFERS), await signMany(TRANSFERS)];
    requestsByMethod.clear();
    const { result: sent, cpu: sentCpu } = await cpuOf(() => sendAll(forDirect));
    const directRequests = requestsPerTransfer();
    const { result: relayed, cpu: relayedCpu } = await cpuOf(() =>
      profilePhase(`relayer-round-${round}`, () => relayAll(`round-${round}`, forRelay)),
    );
    const relayedRequests = requestsPerTransfer();
    cpu.direct.push(sentCpu / TRANSFERS);
    cpu.relayed.push(relayedCpu / TRANSFERS);
    cores.push(relayedCpu / relayed.ms);
    directRates.push(perSecond(TRANSFERS, sent.ms));
    relayedRates.push(perSecond(TRANSFERS, relayed.ms));
    latencies.push(...relayed.latencies);
    line(
      `round ${round}: ${TRANSFERS} transfers per side`,
      `direct ${directRates.at(-1)!.toFixed(1)}/s (${(sent.ms / 1000).toFixed(2)} s), ` +
        `relayed ${relayedRates.at(-1)!.toFixed(1)}/s (${(relayed.ms / 1000).toFixed(2)} s); ` +
        `CPU per transfer ${cpu.direct.at(-1)!.toFixed(2)} / ${cpu.relayed.at(-1)!.toFixed(2)} ms ` +
        `(relaying kept ${cores.at(-1)!.toFixed(2)} of ${availableParallelism()} cores busy)`,
    );
    line(`  chain requests per transfer, direct`, directRequests);
    line(`  chain requests per transfer, relayed`, relayedRequests);
    line(`  polls of the relayer's database until all final`, String(relayed.polls));
  }
  const expected = bobBefore + BigInt(2 * (WARM_UP + ROUNDS * TRANSFERS));
  const bobAfter = (await f.token.balanceOf(f.bob.address)) as bigint;
  if (bobAfter !== expected) throw new Error(`bob holds ${bobAfter}, expected ${expected}`);
  // Every key's mined transactions hold contiguous nonces, each once, up to its count on chain
  // (the fixture's set-up may have used a key before the relayer did).
  const perKey = await f.database.query<{ relayer: string; nonces: number[] | string }>(
    sql`SELECT relayer, array_agg(nonce ORDER BY nonce) AS nonces FROM relayer_transactions WHERE status = 'mined' GROUP BY relayer`,
  );
  for (const { relayer, nonces } of perKey) {
    const list = (typeof nonces === "string" ? nonces.slice(1, -1).split(",") : nonces).map(Number);
    const onChain = await f.chain.publicClient.getTransactionCount({
      address: getAddress(relayer),
      blockTag: "latest",
    });
    const first = list[0] ?? 0;
    if (list.some((nonce, index) => nonce !== first + index) || first + list.length !== onChain)
      throw new Error(`relayer ${relayer}: mined nonces are not ${first}..${onChain - 1} once each`);
  }

  const [d, r] = [median(directRates), median(relayedRates)];
  latencies.sort((a, b) => a - b);
  if (NODE_LATENCY_MS > 0) line("node latency added to every request", `${NODE_LATENCY_MS} ms`);
  line("direct with viem, one key (median)", `${d.toFixed(1)} transfers/s`);
  line(`relayed, 3 keys, concurrency ${CONCURRENCY}, batch ${BATCH_SIZE} (median)`, `${r.toFixed(1)} transfers/s`);
  line("relayed / direct", `${(r / d).toFixed(2)}×`);
  // The whole process's CPU (every thread: the chain, the relayer, PGlite's worker) per transfer.
  // Relaying runs the chain and the relayer; sending directly runs the chain and viem.
  line(
    "CPU per transfer, direct / relayed (median)",
    `${median(cpu.direct).toFixed(2)} / ${median(cpu.relayed).toFixed(2)} ms: ${(median(cpu.relayed) / median(cpu.direct)).toFixed(2)}×`,
  );
  // For bench/run-all.ts: the relayer's throughput against its load (concurrent producers), in the report's chart.
  process.stdout.write(
    `BENCH_FIGURE ${JSON.stringify({ bench: "relayer", producers: PRODUCERS, batch: BATCH_SIZE, defaults: BATCH_SIZE === defaults.batchSize && CONCURRENCY === defaults.concurrency && NODE_LATENCY_MS === 0, relayedPerSecond: r, directPerSecond: d, ratio: r / d })}\n`,
  );
  line(
    "relay latency, queued → confirmed",
    `p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms`,
  );
  printConditions("end");
} finally {
  await gateway.close();
  await workers.close();
  await f.close();
}
