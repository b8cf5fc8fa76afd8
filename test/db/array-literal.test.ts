/**
 * Array literals carry many values in one parameter (lib/db/array-literal.ts): what goes in comes
 * back out of `unnest`, whatever the text holds — quotes, backslashes, commas, braces, the word
 * NULL, an empty string — and a missing value is SQL NULL.
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";

import { arrayLiteral } from "../../lib/db/array-literal.ts";
import { createTestDatabase, describeEachEngine } from "../helpers/database.ts";

describeEachEngine("arrayLiteral", (engine) => {
  it("round-trips text, numbers and NULL through unnest", async () => {
    const database = await createTestDatabase(engine, "array_literal");
    try {
      const texts = ['say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", " spaced ", "ünï"];
      const rows = await database.query<{ value: string | null; n: string | null }>(sql`
        SELECT value, n::text AS n FROM unnest(${arrayLiteral([...texts, null])}::text[],
          ${arrayLiteral([1n, 2, null, 10n ** 30n])}::numeric[]) WITH ORDINALITY AS t(value, n, position)
        ORDER BY position`);
      expect(rows.map((row) => row.value)).to.deep.equal([...texts, null]);
      expect(rows.map((row) => row.n)).to.deep.equal(["1", "2", null, (10n ** 30n).toString(), ...Array(5).fill(null)]);
    } finally {
      await database.drop();
    }
  });
});
