/**
 * What a submission's risk reads cost against the user's activity (printed, not asserted): a user
 * with N movements, in alternating rounds against the design each replaced, kept here as it was
 * (bench/lib/alternating-paths.ts). Wall time includes the server's own time, as every call waits
 * for its reply; CPU is this process's only (the API's share).
 *
 * 1. The velocity windows in Redis. The N movements are spread over the last 29 days, in the
 *    default rule set's windows (2 minutes, 1 hour, 24 hours, 30 days). One unit is one admission
 *    (an accepted movement reads its window totals) and its release (as if it were refused), so N
 *    stays the same. The baseline returned every member of the longest window, and the API parsed
 *    them and added up each window. Now: the running totals of api/risk/velocity-windows.ts.
 * 2. The user's history count, on each engine (PGlite on disk, as `npm start` keeps it). The
 *    baseline counted the user's movements not refused in full. Now: the one row the trigger of
 *    migration 0009 keeps (user_movement_counts).
 * 3. What its triggers cost the writes: a movement inserted and moved on (queued, then
 *    submitted), in a database with the triggers and one without them.
 * 4. The money door's reads under the sender's lock against the sender's history (N movements
 *    from one address, a few still pending). The baseline is the three statements as they were
 *    (the movement of the relay id, the user's standing, the sum of the sender's pending and held
 *    movements, which read the sender's whole history), on a database without migration 0010's
 *    partial indexes. Now: the one statement of doorReadQuery (api/movements/submit-money-movement.ts).
 *    Then what 0010 costs the writes, against the indexes of 0009: `status` is a column its partial
 *    indexes depend on, so marking a movement queued is no longer a HOT update (the share of HOT
 *    updates is printed); it also drops an index nothing read.
 *
 * Run: `tsx bench/risk/user-activity.ts` (BENCH_ACTIVITY_MOVEMENTS = "100,1000,10000,100000";
 * BENCH_ACTIVITY_UNITS = 100 per size and path; BENCH_ENGINES = "pglite,postgres", empty for Redis alone;
 * REDIS_URL = redis://127.0.0.1:6379).
 */
import { randomUUID } from "node:crypto";

import { sql } from "drizzle-orm";
import { Redis } from "ioredis";

import { apiMigrations } from "../../api/db/migration-set.ts";
import { doorReadQuery } from "../../api/movements/submit-money-movement.ts";
import { refusedStatuses } from "../../api/risk/assess-movement.ts";
import { loadFileRuleSet } from "../../api/risk/rule-sets.ts";
import { admitToWindows, releaseFromWindows, windowKeys } from "../../api/risk/velocity-windows.ts";
import { compareAlternating, type AlternatingOperation } from "../lib/alternating-paths.ts";
import { printConditions } from "../lib/conditions.ts";
import { usePgliteStorageOfUsers } from "../lib/pglite-storage.ts";
import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { createTestDatabase, type TestEngine } from "../../test/helpers/database.ts";

const SIZES = (process.env.BENCH_ACTIVITY_MOVEMENTS ?? "100,1000,10000,100000").split(",").map(Number);
const UNITS = Number(process.env.BENCH_ACTIVITY_UNITS ?? 100);
const ENGINES = (process.env.BENCH_ENGINES ?? "pglite,postgres").split(",").filter(Boolean) as TestEngine[];
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `bench-velocity-${process.pid}`;
const windows = loadFileRuleSet().windows;
const lengths = windows.map((w) => w.seconds);
const DAY_MS = 86_400_000;

// The replaced design, as it was in api/risk/velocity-windows.ts (0b640e1).
const READ_BACK_ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local horizon = now - tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. horizon)
local members = redis.call('ZRANGEBYSCORE', KEYS[1], horizon, '+inf', 'WITHSCORES')
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
table.insert(members, 1, tostring(now))
return members
`;
async function readBackAdmit(userId: string, movement: { id: string; amount: bigint; to: string }) {
  const key = windowKeys(prefix, userId).set;
  const member = `${movement.id}|${movement.amount}|${movement.to}`;
  const longest = Math.max(...lengths) * 1000;
  const reply = (await redis.eval(READ_BACK_ADMIT, 1, key, String(longest), member)) as string[];
  const now = Number(reply[0]);
  const inside: { at: number; amount: bigint; to: string }[] = [];
  for (let i = 1; i < reply.length; i += 2) {
    const [, amount, to] = reply[i]!.split("|");
    inside.push({ at: Number(reply[i + 1]), amount: BigInt(amount!), to: to! });
  }
  const totals = windows.map(({ seconds }) => {
    const within = inside.filter((m) => m.at > now - seconds * 1000);
    return {
      count: within.length + 1,
      amount: within.reduce((sum, m) => sum + m.amount, movement.amount),
      recipients: new Set([...within.map((m) => m.to), movement.to]).size,
    };
  });
  await redis.zrem(key, member);
  return totals;
}

/** N members with times spread evenly over the last 29 days (a steady user), amounts and recipients varied. */
async function seed(userId: string, members: number) {
  const key = windowKeys(prefix, userId).set;
  const now = Date.now();
  for (let from = 0; from < members; from += 5_000) {
    const batch: (string | number)[] = [];
    for (let i = from; i < Math.min(members, from + 5_000); i++) {
      const at = now - 60_000 - Math.floor(((i + 0.5) / members) * (29 * DAY_MS));
      batch.push(
        at,
        `${randomUUID()}|${1_000_000 + ((i * 7919) % 1_000_000_000)}|0x${(i % 40).toString(16).padStart(40, "0")}`,
      );
    }
    await redis.zadd(key, ...batch);
  }
  await redis.pexpire(key, 30 * DAY_MS);
}

type Path = "read back" | "running totals";
const users = new Map<string, string>();
const userOf = (path: Path, members: number) => users.get(`${path}|${members}`)!;
for (const members of SIZES) {
  for (const path of ["read back", "running totals"] as const) {
    const userId = randomUUID();
    users.set(`${path}|${members}`, userId);
    await seed(userId, members);
  }
}

const movement = (i: number) => ({ id: randomUUID(), amount: 5_000_000n + BigInt(i), to: "0x" + "ab".repeat(20) });
const operations: AlternatingOperation<Path>[] = SIZES.map((members) => ({
  name: `${members.toLocaleString("en-US")} movements in 30 days`,
  run: async (path, i) => {
    const userId = userOf(path, members);
    const m = movement(i);
    if (path === "read back") return readBackAdmit(userId, m);
    await admitToWindows(redis, prefix, userId, lengths, m);
    await releaseFromWindows(redis, prefix, userId, m);
  },
}));

console.log(
  `## Velocity windows: one admission and its release, against the user's activity\n\n` +
    `${UNITS} per size and path, windows ${windows.map((w) => w.name).join(", ")}, Redis ${(await redis.info("server")).match(/redis_version:(\S+)/)?.[1]}.\n`,
);
printConditions("start");
await compareAlternating<Path>({
  paths: [
    ["read back", "read back"],
    ["running totals", "running totals"],
  ],
  operations,
  units: UNITS,
  // The largest size costs the baseline half a second a call: a short warm-up (it also builds the totals).
  warmUpCalls: 5,
  label: "the user's window holds",
});
printConditions("end");

const keys = await redis.keys(`${prefix}:*`);
for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
redis.disconnect();

// 2 and 3: the database's part.
const storage = usePgliteStorageOfUsers();
const refused = sql.join(
  refusedStatuses.map((status) => sql`${status}`),
  sql`, `,
);

/** N movements of one user (most accepted, some refused), inserted in one statement. */
async function seedMovements(database: Database, userId: string, movements: number) {
  await database.query(sql`INSERT INTO money_movements (id, user_id, kind, from_address, to_address, token, amount, nonce, status)
    SELECT gen_random_uuid(), ${userId}, 'transfer', '0x' || repeat('1', 40), '0x' || lpad(to_hex(g % 40), 40, '0'),
      '0x' || repeat('3', 40), g, ${userId} || '-' || g, CASE WHEN g % 20 = 0 THEN 'denied' ELSE 'confirmed' END
    FROM generate_series(1, ${movements}) g`);
}

/** A sender with N movements of one user (finished), and three still pending (which reserve). */
async function seedSender(database: Database, userId: string, from: string, movements: number) {
  await database.query(
    sql`INSERT INTO api_users (id, role, name) VALUES (${userId}, 'user', 'sender') ON CONFLICT DO NOTHING`,
  );
  await database.query(sql`INSERT INTO money_movements (id, user_id, kind, from_address, to_address, token, amount, nonce, status, relay_id)
    SELECT gen_random_uuid(), ${userId}, 'transfer', ${from}, '0x' || lpad(to_hex(g % 40), 40, '0'), '0x' || repeat('3', 40), g,
      ${from} || '-' || g, CASE WHEN g <= 3 THEN 'pending' WHEN g % 20 = 0 THEN 'denied' ELSE 'confirmed' END, ${from} || '-relay-' || g
    FROM generate_series(1, ${movements}) g`);
}

// The door's three reads as they were (api/movements/submit-money-movement.ts and available-balance.ts, 03abd02).
type DoorPath = (database: Database, p: { userId: string; from: string; relayId: string }) => Promise<unknown>;
const threeReads: DoorPath = async (database, { userId, from, relayId }) => {
  await database.query(sql`SELECT * FROM money_movements WHERE relay_id = ${relayId}`);
  await database.query(sql`SELECT frozen, tier FROM api_users WHERE id = ${userId}`);
  await database.query(sql`SELECT sum(amount)::text FROM money_movements
    WHERE from_address = ${from} AND id <> ${randomUUID()} AND user_id = ${userId} AND status IN (${"pending"}, ${"held"})`);
};
const doorRead: DoorPath = (database, values) => doorReadQuery(database.db).execute(values);
// A movement's record about the size the door writes: its signed request and its risk decision.
const relayRequestJson = JSON.stringify({
  kind: "token.transferWithAuthorization",
  signature: `0x${"ab".repeat(65)}`,
  nonce: `0x${"cd".repeat(32)}`,
});
const riskJson = JSON.stringify({
  decision: "allow",
  reasons: [],
  score: 0.01,
  factors: { amount: 0.1, history: 0.2 },
});

type CountPath = (database: Database, userId: string) => Promise<unknown>;
for (const engine of ENGINES) {
  const database = await createTestDatabase(engine, "bench_activity");
  const withoutTrigger = await createTestDatabase(engine, "bench_activity_plain");
  try {
    await runMigrations(database, [apiMigrations]);
    await runMigrations(withoutTrigger, [apiMigrations]);
    await withoutTrigger.query(sql`DROP TRIGGER money_movements_count_user_movements ON money_movements`);
    await withoutTrigger.query(sql`DROP TRIGGER money_movements_recount_user_movements ON money_movements`);
    const userOfSize = new Map<number, string>();
    for (const movements of SIZES) {
      const userId = randomUUID();
      userOfSize.set(movements, userId);
      await seedMovements(database, userId, movements);
    }
    await database.query(sql`ANALYZE money_movements`);

    const label = engine === "pglite" ? `PGlite (${storage}, in its thread)` : "PostgreSQL";
    console.log(`\n## The user's history count, ${label}\n\n${UNITS} reads per size and path.\n`);
    printConditions("start");
    await compareAlternating<CountPath>({
      paths: [
        [
          "counted in full",
          (db, userId) =>
            db.query(
              sql`SELECT count(*) FROM money_movements WHERE user_id = ${userId} AND status NOT IN (${refused})`,
            ),
        ],
        [
          "the kept row",
          (db, userId) => db.query(sql`SELECT movements FROM user_movement_counts WHERE user_id = ${userId}`),
        ],
      ],
      operations: SIZES.map((movements) => ({
        name: `${movements.toLocaleString("en-US")} movements`,
        run: (path) => path(database, userOfSize.get(movements)!),
      })),
      units: UNITS,
      warmUpCalls: 20,
      label: "the user has",
    });
    printConditions("end");

    console.log(`\n## What the triggers cost a movement's writes, ${label}\n\n${UNITS * 4} per path.\n`);
    printConditions("start");
    const writer = randomUUID();
    await seedMovements(withoutTrigger, writer, 1_000);
    await seedMovements(database, writer, 1_000);
    await compareMovementWrites(
      [
        ["without the triggers", withoutTrigger],
        ["with them", database],
      ],
      "insert a movement (queued), then mark it submitted",
      async (db, id, i) => {
        await db.query(sql`INSERT INTO money_movements (id, user_id, kind, from_address, to_address, token, amount, nonce, status)
          VALUES (${id}, ${writer}, 'transfer', ${"0x" + "1".repeat(40)}, ${"0x" + "2".repeat(40)}, ${"0x" + "3".repeat(40)}, ${i + 1}, ${id}, 'queued')`);
        await db.query(sql`UPDATE money_movements SET status = 'submitted' WHERE id = ${id}`);
      },
    );
    printConditions("end");
  } finally {
    await database.drop();
    await withoutTrigger.drop();
  }

  // 4. The door's reads, and what migration 0010's partial indexes cost a movement's writes.
  const current = await createTestDatabase(engine, "bench_door");
  const before = await createTestDatabase(engine, "bench_door_before");
  try {
    await runMigrations(current, [apiMigrations]);
    await runMigrations(before, [apiMigrations]);
    await before.query(sql`DROP INDEX money_movements_unfinished`);
    await before.query(sql`DROP INDEX money_movements_wallet_pending`);
    await before.query(sql`CREATE INDEX money_movements_user_time ON money_movements (user_id, created_at)`);
    const senderOfSize = new Map<number, { userId: string; from: string }>();
    for (const movements of SIZES) {
      const sender = { userId: randomUUID(), from: `0x${movements.toString(16).padStart(40, "0")}` };
      senderOfSize.set(movements, sender);
      for (const db of [current, before]) await seedSender(db, sender.userId, sender.from, movements);
    }
    for (const db of [current, before]) await db.query(sql`ANALYZE money_movements`);

    const label = engine === "pglite" ? `PGlite (${storage}, in its thread)` : "PostgreSQL";
    console.log(`\n## The money door's reads against the sender's history, ${label}\n\n${UNITS} per size and path.\n`);
    printConditions("start");
    await compareAlternating<[Database, DoorPath]>({
      paths: [
        ["three reads, before 0010", [before, threeReads]],
        ["the door's one read", [current, doorRead]],
      ],
      operations: SIZES.map((movements) => ({
        name: `${movements.toLocaleString("en-US")} movements`,
        run: ([db, read]) => read(db, { ...senderOfSize.get(movements)!, relayId: `relay-${randomUUID()}` }),
      })),
      units: UNITS,
      warmUpCalls: 20,
      label: "the sender has",
    });
    printConditions("end");

    console.log(`\n## What migration 0010 costs a movement's writes, ${label}\n\n${UNITS * 4} per path.\n`);
    printConditions("start");
    const writer = randomUUID();
    const updatesBefore = new Map<Database, { all: number; hot: number }>();
    for (const db of [current, before]) updatesBefore.set(db, await updateCounts(db));
    await compareMovementWrites(
      [
        ["before 0010", before],
        ["after 0010", current],
      ],
      "insert a movement (pending), then mark it queued",
      async (db, id, i) => {
        await db.query(sql`INSERT INTO money_movements (id, user_id, wallet_id, kind, from_address, to_address, token, amount, nonce, status, relay_request, risk)
          VALUES (${id}, ${writer}, ${writer}, 'transfer', ${"0x" + "1".repeat(40)}, ${"0x" + "2".repeat(40)}, ${"0x" + "3".repeat(40)},
            ${i + 1}, ${id}, 'pending', ${relayRequestJson}::jsonb, ${riskJson}::jsonb)`);
        await db.query(sql`UPDATE money_movements SET status = 'queued' WHERE id = ${id}`);
      },
    );
    for (const [name, db] of [
      ["before 0010", before],
      ["after 0010", current],
    ] as const) {
      const [was, now] = [updatesBefore.get(db)!, await updateCounts(db)];
      const all = now.all - was.all;
      console.log(`${name}: ${now.hot - was.hot} of ${all} updates HOT (no index entry written)`);
    }
    printConditions("end");
  } finally {
    await current.drop();
    await before.drop();
  }
}

/** A movement's writes, `write(db, id, i)`, on each database of `paths` in alternating rounds (UNITS × 4 per path). */
async function compareMovementWrites(
  paths: [string, Database][],
  name: string,
  write: (db: Database, id: string, i: number) => Promise<void>,
) {
  await compareAlternating<Database>({
    paths,
    operations: [{ name, run: (db, i) => write(db, randomUUID(), i) }],
    units: UNITS * 4,
    warmUpCalls: 50,
    label: "each",
  });
}

/** The table's updates so far, and how many of them were HOT (the session's statistics flushed first). */
async function updateCounts(database: Database) {
  await database.query(sql`SELECT pg_stat_force_next_flush()`);
  const [row] = await database.query<{ all: string | number; hot: string | number }>(
    sql`SELECT n_tup_upd AS all, n_tup_hot_upd AS hot FROM pg_stat_user_tables
      WHERE relname = 'money_movements' AND schemaname = current_schema()`,
  );
  return { all: Number(row?.all ?? 0), hot: Number(row?.hot ?? 0) };
}
