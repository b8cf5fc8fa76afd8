import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/**
 * Rows loaded with `COPY table (cols) FROM STDIN` in PostgreSQL's text format: one line per row,
 * fields separated by tabs, `\N` for NULL. Why over `INSERT … SELECT FROM unnest(array literals)`:
 * COPY inserts into the heap in batches and parses each field once, where unnest parses one array
 * literal per column and inserts row by row. Measured on this project's 2-core machine (PostgreSQL
 * 15, 5,000 journal entries and 10,000 postings per transaction): the server's CPU per event went
 * from 32 to 13 µs with only the primary keys (a cold start, read indexes deferred) and from 70 to
 * 53 µs with every index (docs/benchmarks.md, issue 17).
 */
export type CopyCell = string | number | bigint | null | undefined;

/** Rows of one COPY: append with {@link pushCopyRow}, send with {@link copyRows}. */
export type CopyRows = { table: string; columns: readonly string[]; lines: string[] };

const SPECIAL = /[\\\t\n\r]/;

/** One field in COPY's text format: backslash, tab, newline and carriage return escaped; NULL as `\N`. */
export function copyField(cell: CopyCell): string {
  if (cell === null || cell === undefined) return "\\N";
  if (typeof cell !== "string") return String(cell);
  // Most fields (hex, ids, numbers) hold none of the four, so they skip the replace.
  return SPECIAL.test(cell) ? cell.replace(/[\\\t\n\r]/g, escapeSpecial) : cell;
}

const escapeSpecial = (character: string) =>
  character === "\\" ? "\\\\" : character === "\t" ? "\\t" : character === "\n" ? "\\n" : "\\r";

/** Appends one row; `cells` in the order of `rows.columns`. */
export function pushCopyRow(rows: CopyRows, cells: readonly CopyCell[]): void {
  let line = copyField(cells[0]);
  for (let i = 1; i < cells.length; i++) line += `\t${copyField(cells[i])}`;
  rows.lines.push(line);
}

/**
 * Sends the rows on `client` (inside the caller's transaction, when it has one) and resolves when the
 * server has stored them. A row the table refuses (a constraint, a type) fails the whole COPY, as an
 * INSERT would. `table` and `columns` are identifiers from our own code, never input.
 */
export async function copyRows(client: pg.ClientBase, rows: CopyRows): Promise<void> {
  if (rows.lines.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${rows.table} (${rows.columns.join(", ")}) FROM STDIN`));
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    // One write: the rows are already in memory (a batch), and the stream frames them as CopyData.
    stream.end(`${rows.lines.join("\n")}\n`);
  });
}
