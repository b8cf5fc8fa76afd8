import type { Role } from "./credentials.ts";

/** Who is calling: resolved once per request by the auth plugin. */
export type Principal = {
  userId: string;
  role: Role;
  /** The API key id or session id the request authenticated with (rate limits key on it). */
  credentialId: string;
  via: "api_key" | "session";
};

/** Staff roles that may read every account (operator and admin also act on them). */
export const readsEverything = (role: Role) => role === "admin" || role === "operator" || role === "auditor";
