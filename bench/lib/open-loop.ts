/**
 * An open-loop load generator: requests arrive on a Poisson schedule at a fixed mean rate, whether
 * or not earlier ones were answered — as independent users arrive — and each latency is measured
 * from the request's scheduled arrival, so a generator that falls behind shows as latency instead of
 * hiding it (no coordinated omission). autocannon's `overallRate` is not this: it turns the clients
 * into `rate` connections that all send at the start of each second, a burst per second.
 */
import http from "node:http";

import { percentile } from "./conditions.ts";

export type OpenLoopRequest = { method: string; path: string; headers: Record<string, string>; body?: string };

export type OpenLoopResult = {
  /** Requests scheduled (arrivals); every one is answered (or errs) before the result, the run drained. */
  sent: number;
  /** Answers by class: 2xx, other statuses, transport errors. */
  ok: number;
  notOk: number;
  errors: number;
  /** Arrivals per second actually scheduled, and answers per second. */
  offeredRate: number;
  answeredRate: number;
  latency: { mean: number; p50: number; p99: number; max: number };
  /** Most requests in flight at once. */
  peakInFlight: number;
};

/**
 * Sends `next()` requests to `baseUrl` at `rate` per second on average for `durationSeconds`,
 * over keep-alive connections (at most `maxSockets`; arrivals beyond wait in the agent's queue,
 * their wait counted). Waits for every request sent, then reports.
 */
export async function openLoop(options: {
  baseUrl: string;
  rate: number;
  durationSeconds: number;
  next: () => OpenLoopRequest;
  maxSockets?: number;
}): Promise<OpenLoopResult> {
  const url = new URL(options.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 200 });
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let ok = 0;
  let notOk = 0;
  let errors = 0;
  let inFlight = 0;
  let peakInFlight = 0;

  const send = (scheduledAt: number) => {
    const request = options.next();
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    return new Promise<void>((resolve) => {
      const finish = (outcome: "ok" | "notOk" | "error") => {
        inFlight -= 1;
        latencies.push(performance.now() - scheduledAt);
        if (outcome === "ok") ok += 1;
        else if (outcome === "notOk") notOk += 1;
        else errors += 1;
        resolve();
      };
      const call = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: request.method,
          path: request.path,
          headers: request.body
            ? { ...request.headers, "content-length": Buffer.byteLength(request.body) }
            : request.headers,
        },
        (response) => {
          response.resume();
          response.on("end", () => finish(response.statusCode! < 300 ? "ok" : "notOk"));
          response.on("error", () => finish("error"));
        },
      );
      call.on("error", () => finish("error"));
      call.end(request.body);
    });
  };

  const started = performance.now();
  const end = started + options.durationSeconds * 1000;
  let due = started;
  while (true) {
    // Exponential gaps: a Poisson process of the given mean rate.
    due += (-Math.log(1 - Math.random()) * 1000) / options.rate;
    if (due >= end) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(due));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();

  const sorted = latencies.sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    sent: pending.length,
    ok,
    notOk,
    errors,
    offeredRate: pending.length / options.durationSeconds,
    answeredRate: sorted.length / elapsed,
    latency: {
      mean: sum / Math.max(1, sorted.length),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? Number.NaN,
    },
    peakInFlight,
  };
}
