/**
 * Progress of a long audit step: a bar with rate and ETA on a TTY (stderr, redrawn at most every
 * 200 ms), nothing otherwise — reports go to stdout and stay clean when piped.
 */
export type Progress = {
  /** Whether anything is drawn: a caller counts the units of a step (a query) only for a bar that shows them. */
  readonly active: boolean;
  /** Starts a step of `total` units (0 when unknown: no bar, a count only). */
  start: (total: number, unit: string, label?: string) => void;
  tick: (units: number) => void;
  done: () => void;
};

/** A progress that draws nothing (tests, the API, a pipe). */
export const silentProgress: Progress = {
  active: false,
  start: () => undefined,
  tick: () => undefined,
  done: () => undefined,
};

/**
 * A progress bar on `stream` when it is a TTY, else {@link silentProgress}.
 * @example
 * const progress = createProgress(process.stderr);
 * progress.start(100_000, "accounts", "balances"); progress.tick(1_000); progress.done();
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silentProgress;
  let total = 0;
  let count = 0;
  let unit = "";
  let label = "";
  let started = 0;
  let drawn = 0;
  const draw = (final: boolean) => {
    const now = performance.now();
    if (!final && now - drawn < 200) return;
    drawn = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    const rate = count / seconds;
    const width = 30;
    const share = total > 0 ? Math.min(count / total, 1) : 0;
    const bar =
      total > 0
        ? `[${"#".repeat(Math.round(share * width)).padEnd(width, ".")}] ${(share * 100).toFixed(0).padStart(3)}% `
        : "";
    const eta = total > 0 && rate > 0 && !final ? ` ETA ${formatSeconds((total - count) / rate)}` : "";
    stream.write(
      `\r${label ? `${label} ` : ""}${bar}${count.toLocaleString("en-US")}${total > 0 ? `/${total.toLocaleString("en-US")}` : ""} ${unit}` +
        ` ${Math.round(rate).toLocaleString("en-US")}/s${eta}${final ? ` in ${formatSeconds(seconds)}\n` : "   "}`,
    );
  };
  return {
    active: true,
    start: (steps, name, title = "") => {
      total = steps;
      unit = name;
      label = title;
      count = 0;
      started = performance.now();
      drawn = 0;
    },
    tick: (units) => {
      count += units;
      draw(false);
    },
    done: () => draw(true),
  };
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
