/** Addresses, hashes and times as people read them. */

/** 0x1234…abcd: enough to recognise, the whole value one click away (copy button). */
export function shorten(value: string, keep = 4): string {
  if (value.length <= 2 + keep * 2 + 1) return value;
  return `${value.slice(0, 2 + keep)}…${value.slice(-keep)}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const withZone = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });

/** A time in the viewer's zone, e.g. "3 Dec 2026, 14:05". */
export function formatTime(value: Date | string | number): string {
  const date = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? "—" : dateTime.format(date);
}

/** The viewer's time zone name, shown once per page ("times in CET"). */
export function viewerZone(): string {
  return withZone.formatToParts(new Date()).find((p) => p.type === "timeZoneName")?.value ?? "local time";
}

/** ISO-ish machine form for <time datetime>. */
export function isoOf(value: Date | string | number): string {
  const date = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** An address typed by a person: 0x and 40 hex digits (the API checks the EIP-55 checksum). */
export const looksLikeAddress = (text: string) => /^0x[0-9a-fA-F]{40}$/.test(text.trim());

/** A fresh Idempotency-Key for one attempt of one money movement (kept across retries of that attempt). */
export function newIdempotencyKey(): string {
  return `ui-${crypto.randomUUID()}`;
}
