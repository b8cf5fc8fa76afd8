import { formatTime, isoOf } from "../core/format.ts";

/** A moment in the viewer's time zone. */
export function Time({ value }: { value: Date | string | number }) {
  return <time dateTime={isoOf(value)}>{formatTime(value)}</time>;
}
