/**
 * CPU profile of one measured phase of a benchmark, not of its set-up: with BENCH_CPU_PROFILE_DIR
 * set, `profilePhase` records the V8 CPU profile of this process while `run` runs and writes it to
 * `<dir>/<label>.cpuprofile` (open it in Chrome's DevTools, or summarise it by package with
 * `tsx bench/lib/summarize-profile.ts <file>`). Without it, `run` runs unprofiled.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export async function profilePhase<T>(label: string, run: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  if (!dir) return run();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  try {
    return await run();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${label.replace(/[^\w.-]+/g, "_")}.cpuprofile`), JSON.stringify(profile));
  }
}
