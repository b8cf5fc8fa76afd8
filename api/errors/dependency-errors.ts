/**
 * What a failed call to a dependency means for the caller: Redis or the database unreachable
 * (→ 503 with a retryable code), or a database refusal caused by the request's own values
 * (→ 4xx). Errors arrive wrapped (drizzle's DrizzleQueryError, ioredis' MaxRetriesPerRequestError),
 * so every test walks the `cause` chain.
 */

/** The error and each of its causes, outermost first (bounded: a cause cycle cannot loop). */
function* causes(error: unknown): Generator<{ name?: unknown; message?: unknown; code?: unknown }> {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === "object"; depth += 1) {
    yield current as { name?: unknown; message?: unknown; code?: unknown };
    current = (current as { cause?: unknown }).cause;
  }
}

/** Whether an ioredis error says Redis is unreachable (offline queue disabled, retries exhausted). */
export function isRedisUnavailable(error: unknown): boolean {
  for (const { name, message } of causes(error)) {
    if (name === "MaxRetriesPerRequestError") return true;
    if (/enableOfflineQueue|Connection is closed|Stream isn't writeable/.test(String(message ?? ""))) return true;
  }
  return false;
}

/** Socket-level failures of node-postgres and the pool, and the SQLSTATEs of a lost or refused session. */
const LOST_CONNECTION =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection terminated|connection error|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end|the database system is (starting up|shutting down)/i;

/**
 * Whether the database did not answer: the connection was refused, lost mid-query, or the server is
 * shutting down (SQLSTATE class 08 connection exception, 57P01–57P03 admin shutdown / cannot connect now,
 * 53300 too many connections).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const { code, message } of causes(error)) {
    if (typeof code === "string" && (/^08/.test(code) || /^57P0[123]$/.test(code) || code === "53300")) return true;
    if (typeof code === "string" && LOST_CONNECTION.test(code)) return true;
    if (LOST_CONNECTION.test(String(message ?? ""))) return true;
  }
  return false;
}

/**
 * The SQLSTATE of a database refusal that only the request's own values can cause — class 22 (data
 * exception: a number out of range, a string the encoding refuses) or 23505 (a unique value taken by a
 * concurrent request) — or undefined. A schema should have refused the value first; this is the net
 * under it, so such a request is a 4xx rather than a 500.
 */
export function databaseRefusalOf(error: unknown): "data" | "unique" | undefined {
  for (const { code } of causes(error)) {
    if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) continue;
    if (code.startsWith("22")) return "data";
    if (code === "23505") return "unique";
  }
  return undefined;
}
