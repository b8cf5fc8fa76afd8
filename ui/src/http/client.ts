/**
 * The one way the app calls the API: same origin, JSON, the session token as Bearer, the API's
 * error shape `{error: {code, message, details}}` turned into an {@link ApiError}. A 401 ends the
 * session everywhere in the app (the token expired or was revoked).
 */
import { session, signOutLocally } from "../core/session.ts";

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The API's validation issues as "field: reason" lines (VALIDATION_FAILED details). */
export function issuesOf(error: ApiError): string[] {
  const issues = (error.details as { issues?: { path?: string; message?: string }[] } | undefined)?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.map((issue) => {
    const field = (issue.path ?? "").replace(/^\//, "").replace(/\//g, ".");
    return field ? `${field}: ${issue.message ?? "invalid"}` : (issue.message ?? "invalid");
  });
}

type Options = {
  body?: unknown;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send no credential (sign-in routes). */
  anonymous?: boolean;
  token?: string;
};

/** Authorization header of the current session, if any. */
export function authHeaders(token = session.value?.token): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function send(method: string, path: string, options: Options): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (!options.anonymous) Object.assign(headers, authHeaders(options.token));
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  try {
    return await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError("NETWORK", "The server did not answer", 0);
  }
}

async function failure(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => undefined)) as
    { error?: { code?: string; message?: string; details?: unknown } } | undefined;
  const code = body?.error?.code ?? (response.status >= 500 ? "INTERNAL" : "REQUEST_FAILED");
  const error = new ApiError(code, body?.error?.message ?? response.statusText, response.status, body?.error?.details);
  if (response.status === 401 && code === "UNAUTHENTICATED" && session.value) signOutLocally("expired");
  return error;
}

/**
 * Calls the API and returns its JSON body.
 * @throws ApiError with the API's code (NETWORK when it did not answer)
 */
export async function api<T>(method: "GET" | "POST" | "DELETE" | "PATCH", path: string, options: Options = {}) {
  const response = await send(method, path, options);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Calls the API for a file (CSV statement) and returns it as a Blob. */
export async function apiBlob(path: string): Promise<Blob> {
  const response = await send("GET", path, { headers: { accept: "text/csv" } });
  if (!response.ok) throw await failure(response);
  return response.blob();
}
