/**
 * COPY's text format (lib/db/copy-text.ts): what goes in comes back out of the table, whatever the
 * text holds — tabs, newlines, carriage returns, backslashes, the two characters `\N`, the word
 * NULL, an empty string — a missing value is SQL NULL, and a refused row stores nothing. PostgreSQL
 * only: PGlite's thread carries no COPY data (the writer inserts there instead).
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";

import { pushCopyRow, type CopyRows } from "../../lib/db/copy-text.ts";
import { createTestDatabase } from "../helpers/database.ts";

describe("COPY text rows [postgres]", () => {
  it("round-trips text, numbers and NULL, and stores nothing of a refused COPY", async () => {
    const database = await createTestDatabase("postgres", "copy_text");
    try {
      await database.query(sql`CREATE TABLE copied (position integer PRIMARY KEY, value text, n numeric(78,0))`);
      const texts = [
        "tab\there",
        "line\nbreak",
        "cr\rhere",
        "back\\slash",
        "\\N",
        "NULL",
        "",
        " spaced ",
        "ünï",
        "\\.",
      ];
      const rows: CopyRows = { table: "copied", columns: ["position", "value", "n"], lines: [] };
      texts.forEach((text, i) => pushCopyRow(rows, [i, text, i % 2 === 0 ? 10n ** 77n + BigInt(i) : i]));
      pushCopyRow(rows, [texts.length, null, undefined]);
      await database.transaction(async (_tx, copy) => copy!(rows));

      const stored = await database.query<{ value: string | null; n: string | null }>(
        sql`SELECT value, n::text AS n FROM copied ORDER BY position`,
      );
      expect(stored.map((row) => row.value)).to.deep.equal([...texts, null]);
      expect(stored.map((row) => row.n)).to.deep.equal([
        ...texts.map((_, i) => String(i % 2 === 0 ? 10n ** 77n + BigInt(i) : i)),
        null,
      ]);

      // The second row's key is taken: the whole COPY and the transaction's earlier row are refused.
      const refused: CopyRows = { table: "copied", columns: ["position", "value"], lines: [] };
      pushCopyRow(refused, [100, "new"]);
      pushCopyRow(refused, [0, "taken"]);
      let failure: unknown;
      await database
        .transaction(async (tx, copy) => {
          await tx.execute(sql`INSERT INTO copied (position, value) VALUES (99, 'before')`);
          await copy!(refused);
        })
        .catch((error: unknown) => (failure = error));
      expect((failure as { code?: string })?.code).to.equal("23505");
      const [count] = await database.query<{ count: string }>(sql`SELECT count(*)::text AS count FROM copied`);
      expect(count?.count).to.equal(String(texts.length + 1));
      // The pool still serves (the failed connection was destroyed, not handed on).
      await database.transaction(async (_tx, copy) => copy!({ ...refused, lines: refused.lines.slice(0, 1) }));
      const [after] = await database.query<{ count: string }>(sql`SELECT count(*)::text AS count FROM copied`);
      expect(after?.count).to.equal(String(texts.length + 2));
    } finally {
      await database.drop();
    }
  });
});
