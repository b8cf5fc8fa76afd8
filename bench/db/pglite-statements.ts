/**
 * PGlite statement cost (printed, not asserted): the embedded default's query path
 * (lib/db/pglite-prepared.ts: each text prepared once, one Bind + Execute + Sync call per run)
 * against PGlite's own `query` (six calls into the WebAssembly, parsed and planned every time),
 * on the same instance, in alternating rounds, through drizzle as the services call it.
 *
 * Statements, on tables shaped like the services' (a ledger of BENCH_PGLITE_POSTINGS postings):
 * a primary-key read (the API's wallet lookup), a page of 50 postings joined to their entries
 * (the history read), a small INSERT (a relay's transition row), and an UPDATE … FROM unnest of
 * 16 rows (the relayer's group-committed transitions). Prints µs per statement, wall and CPU, and
 * the ratio of the default to PGlite's own path. Then the run's messages alone (Bind + Execute + Sync, no
 * engine), PGlite's serializer against lib/db/pglite-bind.ts, for a relay's record, a movement's and the
 * indexer writer's batch.
 *
 * Run: `tsx bench/db/pglite-statements.ts` (BENCH_PGLITE_STATEMENTS = 2,000 per statement and
 * path, BENCH_PGLITE_POSTINGS = 20,000).
 */
import { PGlite } from "@electric-sql/pglite";
import { sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";

import { arrayLiteral } from "../../lib/db/array-literal.ts";
import { bindExecuteSync, type BindValue } from "../../lib/db/pglite-bind.ts";
import { withPreparedStatements } from "../../lib/db/pglite-prepared.ts";
import { compareAlternating, type AlternatingOperation } from "../lib/alternating-paths.ts";
import { printConditions } from "../lib/conditions.ts";
import { pgliteSerializerBindExecuteSync } from "../../test/helpers/pglite-serializer.ts";

const STATEMENTS = Number(process.env.BENCH_PGLITE_STATEMENTS ?? 2_000);
const POSTINGS = Number(process.env.BENCH_PGLITE_POSTINGS ?? 20_000);
const ROUNDS = 4;

const pglite = await PGlite.create();
await pglite.exec(`
  CREATE TABLE wallets (id uuid PRIMARY KEY, user_id uuid NOT NULL, kind text NOT NULL, address text NOT NULL,
    encrypted_key text, seq bigserial, created_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO wallets (id, user_id, kind, address, encrypted_key)
    SELECT gen_random_uuid(), gen_random_uuid(), 'custodial', '0x' || md5(g::text), repeat('k', 200) FROM generate_series(1, 1000) g;
  CREATE TABLE journal_entries (chain_id int NOT NULL, block_number int8 NOT NULL, log_index int NOT NULL,
    transaction_hash text NOT NULL, reference text, PRIMARY KEY (chain_id, block_number, log_index));
  CREATE TABLE postings (chain_id int NOT NULL, block_number int8 NOT NULL, log_index int NOT NULL, leg int NOT NULL,
    account text NOT NULL, counterparty text NOT NULL, token text NOT NULL, amount numeric(78,0) NOT NULL,
    balance_after numeric(78,0) NOT NULL, kind text NOT NULL, block_timestamp int8 NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index, leg));
  CREATE INDEX postings_account ON postings (chain_id, account, block_number, log_index, leg);
  INSERT INTO journal_entries SELECT 1, g / 4, g % 4, '0x' || md5('tx' || g) || md5('t' || g), NULL FROM generate_series(1, ${POSTINGS / 2}) g;
  INSERT INTO postings SELECT 1, g / 4, g % 4, leg, 'holder:0x' || (g % 100), 'holder:0x' || ((g + 1) % 100), '0xtoken',
    (g * 10)::numeric, (g * 100)::numeric, 'transfer', 1700000000 + g FROM generate_series(1, ${POSTINGS / 2}) g, (VALUES (0), (1)) AS l(leg);
  CREATE TABLE relay_events (id bigserial PRIMARY KEY, relay_id text NOT NULL, status text NOT NULL, detail jsonb, at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE relays (relay_id text PRIMARY KEY, status text NOT NULL, block_number int8, updated_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO relays (relay_id, status) SELECT 'r' || g, 'queued' FROM generate_series(1, 1000) g;`);
await pglite.exec("VACUUM ANALYZE");
const walletIds = (await pglite.query<{ id: string }>("SELECT id FROM wallets")).rows.map((row) => row.id);

const paths: [string, PgliteDrizzle][] = [
  ["PGlite's own query", drizzle({ client: pglite })],
  ["prepared (the default)", drizzle({ client: withPreparedStatements(pglite) })],
];
type PgliteDrizzle = ReturnType<typeof drizzle>;
const statement = (name: string, build: (i: number) => SQL): AlternatingOperation<PgliteDrizzle> => ({
  name,
  run: (db, i) => db.execute(build(i)),
});
const statements = [
  statement(
    "wallet by primary key",
    (i) =>
      sql`SELECT id, user_id, kind, address, encrypted_key, seq, created_at FROM wallets WHERE id = ${walletIds[i % walletIds.length]}`,
  ),
  statement(
    "history page: 50 postings + entries",
    (i) => sql`SELECT p.block_number, p.block_timestamp, p.log_index, p.leg, p.token, p.kind, p.counterparty, p.amount,
        p.balance_after, j.transaction_hash, j.reference
      FROM postings p JOIN journal_entries j ON j.chain_id = p.chain_id AND j.block_number = p.block_number AND j.log_index = p.log_index
      WHERE p.chain_id = 1 AND p.account = ${`holder:0x${i % 100}`}
      ORDER BY p.block_number DESC, p.log_index DESC, p.leg DESC LIMIT 51`,
  ),
  statement(
    "insert one event row",
    (i) =>
      sql`INSERT INTO relay_events (relay_id, status, detail) VALUES (${`r${i % 1000}`}, ${"submitted"}, ${JSON.stringify({ i })}::jsonb)`,
  ),
  statement("update 16 rows from unnest", (i) => {
    const ids = Array.from({ length: 16 }, (_, k) => `r${(i * 16 + k) % 1000}`);
    return sql`UPDATE relays r SET status = v.status, block_number = v.block, updated_at = now()
        FROM unnest(${arrayLiteral(ids)}::text[], ${arrayLiteral(ids.map(() => "mined"))}::text[], ${arrayLiteral(ids.map(() => BigInt(i)))}::int8[])
          AS v(relay_id, status, block) WHERE r.relay_id = v.relay_id`;
  }),
];

printConditions("start");
console.log(
  `\nPGlite, ${STATEMENTS} statements per row and path, through drizzle, ${POSTINGS.toLocaleString("en-US")} postings`,
);
await compareAlternating({ paths, operations: statements, units: STATEMENTS, rounds: ROUNDS, label: "statement" });

// The run's messages alone, without the engine: what each statement of the default pays to be sent.
type Encoder = (statement: string, values: BindValue[]) => Uint8Array;
const encoders: [string, Encoder][] = [
  ["PGlite's serializer", pgliteSerializerBindExecuteSync],
  ["lib/db/pglite-bind.ts (the default)", bindExecuteSync],
];
const hash = (i: number) => `0x${i.toString(16).padStart(64, "0")}`;
const encode = (name: string, values: BindValue[]): AlternatingOperation<Encoder> => ({
  name,
  run: async (encoder) => encoder("stablerail_1", values),
});
const relayRecord = [
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "17",
  hash(1),
  `0x02f8${"ab".repeat(200)}`,
  JSON.stringify(["relay-1"]),
  "2000000000",
  "1000000000",
];
const movementRecord = [
  ...Array.from({ length: 12 }, (_, i) => `value-${i}-${"x".repeat(30)}`),
  JSON.stringify({
    kind: "token.transferWithAuthorization",
    from: hash(2).slice(0, 42),
    to: hash(3).slice(0, 42),
    value: "1000000",
    validAfter: "0",
    validBefore: "2000000000",
    nonce: hash(4),
    signature: `0x${"1b".repeat(65)}`,
  }),
  JSON.stringify({ decision: "allow", score: 0.01, reasons: [] }),
  null,
  null,
];
// Fourteen text arrays of 10,000 elements, about 7 MB: the size of the indexer writer's parameters for a
// batch of 5,000 events (docs/benchmarks.md, "PGlite where a user keeps it").
const batch = Array.from({ length: 14 }, (_, column) =>
  arrayLiteral(Array.from({ length: 10_000 }, (_, row) => hash(column * 10_000 + row).slice(0, 20 + column * 4))),
);
console.log(`\nThe run's messages (Bind + Execute + Sync) encoded alone, without the engine`);
await compareAlternating({
  paths: encoders,
  operations: [
    encode("a relay's signed record: 7 parameters", relayRecord),
    encode("a movement's record: 16 parameters", movementRecord),
  ],
  units: STATEMENTS * 10,
  rounds: ROUNDS,
  label: "parameters",
});
await compareAlternating({
  paths: encoders,
  operations: [
    encode(`a writer's batch: 14 arrays, ${(bindExecuteSync("s", batch).length / 1e6).toFixed(1)} MB`, batch),
  ],
  units: 20,
  rounds: ROUNDS,
  warmUpCalls: 5,
  label: "parameters",
});
printConditions("end");
await pglite.close();
