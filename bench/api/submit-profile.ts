/**
 * CPU profile of the API submit (custodial transfer): N submissions one after another through
 * app.inject (no HTTP client in the process), with Node's inspector profiler running only while
 * they run. Prints CPU ms per request (process.cpuUsage over the loop ÷ requests) for GET
 * /v1/wallets/:id (the baseline: the same auth and wallet lookup) and the submit, and the functions
 * and files where the submit's samples fell (self time).
 *
 * The submits rotate over several users (a wallet each), so none passes the default rules'
 * VELOCITY_COUNT (more than 200 movements in an hour goes to review): every measured submit takes
 * the path a user gets — recorded, queued and relayed — not the held one. The run checks it.
 *
 * Run: `hardhat run bench/api/submit-profile.ts` (BENCH_PROFILE_REQUESTS, default 300;
 * BENCH_ENGINES, default "postgres"; BENCH_PROFILE_OUT, a path to write the .cpuprofile to;
 * BENCH_PROFILE_LIST=1 prints every SQL statement and Redis command of the counted submits).
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { Worker } from "node:worker_threads";

import pg from "pg";
import { Redis } from "ioredis";

import { createApiFixture } from "../../test/api/helpers/api-fixture.ts";
import { ONE } from "../../test/helpers/stablecoin.ts";
import { printConditions } from "../lib/conditions.ts";

const REQUESTS = Number(process.env.BENCH_PROFILE_REQUESTS ?? 300);
const ENGINES = (process.env.BENCH_ENGINES ?? "postgres").split(",") as ("pglite" | "postgres")[];
// Warm-up, the plain loop, the count and the profiled loop all submit; each sender stays under 150.
const SUBMITS = 50 + 2 * REQUESTS + 20;
const SENDERS = Math.ceil(SUBMITS / 150);
const line = (text: string) => process.stdout.write(`${text}\n`);

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

async function profileEngine(engine: "pglite" | "postgres"): Promise<void> {
  const api = await createApiFixture(`bench_profile_${engine}`, { engine, relay: "queue", rateLimitPerMinute: 1e9 });
  try {
    const senders: { key: string; walletId: string }[] = [];
    for (let i = 0; i < SENDERS; i += 1) {
      const user = await api.createUser("user", `bench${i}`);
      const wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body as { id: string };
      const { address } = (await api.request("GET", `/v1/wallets/${wallet.id}`, { key: user.key })).body as {
        address: `0x${string}`;
      };
      await api.fund(address, (400n * ONE) / BigInt(SENDERS));
      senders.push({ key: user.key, walletId: wallet.id });
    }
    const [{ key, walletId }] = senders as [(typeof senders)[number]];
    const statuses = new Map<string, number>();
    let turn = 0;
    const submit = async () => {
      const sender = senders[turn++ % senders.length]!;
      const response = await api.request("POST", `/v1/wallets/${sender.walletId}/transfers`, {
        key: sender.key,
        idempotencyKey: `bench-${randomBytes(12).toString("hex")}`,
        body: { to: "0x000000000000000000000000000000000000bEEF", amount: "1" },
      });
      if (response.status !== 202 && response.status !== 201 && response.status !== 200)
        throw new Error(`submit answered ${response.status}: ${JSON.stringify(response.body)}`);
      const status = String((response.body as { status?: unknown }).status);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    };
    const read = async () => {
      const response = await api.request("GET", `/v1/wallets/${walletId}`, { key });
      if (response.status !== 200) throw new Error(`read answered ${response.status}`);
    };
    const cpuPer = async (operation: () => Promise<void>, n: number) => {
      const cpu = process.cpuUsage();
      const server = postgresTicks();
      const started = performance.now();
      for (let i = 0; i < n; i += 1) await operation();
      const used = process.cpuUsage(cpu);
      return {
        cpuMs: (used.user + used.system) / 1000 / n,
        wallMs: (performance.now() - started) / n,
        serverMs: ((postgresTicks() - server) * 10) / n,
      };
    };
    for (let i = 0; i < 50; i += 1) await read();
    for (let i = 0; i < 50; i += 1) await submit();
    const baseline = await cpuPer(read, REQUESTS);
    const plain = await cpuPer(submit, REQUESTS);
    const counts = await countRoundTrips(api, submit);
    const readCounts = await countRoundTrips(api, read);

    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    const threadsBefore = threadTimes();
    const measured = await cpuPer(submit, REQUESTS);
    const threadsAfter = threadTimes();
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
    session.disconnect();
    if (process.env.BENCH_PROFILE_OUT)
      writeFileSync(`${process.env.BENCH_PROFILE_OUT}.${engine}.cpuprofile`, JSON.stringify(profile));

    line("");
    line(`${engine}: ${REQUESTS} requests each, one after another (app.inject)`);
    line(`GET /v1/wallets/:id: ${baseline.cpuMs.toFixed(2)} ms CPU, ${baseline.wallMs.toFixed(2)} ms wall per request`);
    line(
      `POST /v1/wallets/:id/transfers: ${measured.cpuMs.toFixed(2)} ms CPU, ${measured.wallMs.toFixed(2)} ms wall per request ` +
        `(${(measured.cpuMs / baseline.cpuMs).toFixed(2)}× the GET's CPU)`,
    );
    line(`without the profiler: ${plain.cpuMs.toFixed(2)} ms CPU, ${plain.wallMs.toFixed(2)} ms wall per request`);
    line(
      `PostgreSQL server CPU per request (every postgres process on this machine, /proc; other users' ` +
        `queries count too): GET ${baseline.serverMs.toFixed(2)} ms, submit ${plain.serverMs.toFixed(2)} ms`,
    );
    line(`round trips per submit: ${counts}`);
    line(`round trips per GET wallet: ${readCounts}`);
    line(`${SENDERS} senders; submits answered by status: ${[...statuses].map(([k, n]) => `${k} ${n}`).join(", ")}`);
    line("CPU per request by thread name (/proc, ms):");
    const names = new Map<string, number>();
    for (const [tid, { name, ticks }] of threadsAfter) {
      const used = ticks - (threadsBefore.get(tid)?.ticks ?? 0);
      names.set(name, (names.get(name) ?? 0) + used);
    }
    for (const [name, ticks] of [...names].sort((a, b) => b[1] - a[1]).slice(0, 12))
      if (ticks > 0) line(`  ${((ticks * 10) / REQUESTS).toFixed(2).padStart(6)}  ${name}`);
    summarise(profile);
    printConditions(`${engine}, done`);
  } finally {
    await api.close();
  }
}

/** Counts SQL queries, Redis commands and chain requests of one submission (averaged over 20). */
async function countRoundTrips(
  api: Awaited<ReturnType<typeof createApiFixture>>,
  submit: () => Promise<void>,
): Promise<string> {
  const seen = { sql: 0, redis: 0, chain: new Map<string, number>(), pglite: new Map<string, number>() };
  const query = pg.Client.prototype.query;
  // The embedded engine's statements cross to its thread (lib/db/pglite-thread.ts) as messages.
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
    const op = (message as { op?: string } | null)?.op;
    if (op) seen.pglite.set(op, (seen.pglite.get(op) ?? 0) + 1);
    if (process.env.BENCH_PROFILE_LIST && op === "query")
      process.stdout.write(
        `PGLITE ${String((message as { text: string }).text)
          .replace(/\s+/g, " ")
          .slice(0, 160)}\n`,
      );
    return (post as (...a: unknown[]) => void).call(this, message, ...rest);
  } as typeof post;
  const send = Redis.prototype.sendCommand;
  const provider = api.chain.publicClient as unknown as { request: (a: { method: string }) => Promise<unknown> };
  const request = provider.request;
  // Wall time from each statement's send to its answer, by statement (its first 70 characters):
  // the server's work, the round trip and pg's parsing of the answer.
  const timing = new Map<string, { ms: number; n: number }>();
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    seen.sql += 1;
    const text = String(typeof args[0] === "string" ? args[0] : (args[0] as { text?: string })?.text).replace(
      /\s+/g,
      " ",
    );
    if (process.env.BENCH_PROFILE_LIST) process.stdout.write(`SQL ${text.slice(0, 160)}\n`);
    const started = performance.now();
    const answered = () => {
      const entry = timing.get(text.slice(0, 70)) ?? { ms: 0, n: 0 };
      entry.ms += performance.now() - started;
      entry.n += 1;
      timing.set(text.slice(0, 70), entry);
    };
    // pg-pool passes a callback; a direct client.query returns a promise.
    const last = args.length - 1;
    if (typeof args[last] === "function") {
      const callback = args[last] as (...a: unknown[]) => unknown;
      args[last] = (...a: unknown[]) => {
        answered();
        return callback(...a);
      };
    }
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) void result.then(answered, () => undefined);
    return result;
  } as typeof query;
  Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<typeof send>) {
    seen.redis += 1;
    if (process.env.BENCH_PROFILE_LIST)
      process.stdout.write(`REDIS ${args[0].name} ${String(args[0].args[0]).slice(0, 80)}\n`);
    return send.apply(this, args);
  };
  provider.request = (a) => {
    seen.chain.set(a.method, (seen.chain.get(a.method) ?? 0) + 1);
    return request.call(provider, a);
  };
  try {
    for (let i = 0; i < 20; i += 1) await submit();
  } finally {
    pg.Client.prototype.query = query;
    Worker.prototype.postMessage = post;
    Redis.prototype.sendCommand = send;
    provider.request = request;
  }
  const chain = [...seen.chain].map(([method, n]) => `${method} ${n / 20}`).join(", ");
  const statements = [...timing]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([text, { ms, n }]) => `\n  ${(ms / n).toFixed(2).padStart(6)} ms wall, ${n / 20} per request: ${text}`)
    .join("");
  const pglite = [...seen.pglite].map(([op, n]) => `${op} ${n / 20}`).join(", ");
  return `SQL ${seen.sql / 20}${pglite ? ` (PGlite thread: ${pglite})` : ""}, Redis ${seen.redis / 20}, chain: ${chain}${statements}`;
}

/** CPU ticks (user + system, 10 ms each) of every thread of this process, by thread id. */
function threadTimes(): Map<string, { name: string; ticks: number }> {
  const times = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      times.set(tid, { name: name.replace(/[0-9]+$/, "#"), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return times;
}

/** CPU ticks (10 ms) of every `postgres` process on this machine: the server's share of a request. */
function postgresTicks(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== "postgres") continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

/** Self time by function and by file (node_modules package or our path), the top rows. */
function summarise(profile: Profile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const file = fileOf(url);
    byFunction.set(
      `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`,
      (byFunction.get(`${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`) ?? 0) + micros,
    );
    byFile.set(file, (byFile.get(file) ?? 0) + micros);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => `  ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`);
  line("self time by file / package:");
  for (const row of top(byFile, 25)) line(row);
  line("self time by function:");
  for (const row of top(byFunction, 40)) line(row);
}

function fileOf(url: string): string {
  if (!url) return "(native/gc)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const main = url.indexOf("/work/main/");
  return main >= 0 ? url.slice(main + "/work/main/".length) : url;
}

printConditions("start");
for (const engine of ENGINES) await profileEngine(engine);
