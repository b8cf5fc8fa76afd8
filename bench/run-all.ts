/**
 * `npm run bench`: runs every benchmark in bench/ one after another at a small size (a few minutes
 * in all), or at the full size with `--full`, and writes bench/REPORT.md — the machine, its load
 * average before and after each benchmark, each benchmark's figures (every one printed as a ratio
 * to a baseline measured in the same run), and an SVG chart of indexer throughput against the
 * workload (rendered headless by vega-lite + vega, not drawn by hand).
 *
 * A benchmark that fails to start or exits non-zero is noted in the report and skipped; the others
 * still run. `--only=indexer,gas` runs some of them. The machine is shared (2 cores): read the
 * ratios, not the absolute figures, and the load average beside them.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";

import * as prettier from "prettier";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

import { INDEXER_NODE_FLAGS } from "../lib/process/node-flags.ts";
import { conditions } from "./lib/conditions.ts";

type Size = "small" | "full";

type Benchmark = {
  name: string;
  /** Entry file; a benchmark whose file is missing is noted and skipped. */
  file: string;
  runner: "tsx" | "hardhat";
  /** Node options before the file (the auditor's benchmark measures memory after a forced GC). */
  nodeOptions?: string[];
  /** Environment per size (the benchmarks read their sizes from BENCH_* variables). */
  env: Record<Size, Record<string, string>>;
};

const FULL = process.argv.includes("--full");
/** A benchmark still running after this long is stopped and noted (a loaded machine can stall one). */
const TIMEOUT_MS = (FULL ? 40 : 8) * 60_000;
const size: Size = FULL ? "full" : "small";
const only = process.argv
  .find((arg) => arg.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");

/** Indexer workloads (events at 1,000 per block): each one run, so the chart has throughput against size. */
const INDEXER_SIZES: Record<Size, number[]> = { small: [5_000, 20_000], full: [20_000, 100_000] };

/** Relayer loads (producers enqueueing at once): each one run, so the chart has throughput against load. */
const RELAYER_PRODUCERS: Record<Size, number[]> = { small: [1, 8, 32], full: [1, 8, 32, 128] };

const benchmarks: Benchmark[] = [
  { name: "gas", file: "bench/gas/gas-table.ts", runner: "hardhat", env: { small: {}, full: {} } },
  {
    name: "pglite statements",
    file: "bench/db/pglite-statements.ts",
    runner: "tsx",
    env: { small: { BENCH_PGLITE_STATEMENTS: "1000" }, full: {} },
  },
  {
    name: "pglite thread",
    file: "bench/db/pglite-thread.ts",
    runner: "tsx",
    env: { small: { BENCH_PGLITE_THREAD_OPERATIONS: "1000" }, full: {} },
  },
  {
    name: "signing",
    file: "bench/signing/signatures.ts",
    runner: "tsx",
    env: { small: { BENCH_SIGNING_OPERATIONS: "1000" }, full: {} },
  },
  ...INDEXER_SIZES[size].map((events): Benchmark => ({
    name: `indexer (${events.toLocaleString("en-US")} events)`,
    file: "bench/indexer/index-transfers.ts",
    runner: "tsx",
    // The indexer's process flags, as `npm run indexer` and `npm start` give them.
    nodeOptions: [...INDEXER_NODE_FLAGS],
    env: { small: { BENCH_EVENTS: String(events) }, full: { BENCH_EVENTS: String(events) } },
  })),
  {
    // Installs bench/ponder's own dependencies (ponder 0.16) on its first run, about 13 s.
    name: "indexer vs Ponder",
    file: "bench/indexer/vs-ponder.ts",
    runner: "tsx",
    env: { small: { BENCH_EVENTS: "20000" }, full: { BENCH_EVENTS: "100000", BENCH_ROUNDS: "3" } },
  },
  // The defaults (batching on), then every transfer sent alone (RELAYER_BATCH_SIZE=1), at each load.
  ...[undefined, "1"].flatMap((batch) =>
    RELAYER_PRODUCERS[size].map((producers): Benchmark => {
      const settings = {
        BENCH_RELAYER_PRODUCERS: String(producers),
        ...(batch ? { BENCH_RELAYER_BATCH_SIZE: batch } : {}),
      };
      return {
        name: `relayer (${producers} producer${producers === 1 ? "" : "s"}${batch ? `, batch ${batch}` : ", defaults"})`,
        file: "bench/relayer/relayed-transfers.ts",
        runner: "hardhat",
        env: { small: { BENCH_TRANSFERS: "150", BENCH_ROUNDS: "1", ...settings }, full: settings },
      };
    }),
  ),
  {
    name: "relayer statements",
    file: "bench/relayer/relay-statements.ts",
    runner: "tsx",
    env: { small: { BENCH_RELAYS: "1000", BENCH_ROUNDS: "1" }, full: { BENCH_ENGINES: "pglite,postgres" } },
  },
  {
    name: "api submit",
    file: "bench/api/api-latency.ts",
    runner: "hardhat",
    env: { small: { BENCH_DURATION_SECONDS: "3", BENCH_CONNECTIONS: "50", BENCH_ENGINES: "postgres" }, full: {} },
  },
  {
    name: "api reads",
    file: "bench/api/ledger-reads.ts",
    runner: "hardhat",
    env: {
      // Both engines: PGlite is the default a user gets.
      small: { BENCH_LEDGER_ROWS: "50000", BENCH_DURATION_SECONDS: "2", BENCH_READS: "200" },
      full: {},
    },
  },
  {
    name: "auditor",
    file: "bench/auditor/audit-bench.ts",
    runner: "tsx",
    nodeOptions: ["--expose-gc"],
    env: { small: {}, full: {} },
  },
  {
    name: "risk",
    file: "bench/risk/risk-engine.ts",
    runner: "tsx",
    env: { small: { BENCH_RISK_USERS: "500", BENCH_RISK_ROUNDS: "50" }, full: {} },
  },
  {
    name: "risk reads vs activity",
    file: "bench/risk/user-activity.ts",
    runner: "tsx",
    env: { small: { BENCH_ACTIVITY_MOVEMENTS: "100,1000,10000", BENCH_ACTIVITY_UNITS: "50" }, full: {} },
  },
  {
    name: "x402",
    file: "bench/x402/facilitator.ts",
    runner: "hardhat",
    env: { small: { BENCH_PAYMENTS: "100" }, full: {} },
  },
];

type Run = {
  name: string;
  status: "ok" | "skipped";
  note?: string;
  seconds: number;
  loadBefore: number[];
  loadAfter: number[];
  output: string;
  figures: Record<string, unknown>[];
};

/** Runs one benchmark as a child process (its own Node 22 from node_modules/.bin), collecting stdout. */
function runBenchmark(bench: Benchmark): Promise<Run> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  if (!existsSync(bench.file))
    return Promise.resolve({
      name: bench.name,
      status: "skipped",
      note: `${bench.file} does not exist`,
      seconds: 0,
      loadBefore,
      loadAfter: loadBefore,
      output: "",
      figures: [],
    });
  const [command, args] =
    bench.runner === "tsx"
      ? ["node_modules/.bin/tsx", [...(bench.nodeOptions ?? []), bench.file]]
      : ["node_modules/.bin/hardhat", ["run", bench.file]];
  process.stdout.write(`\n## ${bench.name}: ${command} ${args.join(" ")} ${JSON.stringify(bench.env[size])}\n`);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: {
        ...process.env,
        ...bench.env[size],
        PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH ?? ""}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let errors = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const finish = (code: number | null, failure?: string) => {
      const figures = output
        .split("\n")
        .filter((line) => line.startsWith("BENCH_FIGURE "))
        .map((line) => JSON.parse(line.slice("BENCH_FIGURE ".length)) as Record<string, unknown>);
      // The first line naming an error says why; a stack's last lines do not.
      const reason =
        errors.split("\n").find((line) => /error/i.test(line) && !/^\s+at /.test(line)) ??
        errors.trim().split("\n")[0] ??
        "";
      const failed = failure ?? (code === 0 ? undefined : `exit code ${code}: ${reason.trim().slice(0, 200)}`);
      resolve({
        name: bench.name,
        status: failed ? "skipped" : "ok",
        ...(failed ? { note: failed } : {}),
        seconds: (Date.now() - started) / 1000,
        loadBefore,
        loadAfter: os.loadavg(),
        output,
        figures,
      });
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, TIMEOUT_MS);
    child.on("error", (error) => finish(null, `did not start: ${error.message}`));
    child.on("close", (code) => {
      clearTimeout(timer);
      finish(code, timedOut ? `stopped after ${TIMEOUT_MS / 60_000} min` : undefined);
    });
  });
}

/** A line chart of throughput against load, one line per series (vega-lite rendered headless to SVG). */
function throughputChart(p: {
  title: string;
  values: { x: number; y: number; series: string }[];
  xTitle: string;
  yTitle: string;
}): Promise<string | undefined> {
  if (p.values.length === 0) return Promise.resolve(undefined);
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `${p.title} (loadavg ${os.loadavg()[0]!.toFixed(1)} at the end)`,
    width: 560,
    height: 300,
    data: { values: p.values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: p.xTitle, scale: { type: "log" } },
      y: { field: "y", type: "quantitative", title: p.yTitle, scale: { type: "log" } },
      color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom", columns: 2 } },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

/** Indexer throughput (events/s) against the workload, one line per phase and its baselines. */
function indexerChart(runs: Run[]): Promise<string | undefined> {
  const labels: Record<string, string> = {
    "baseline-ranged": "bare getLogs (baseline, cold start)",
    "baseline-per-block": "bare getBlock + getLogs (baseline, realtime)",
    "pglite-cold": "PGlite cold start",
    "postgres-cold": "PostgreSQL cold start",
    "pglite-realtime": "PGlite realtime",
    "postgres-realtime": "PostgreSQL realtime",
  };
  const values = runs
    .flatMap((run) => run.figures)
    .filter((figure) => figure.bench === "indexer" && typeof figure.ms === "number" && labels[figure.name as string])
    .map((figure) => ({
      x: figure.events as number,
      y: Math.round((figure.events as number) / ((figure.ms as number) / 1000)),
      series: labels[figure.name as string]!,
    }));
  return throughputChart({
    title: "Indexer throughput against workload (1,000 events per block)",
    values,
    xTitle: "events indexed (workload)",
    yTitle: "events per second",
  });
}

/** Relayer throughput (transfers/s) against its load, beside direct sends from one key (the baseline). */
function relayerChart(runs: Run[]): Promise<string | undefined> {
  const figures = runs.flatMap((run) => run.figures).filter((figure) => figure.bench === "relayer");
  const values = figures.flatMap((figure) => [
    {
      x: figure.producers as number,
      y: figure.relayedPerSecond as number,
      series: figure.defaults ? `relayed, defaults (3 keys, batch ${figure.batch})` : `relayed, batch ${figure.batch}`,
    },
    // The baseline beside the defaults' runs (the unbatched runs measure it again, to the same effect).
    ...(figure.defaults
      ? [
          {
            x: figure.producers as number,
            y: figure.directPerSecond as number,
            series: "direct viem sends, one key (baseline)",
          },
        ]
      : []),
  ]);
  return throughputChart({
    title: "Relayer throughput against load (EIP-3009 transfers)",
    values,
    xTitle: "producers enqueueing at once",
    yTitle: "transfers per second",
  });
}

const fixed = (loads: number[]) => loads.map((load) => load.toFixed(2)).join(" / ");

/** The report: conditions, a summary table, the indexer figures as ratios, then each benchmark's output. */
function report(runs: Run[], chart: boolean, relayerChartWritten: boolean): string {
  const lines: string[] = [
    "# Benchmark report",
    "",
    `Written by \`npm run bench${FULL ? " -- --full" : ""}\` on ${new Date().toISOString()} (${size} size).`,
    `Machine: ${conditions()}.`,
    "Every figure is a ratio to a baseline measured in the same run; absolute rates move with the load average",
    "(1 / 5 / 15 minutes) printed beside each benchmark. On 2 cores a load above 2 means processes waited for a CPU.",
    "",
    "| benchmark | status | time | loadavg before | loadavg after |",
    "| --- | --- | ---: | --- | --- |",
    ...runs.map(
      (run) =>
        `| ${run.name} | ${run.status === "ok" ? "ran" : `skipped: ${run.note?.replace(/\|/g, "/")}`} | ${run.seconds.toFixed(0)} s | ${fixed(run.loadBefore)} | ${fixed(run.loadAfter)} |`,
    ),
    "",
  ];
  const indexer = runs.flatMap((run) => run.figures).filter((figure) => figure.bench === "indexer");
  if (indexer.length > 0) {
    lines.push(
      "## Indexer: time as a multiple of the bare fetch of the same events (targets ≤ 2× PostgreSQL, ≤ 3× PGlite, realtime ≤ 2×)",
      "",
      "| events | phase | events/s | × baseline | loadavg (1 min) |",
      "| ---: | --- | ---: | ---: | ---: |",
      ...indexer
        .filter((figure) => typeof figure.ratio === "number")
        .map(
          (figure) =>
            `| ${(figure.events as number).toLocaleString("en-US")} | ${figure.name as string} | ${Math.round((figure.events as number) / ((figure.ms as number) / 1000)).toLocaleString("en-US")} | ${(figure.ratio as number).toFixed(2)}× | ${(figure.loadavg as number).toFixed(2)} |`,
        ),
      ...indexer
        .filter((figure) => figure.name === "peak-rss")
        .map(
          (figure) =>
            `\nPeak RSS of the indexer's process with ${(figure.events as number).toLocaleString("en-US")} events: ${figure.mib as number} MiB.`,
        ),
      "",
    );
    if (chart) lines.push("![Indexer throughput against workload](indexer-throughput.svg)", "");
  }
  if (relayerChartWritten) lines.push("![Relayer throughput against load](relayer-throughput.svg)", "");
  for (const run of runs) {
    lines.push(`## ${run.name}`, "");
    if (run.status === "skipped") {
      lines.push(`Skipped: ${run.note}.`, "");
      continue;
    }
    const printed = run.output
      .split("\n")
      .filter((line) => !line.startsWith("BENCH_FIGURE "))
      .join("\n")
      .trim();
    lines.push("```text", printed.split("\n").slice(-60).join("\n"), "```", "");
  }
  return lines.join("\n");
}

async function main() {
  const runs: Run[] = [];
  const write = async () => {
    const svg = await indexerChart(runs);
    if (svg) await writeFile("bench/indexer-throughput.svg", svg);
    const relayerSvg = await relayerChart(runs);
    if (relayerSvg) await writeFile("bench/relayer-throughput.svg", relayerSvg);
    // Formatted as the repository's lint expects of every Markdown file.
    const markdown = await prettier.format(report(runs, svg !== undefined, relayerSvg !== undefined), {
      ...(await prettier.resolveConfig("bench/REPORT.md")),
      parser: "markdown",
    });
    await writeFile("bench/REPORT.md", markdown);
  };
  for (const bench of benchmarks) {
    if (only && !only.some((name) => bench.name.startsWith(name))) continue;
    runs.push(await runBenchmark(bench));
    // Written after every benchmark, so a run stopped halfway still leaves the figures it got.
    await write();
  }
  process.stdout.write(
    `\nbench/REPORT.md written (${runs.filter((run) => run.status === "ok").length} ran, ${runs.filter((run) => run.status !== "ok").length} skipped)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
