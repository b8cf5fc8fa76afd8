/**
 * The conditions a benchmark ran under, printed with its figures: this machine is shared (2 cores, other
 * engineers' tests and benches may run at the same time), so every figure is read against a baseline
 * measured in the same run, and the load average tells how busy the machine was.
 */
import os from "node:os";

/** One line: the machine, Node's version and the 1/5/15-minute load averages right now. */
export function conditions(): string {
  const [one, five, fifteen] = os.loadavg().map((load) => load.toFixed(2));
  return (
    `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "unknown cpu"}), ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, loadavg ${one} / ${five} / ${fifteen}`
  );
}

/** Prints the conditions with a label ("start", "end"), as a Markdown-friendly comment line. */
export function printConditions(label: string): void {
  process.stdout.write(`> ${label}: ${conditions()}\n`);
}

/** Percentile of an ascending array (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** "3.2×" — a measured value against its same-run baseline; "—" when the baseline is 0 (no ratio). */
export function times(value: number, baseline: number, digits = 2): string {
  // autocannon rounds latencies to whole milliseconds: a fast baseline's p50 can be 0.
  if (baseline === 0) return "—";
  const ratio = value / baseline;
  // A ratio below 0.01 would print as 0.00×: two significant digits instead.
  return `${ratio > 0 && ratio < 0.01 ? ratio.toPrecision(2) : ratio.toFixed(digits)}×`;
}
