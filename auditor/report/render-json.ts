import { toJsonSafe } from "../../lib/ledger/json.ts";

/** A report as machine-readable JSON: bigints as decimal strings, two-space indented, newline-terminated. */
export function renderJson(report: unknown): string {
  return `${JSON.stringify(toJsonSafe(report), null, 2)}\n`;
}
