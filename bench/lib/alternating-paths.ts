/**
 * Two ways of doing the same operations, measured against each other in one run: each operation
 * warmed up on both paths, then run in rounds that alternate which path goes first (so neither
 * always meets a cooler cache or a quieter machine), wall time and the whole process's CPU summed
 * per operation and path, printed as a Markdown table of µs per unit and the second path's ratio to
 * the first (the baseline).
 */
import { times } from "./conditions.ts";

/** One row of the table: `run(path, i)` does call `i` of it; a call counts as `unitsPerCall` units. */
export type AlternatingOperation<Path> = {
  name: string;
  run: (path: Path, i: number) => Promise<unknown>;
  unitsPerCall?: number;
};

type Total = { wallMs: number; cpuMs: number; units: number };

async function measure<Path>(path: Path, operation: AlternatingOperation<Path>, calls: number) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < calls; i++) await operation.run(path, i);
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Runs every operation on both paths, `units` units per operation and path over `rounds` rounds
 * after `warmUpCalls` unmeasured calls each, and prints the table: `paths` is `[baseline, other]`
 * by label, `label` names the first column.
 */
export async function compareAlternating<Path>(options: {
  paths: [string, Path][];
  operations: AlternatingOperation<Path>[];
  units: number;
  rounds?: number;
  warmUpCalls?: number;
  label: string;
}): Promise<void> {
  const { paths, operations, units, rounds = 4, warmUpCalls = 200, label } = options;
  const totals = new Map<string, Total>();
  for (const operation of operations) for (const [, path] of paths) await measure(path, operation, warmUpCalls);
  for (let round = 0; round < rounds; round++)
    for (const operation of operations)
      for (const [name, path] of round % 2 === 0 ? paths : [...paths].reverse()) {
        const perCall = operation.unitsPerCall ?? 1;
        const calls = Math.ceil(units / rounds / perCall);
        const figure = await measure(path, operation, calls);
        const key = `${operation.name}|${name}`;
        const total = totals.get(key) ?? { wallMs: 0, cpuMs: 0, units: 0 };
        totals.set(key, {
          wallMs: total.wallMs + figure.wallMs,
          cpuMs: total.cpuMs + figure.cpuMs,
          units: total.units + calls * perCall,
        });
      }

  const [baselineName, otherName] = paths.map(([name]) => name);
  console.log(
    `| ${label} | ${baselineName}, µs wall / CPU | ${otherName}, µs wall / CPU | ${otherName} ÷ ${baselineName}, wall | CPU |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const us = (ms: number, count: number) => ((ms * 1000) / count).toFixed(0);
  for (const operation of operations) {
    const baseline = totals.get(`${operation.name}|${baselineName}`)!;
    const other = totals.get(`${operation.name}|${otherName}`)!;
    console.log(
      `| ${operation.name} | ${us(baseline.wallMs, baseline.units)} / ${us(baseline.cpuMs, baseline.units)} | ${us(other.wallMs, other.units)} / ${us(other.cpuMs, other.units)} | ${times(other.wallMs, baseline.wallMs)} | ${times(other.cpuMs, baseline.cpuMs)} |`,
    );
  }
}
