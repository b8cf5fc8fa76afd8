import type { Role } from "./credentials.ts";

/** Who is calling: resolved once per request by the auth plugin. */
export type Principal = {
  userId: string;
  role: Role;
  /** The API key id or session id the request authenticated with. */
  credentialId: string;
  via: "api_key" | "session";
  /** For a session made from an API key: that key (the session lives only while it is active). */
  parentKeyId?: string | undefined;
  /** An operator's freeze: the principal may read and revoke its own credentials, nothing else. */
  frozen: boolean;
};

/** Staff roles that may read every account (operator and admin also act on them). */
export const readsEverything = (role: Role) => role === "admin" || role === "operator" || role === "auditor";
