/**
 * PGlite's own encoding of one run of a prepared statement (its port of pg-protocol's serializer):
 * Bind, Execute and Sync, one after the other. The reference lib/db/pglite-bind.ts is held to
 * (test/db/pglite-bind.unit.test.ts) and measured against (bench/db/pglite-statements.ts).
 */
import { protocol } from "@electric-sql/pglite";

import type { BindValue } from "../../lib/db/pglite-bind.ts";

const { serialize } = protocol;

export function pgliteSerializerBindExecuteSync(statement: string, values: BindValue[]): Buffer {
  return Buffer.concat([
    serialize.bind({ statement, values: values as (string | ArrayBuffer | null)[] }),
    serialize.execute({}),
    serialize.sync(),
  ]);
}
