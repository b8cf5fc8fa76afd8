/**
 * Ledger read benchmark (printed, not asserted): p50 / p99 of the API's balance and history reads with
 * one million ledger rows (postings), against the same reads on a ten-thousand-row ledger measured in
 * the same run, on PGlite and on PostgreSQL.
 *
 * Real parts: the whole API of test/api/helpers/api-fixture.ts (in-process Hardhat chain, Redis, the
 * relayer's queue without a worker, the Fastify app) on PGlite in memory or on the PostgreSQL at
 * 127.0.0.1:5432/test (a fresh schema, dropped at the end). Two custodial wallets are created through the
 * API; the ledger is then filled in bulk with SQL (generate_series), as the indexer's writer would have
 * written it:
 * - journal_entries: one row per token movement; a mint from the issuance account to every account
 *   first, then transfers between pseudo-random accounts, four entries per block, one block per 12 s;
 * - postings: two legs per entry (debit −v, credit +v: every pair sums to zero), NUMERIC(78,0) amounts,
 *   `balance_after` the running balance of the account (a window sum in chain order);
 * - account_balances (the last balance_after of each account), ledger_blocks, and the checkpoint.
 * The large ledger has 1,000,000 postings over 10,000 accounts; the baseline 10,000 postings over 100
 * accounts — the same ~100 postings per account, so the ratio isolates the size of the tables. Wallet
 * "typical" is one of those accounts; wallet "busy" also receives one transfer in 50 (2 % of the ledger:
 * ~9,800 postings in the large ledger, ~100 in the baseline).
 *
 * Reads, each through the Fastify app (`app.inject`: routing, auth, validation, serialisation — no
 * socket) one after the other, interleaved between the two ledgers round by round so that a change in
 * the machine's load hits both alike: GET /v1/wallets/:id (the same auth and wallet lookup, no ledger
 * read: the HTTP baseline), GET balances, GET balances?block= (a balance in the middle of the history),
 * GET history (first page of 50), the next page by cursor, and history filtered by counterparty and by
 * time. Then, over a real socket, autocannon with BENCH_CONNECTIONS clients on balances and history of each
 * ledger (two runs of BENCH_DURATION_SECONDS each, in A-B-B-A order): throughput and latency under load.
 *
 * The result of every read is checked against the rows generated (a fast wrong figure is worthless).
 *
 * Run: `hardhat run bench/api/ledger-reads.ts` (BENCH_LEDGER_ROWS = 1,000,000, BENCH_BASELINE_ROWS =
 * 10,000, BENCH_READS = 1,000 per read, BENCH_CONNECTIONS = 200, BENCH_DURATION_SECONDS = 5 (0 skips the
 * autocannon pass), BENCH_ENGINES = "pglite,postgres").
 */
import autocannon from "autocannon";
import { sql } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import { createApiFixture, type ApiFixture } from "../../test/api/helpers/api-fixture.ts";
import { balancesAtBlockStatement } from "../../lib/ledger/queries/get-balances.ts";
import { percentile, printConditions, times } from "../lib/conditions.ts";
import { profilePhase } from "../lib/profile-phase.ts";

const LARGE = Number(process.env.BENCH_LEDGER_ROWS ?? 1_000_000);
const SMALL = Number(process.env.BENCH_BASELINE_ROWS ?? 10_000);
const POSTINGS_PER_ACCOUNT = 100;
const READS = Number(process.env.BENCH_READS ?? 1_000);
const ROUNDS = 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const DURATION_SECONDS = Number(process.env.BENCH_DURATION_SECONDS ?? 5);
const ENGINES = (process.env.BENCH_ENGINES ?? "pglite,postgres").split(",") as ("pglite" | "postgres")[];
const CHAIN_ID = 31337;
/** Synthetic blocks start far above the fixture chain's own few blocks. */
const FIRST_BLOCK = 1_000_000;
const FIRST_TIMESTAMP = 1_700_000_000;
const ENTRIES_PER_BLOCK = 4;
const MINT = 10n ** 12n;
const BUSY_EVERY = 50;

type Wallet = { id: string; address: Address; account: string };
type Ledger = {
  label: string;
  postings: number;
  accounts: number;
  api: ApiFixture;
  key: string;
  wallets: { typical: Wallet; busy: Wallet };
  lastBlock: number;
  fillSeconds: number;
};
type Read = { name: string; url: (ledger: Ledger, wallet: Wallet) => string; check: (body: unknown) => void };

const line = (text: string) => process.stdout.write(`${text}\n`);

/** Creates the API, two wallets and a ledger of `postings` rows spread over `postings / 100` accounts. */
async function buildLedger(engine: "pglite" | "postgres", label: string, postings: number): Promise<Ledger> {
  const api = await createApiFixture(`bench_reads_${label}`, { engine, relay: "queue", rateLimitPerMinute: 1e9 });
  try {
    const user = await api.createUser("user", "bench");
    const createWallet = async (): Promise<Wallet> => {
      const response = await api.request("POST", "/v1/wallets", { key: user.key, body: {} });
      if (response.status !== 201) throw new Error(`wallet creation failed: ${JSON.stringify(response.body)}`);
      const { id, address } = response.body as { id: string; address: Address };
      return { id, address, account: `holder:${getAddress(address)}` };
    };
    const wallets = { typical: await createWallet(), busy: await createWallet() };
    const accounts = Math.max(3, Math.round(postings / POSTINGS_PER_ACCOUNT));
    const entries = Math.floor(postings / 2);
    const started = performance.now();
    await fill(api, {
      accounts,
      entries,
      token: api.token,
      typical: wallets.typical.account,
      busy: wallets.busy.account,
    });
    const fillSeconds = (performance.now() - started) / 1000;
    const lastBlock = FIRST_BLOCK + Math.floor((entries - 1) / ENTRIES_PER_BLOCK);
    return { label, postings: entries * 2, accounts, api, key: user.key, wallets, lastBlock, fillSeconds };
  } catch (error) {
    await api.close();
    throw error;
  }
}

/**
 * Writes the synthetic ledger in set-based SQL. Account 0 is the typical wallet, account 1 the busy one;
 * entries 1..accounts mint to each account, the rest are transfers.
 */
async function fill(
  api: ApiFixture,
  p: { accounts: number; entries: number; token: Address; typical: string; busy: string },
): Promise<void> {
  const { database } = api;
  const token = getAddress(p.token);
  const issuance = `issuance:${token}`;
  // A deterministic pseudo-random integer in [0, n) from a seed text.
  const rand = (seed: string, n: number) => sql.raw(`(('x' || substr(md5(${seed}), 1, 7))::bit(28)::int % ${n})`);
  const account = (index: string) =>
    sql`(CASE WHEN ${sql.raw(index)} = 0 THEN ${p.typical} WHEN ${sql.raw(index)} = 1 THEN ${p.busy}
          ELSE 'holder:0x' || left(md5('a' || ${sql.raw(index)}) || md5('b' || ${sql.raw(index)}), 40) END)`;
  await database.query(sql`DROP TABLE IF EXISTS bench_entries`);
  await database.query(sql`
    CREATE TABLE bench_entries AS
    WITH raw AS (
      SELECT g,
             g - ${p.accounts} AS k,
             ${rand("'s' || g", p.accounts)} AS s,
             ${rand("'r' || g", p.accounts - 1)} AS r
      FROM generate_series(1, ${p.entries}) AS g
    ), picked AS (
      SELECT g, k,
             CASE WHEN k > 0 AND k % ${BUSY_EVERY} = 0 AND s = 1 THEN 2 ELSE s END AS sender,
             CASE WHEN k > 0 AND k % ${BUSY_EVERY} = 0 THEN 1 ELSE NULL END AS busy_receiver,
             r
      FROM raw
    )
    SELECT g,
           ${FIRST_BLOCK} + (g - 1) / ${ENTRIES_PER_BLOCK} AS block_number,
           ((g - 1) % ${ENTRIES_PER_BLOCK})::integer AS log_index,
           ${FIRST_TIMESTAMP} + 12 * ((g - 1) / ${ENTRIES_PER_BLOCK}) AS block_timestamp,
           '0x' || md5('tx' || g) || md5('tx.' || g) AS transaction_hash,
           CASE WHEN k <= 0 THEN 'mint' ELSE 'transfer' END AS kind,
           CASE WHEN k <= 0 THEN ${issuance} ELSE ${account("sender")} END AS debit,
           CASE WHEN k <= 0 THEN ${account("g - 1")}
                ELSE ${account(`coalesce(busy_receiver, (sender + 1 + r) % ${p.accounts})`)} END AS credit,
           CASE WHEN k <= 0 THEN ${MINT.toString()}::numeric(78,0)
                ELSE ((1 + ${rand("'v' || g", 1000)}) * 10000)::numeric(78,0) END AS value
    FROM picked`);
  await database.query(sql`
    INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event)
    SELECT ${CHAIN_ID}, block_number, log_index, '0x' || md5('block' || block_number) || md5('block.' || block_number),
           block_timestamp, transaction_hash, ${token}, kind, NULL,
           jsonb_build_object('transfer', jsonb_build_object(
             'from', CASE WHEN kind = 'mint' THEN '0x0000000000000000000000000000000000000000' ELSE substr(debit, 8) END,
             'to', substr(credit, 8), 'value', value::text))
    FROM bench_entries`);
  await database.query(sql`
    INSERT INTO postings (chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp)
    SELECT ${CHAIN_ID}, legs.block_number, legs.log_index, legs.leg, legs.account, legs.counterparty, ${token}, legs.amount,
           coalesce(before.balance, 0) +
             sum(legs.amount) OVER (PARTITION BY legs.account ORDER BY legs.block_number, legs.log_index, legs.leg),
           legs.kind, legs.block_timestamp
    FROM (
      SELECT block_number, log_index, 0 AS leg, debit AS account, credit AS counterparty, -value AS amount, kind, block_timestamp FROM bench_entries
      UNION ALL
      SELECT block_number, log_index, 1 AS leg, credit AS account, debit AS counterparty, value AS amount, kind, block_timestamp FROM bench_entries
    ) AS legs
    -- The token's issuance account already holds the fixture's own mints: its running balance goes on from there.
    LEFT JOIN account_balances AS before
      ON before.chain_id = ${CHAIN_ID} AND before.account = legs.account AND before.token = ${token}`);
  await database.query(sql`
    INSERT INTO account_balances (chain_id, account, token, balance, block_number)
    SELECT DISTINCT ON (account) chain_id, account, token, balance_after, block_number
    FROM postings WHERE chain_id = ${CHAIN_ID} AND token = ${token} AND block_number >= ${FIRST_BLOCK}
    ORDER BY account, block_number DESC, log_index DESC, leg DESC
    ON CONFLICT (chain_id, account, token) DO UPDATE SET balance = excluded.balance, block_number = excluded.block_number`);
  await database.query(sql`
    INSERT INTO ledger_blocks (chain_id, number, hash, parent_hash, timestamp)
    SELECT ${CHAIN_ID}, n, '0x' || md5('block' || n) || md5('block.' || n),
           '0x' || md5('block' || (n - 1)) || md5('block.' || (n - 1)), ${FIRST_TIMESTAMP} + 12 * (n - ${FIRST_BLOCK})
    FROM generate_series(${FIRST_BLOCK}, (SELECT max(block_number) FROM bench_entries)) AS n
    ON CONFLICT DO NOTHING`);
  // The indexed head: the fixture runs no indexer, so the chain's row may not exist yet (a read "as of block N"
  // is refused above the head). The genesis hash is a stand-in; nothing here compares it with the chain.
  await database.query(sql`
    INSERT INTO ledger_chains (chain_id, genesis_hash, head_number, head_hash, head_timestamp)
    SELECT ${CHAIN_ID}, '0x' || md5('genesis') || md5('genesis.'), b.number, b.hash, b.timestamp
    FROM (SELECT number, hash, timestamp FROM ledger_blocks WHERE chain_id = ${CHAIN_ID} ORDER BY number DESC LIMIT 1) AS b
    ON CONFLICT (chain_id) DO UPDATE SET head_number = excluded.head_number, head_hash = excluded.head_hash,
      head_timestamp = excluded.head_timestamp, updated_at = now()`);
  await database.query(sql`DROP TABLE bench_entries`);
  for (const table of ["journal_entries", "postings", "account_balances", "ledger_blocks"])
    await database.query(sql.raw(`VACUUM ANALYZE ${table}`));

  // A fast wrong figure is worthless: every pair balances, the counts are exact, balances match the postings.
  const [check] = await database.query<Record<string, string | number | null>>(sql`
    SELECT (SELECT count(*) FROM postings WHERE block_number >= ${FIRST_BLOCK}) AS postings,
           (SELECT count(*) FROM journal_entries WHERE block_number >= ${FIRST_BLOCK}) AS entries,
           (SELECT count(*) FROM (SELECT 1 FROM postings WHERE block_number >= ${FIRST_BLOCK}
              GROUP BY block_number, log_index HAVING count(*) <> 2 OR sum(amount) <> 0) AS unbalanced) AS unbalanced,
           (SELECT count(*) FROM account_balances b WHERE b.balance <> (SELECT sum(amount) FROM postings p
              WHERE p.chain_id = b.chain_id AND p.account = b.account AND p.token = b.token)) AS mismatched,
           (SELECT count(*) FROM account_balances WHERE balance < 0 AND account LIKE 'holder:%') AS negative`);
  const expected = { postings: 2 * p.entries, entries: p.entries, unbalanced: 0, mismatched: 0, negative: 0 };
  for (const [key, value] of Object.entries(expected))
    if (Number(check?.[key]) !== value)
      throw new Error(`generated ledger is wrong: ${key} = ${check?.[key]}, expected ${value}`);
}

async function postingCount(ledger: Ledger, wallet: Wallet): Promise<number> {
  const [row] = await ledger.api.database.query<{ count: string | number }>(
    sql`SELECT count(*) AS count FROM postings WHERE chain_id = ${CHAIN_ID} AND account = ${wallet.account}`,
  );
  return Number(row?.count);
}

async function expectedBalance(ledger: Ledger, wallet: Wallet, block?: number): Promise<string> {
  const [row] = await ledger.api.database.query<{ balance: string | null }>(sql`
    SELECT coalesce(sum(amount), 0)::text AS balance FROM postings
    WHERE chain_id = ${CHAIN_ID} AND account = ${wallet.account} AND block_number <= ${block ?? Number.MAX_SAFE_INTEGER}`);
  return row!.balance!;
}

/** The reads, each with a check of its answer computed from the rows directly. */
async function readsFor(ledger: Ledger, wallet: Wallet): Promise<Read[]> {
  const middle = Math.floor((FIRST_BLOCK + ledger.lastBlock) / 2);
  const [now, atMiddle] = [await expectedBalance(ledger, wallet), await expectedBalance(ledger, wallet, middle)];
  const postings = await postingCount(ledger, wallet);
  const base = `/v1/wallets/${wallet.id}`;
  const first = (await ledger.api.request("GET", `${base}/history?limit=50`, { key: ledger.key })).body as {
    nextCursor: string | null;
  };
  const issuance = `issuance:${getAddress(ledger.api.token)}`;
  const fromTime = FIRST_TIMESTAMP + Math.floor(((ledger.lastBlock - FIRST_BLOCK) * 12) / 2);
  const balanceIs = (expected: string) => (body: unknown) => {
    const item = (body as { items: { balance: string }[] }).items[0];
    if (item?.balance !== expected) throw new Error(`balance ${item?.balance}, expected ${expected}`);
  };
  const pageOf = (count: number) => (body: unknown) => {
    const { items } = body as { items: unknown[] };
    if (items.length !== count) throw new Error(`history page of ${items.length} items, expected ${count}`);
  };
  return [
    {
      name: "GET wallet (auth + wallet row; HTTP baseline)",
      url: () => base,
      check: (body) => {
        if ((body as { id: string }).id !== wallet.id) throw new Error("wrong wallet");
      },
    },
    { name: "GET balances", url: () => `${base}/balances`, check: balanceIs(now) },
    {
      name: "GET balances?block= (mid-history)",
      url: () => `${base}/balances?block=${middle}`,
      check: balanceIs(atMiddle),
    },
    { name: "GET history?limit=50", url: () => `${base}/history?limit=50`, check: pageOf(Math.min(50, postings)) },
    {
      name: "GET history, next page (cursor)",
      url: () => `${base}/history?limit=50&cursor=${first.nextCursor}`,
      check: pageOf(Math.min(50, postings - 50)),
    },
    {
      name: "GET history?counterparty=issuance",
      url: () => `${base}/history?limit=50&counterparty=${issuance}`,
      check: pageOf(1),
    },
    {
      name: "GET history?fromTime= (second half)",
      url: () => `${base}/history?limit=50&fromTime=${fromTime}`,
      check: (body) => {
        if ((body as { items: unknown[] }).items.length === 0) throw new Error("empty history page");
      },
    },
  ];
}

async function injectOnce(ledger: Ledger, url: string, check: (body: unknown) => void): Promise<number> {
  const started = performance.now();
  const response = await ledger.api.app.inject({
    method: "GET",
    url,
    headers: { authorization: `Bearer ${ledger.key}` },
  });
  const ms = performance.now() - started;
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  check(response.json());
  return ms;
}

type Sample = { ledger: string; wallet: string; read: string; ms: number[] };

async function measureSequential(ledgers: Ledger[]): Promise<Sample[]> {
  const plans: { ledger: Ledger; wallet: Wallet; read: Read; sample: Sample }[] = [];
  for (const ledger of ledgers)
    for (const [walletName, wallet] of Object.entries(ledger.wallets))
      for (const read of await readsFor(ledger, wallet))
        plans.push({
          ledger,
          wallet,
          read,
          sample: { ledger: ledger.label, wallet: walletName, read: read.name, ms: [] },
        });
  const once = (plan: (typeof plans)[number]) =>
    injectOnce(plan.ledger, plan.read.url(plan.ledger, plan.wallet), plan.read.check);
  // Warm-up (plans, caches, JIT), then rounds interleaved across ledgers so load changes hit both alike.
  for (const plan of plans) for (let i = 0; i < 20; i++) await once(plan);
  const perRound = Math.ceil(READS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++)
    for (const plan of plans) for (let i = 0; i < perRound; i++) plan.sample.ms.push(await once(plan));
  return plans.map((plan) => plan.sample);
}

function report(engine: string, samples: Sample[], ledgers: Ledger[]): void {
  const [small, large] = ledgers as [Ledger, Ledger];
  const stats = (sample: Sample | undefined) => {
    const sorted = [...(sample?.ms ?? [])].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  };
  const find = (ledger: string, wallet: string, read: string) =>
    samples.find((s) => s.ledger === ledger && s.wallet === wallet && s.read === read);
  const ms = (value: number) => value.toFixed(2);
  for (const wallet of ["typical", "busy"] as const) {
    line("");
    line(
      `${engine}, wallet "${wallet}" — ${READS} sequential reads each through app.inject, ms ` +
        `(${small.label}: ${small.postings.toLocaleString("en-US")} postings; ` +
        `${large.label}: ${large.postings.toLocaleString("en-US")} postings)`,
    );
    line(
      `| read | p50 ${small.label} | p99 ${small.label} | p50 ${large.label} | p99 ${large.label} | p50 ratio | p99 ratio | p99 ${large.label} ÷ HTTP baseline |`,
    );
    line("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    const baseline = stats(find(large.label, wallet, samples[0]!.read));
    for (const read of [...new Set(samples.map((s) => s.read))]) {
      const [a, b] = [stats(find(small.label, wallet, read)), stats(find(large.label, wallet, read))];
      line(
        `| ${read} | ${ms(a.p50)} | ${ms(a.p99)} | ${ms(b.p50)} | ${ms(b.p99)} | ${times(b.p50, a.p50)} | ${times(b.p99, a.p99)} | ${times(b.p99, baseline.p99)} |`,
      );
    }
  }
}

async function measureConcurrent(engine: string, ledgers: Ledger[]): Promise<void> {
  if (DURATION_SECONDS <= 0) return;
  line("");
  line(
    `${engine} — autocannon, ${CONNECTIONS} clients over a socket, wallet "typical": two runs of ${DURATION_SECONDS} s ` +
      `per read and ledger in A-B-B-A order after a warm-up (mean of the two)`,
  );
  line("| read | ledger | req/s | p50 ms | p99 ms | non-2xx | errors |");
  line("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  const urls = await Promise.all(ledgers.map((ledger) => ledger.api.app.listen({ host: "127.0.0.1", port: 0 })));
  const hit = (i: number, path: string, duration: number, connections: number) =>
    autocannon({
      url: `${urls[i]}/v1/wallets/${ledgers[i]!.wallets.typical.id}/${path}`,
      connections,
      duration,
      headers: { authorization: `Bearer ${ledgers[i]!.key}` },
    });
  for (const path of ["balances", "history?limit=50"]) {
    for (const i of ledgers.keys()) await hit(i, path, 1, 20);
    const results: autocannon.Result[][] = ledgers.map(() => []);
    for (const i of [0, 1, 1, 0]) results[i]!.push(await hit(i, path, DURATION_SECONDS, CONNECTIONS));
    for (const [i, ledger] of ledgers.entries()) {
      const runs = results[i]!;
      const mean = (pick: (r: autocannon.Result) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
      line(
        `| GET ${path} | ${ledger.label} | ${Math.round(mean((r) => r.requests.average))} | ` +
          `${Math.round(mean((r) => r.latency.p50))} | ${Math.round(mean((r) => r.latency.p99))} | ` +
          `${runs.reduce((sum, r) => sum + r.non2xx, 0)} | ${runs.reduce((sum, r) => sum + r.errors, 0)} |`,
      );
    }
  }
}

function sizeLabel(rows: number): string {
  return rows >= 1_000_000 ? `${rows / 1_000_000}M` : rows >= 1000 ? `${rows / 1000}k` : String(rows);
}

/**
 * The plans of the ledger queries behind the reads (the SQL of lib/ledger/queries/get-balances.ts and
 * get-history.ts, written out here) for the busy wallet of the large ledger: every scan node, so a
 * sequential scan over the big tables shows at once.
 */
async function printPlans(engine: string, ledger: Ledger): Promise<void> {
  const account = ledger.wallets.busy.account;
  const middle = Math.floor((FIRST_BLOCK + ledger.lastBlock) / 2);
  const history = (filter: ReturnType<typeof sql>) => sql`
    SELECT p.block_number, p.block_timestamp, p.log_index, p.leg, p.token, p.kind, p.counterparty, p.amount,
           p.balance_after, j.transaction_hash, j.reference
    FROM postings p JOIN journal_entries j
      ON j.chain_id = p.chain_id AND j.block_number = p.block_number AND j.log_index = p.log_index
    WHERE p.chain_id = ${CHAIN_ID} AND p.account = ${account} ${filter}
    ORDER BY p.block_number DESC, p.log_index DESC, p.leg DESC LIMIT 51`;
  const queries: [string, ReturnType<typeof sql>][] = [
    [
      "balances",
      sql`SELECT token, balance, block_number FROM account_balances WHERE chain_id = ${CHAIN_ID} AND account = ${account} ORDER BY token`,
    ],
    ["balances?block=", balancesAtBlockStatement(CHAIN_ID, account, middle)],
    ["history", history(sql``)],
    ["history?counterparty=", history(sql`AND p.counterparty = ${`issuance:${getAddress(ledger.api.token)}`}`)],
    ["history?fromTime=", history(sql`AND p.block_timestamp >= ${FIRST_TIMESTAMP}`)],
    // The reads filtered by token (a statement's opening balance, a history of one token): since 0004
    // they have no (account, token, …) index and must still scan by account, never sequentially.
    ["history?token=", history(sql`AND p.token = ${getAddress(ledger.api.token)}`)],
    [
      "balance of one token at a block",
      sql`SELECT balance_after FROM postings WHERE chain_id = ${CHAIN_ID} AND account = ${account}
        AND token = ${getAddress(ledger.api.token)} AND block_number <= ${middle}
        ORDER BY block_number DESC, log_index DESC, leg DESC LIMIT 1`,
    ],
  ];
  line("");
  line(`${engine}: query plans on the ${ledger.label} ledger, busy wallet (scan nodes only)`);
  for (const [name, query] of queries) {
    const rows = await ledger.api.database.query<{ "QUERY PLAN": string }>(sql`EXPLAIN ${query}`);
    const scans = rows
      .map((row) =>
        row["QUERY PLAN"]
          .trim()
          .replace(/^->\s*/, "")
          .replace(/\s+\(cost=.*$/, ""),
      )
      .filter((node) => /Scan|Sort/.test(node));
    line(`- ${name}: ${scans.join("; ")}`);
  }
}

async function main(): Promise<void> {
  printConditions("start");
  for (const engine of ENGINES) {
    const ledgers: Ledger[] = [];
    try {
      ledgers.push(await buildLedger(engine, sizeLabel(SMALL), SMALL));
      ledgers.push(await buildLedger(engine, sizeLabel(LARGE), LARGE));
      for (const ledger of ledgers) {
        const counts = await Promise.all(Object.values(ledger.wallets).map((wallet) => postingCount(ledger, wallet)));
        line(
          `${engine}: ledger ${ledger.label} — ${ledger.postings.toLocaleString("en-US")} postings over ` +
            `${ledger.accounts.toLocaleString("en-US")} accounts, filled in ${ledger.fillSeconds.toFixed(1)} s ` +
            `(typical wallet ${counts[0]} postings, busy wallet ${counts[1]})`,
        );
      }
      printConditions(`${engine}, ledgers filled`);
      await printPlans(engine, ledgers[1]!);
      report(engine, await profilePhase(`${engine}-sequential-reads`, () => measureSequential(ledgers)), ledgers);
      await measureConcurrent(engine, ledgers);
      printConditions(`${engine}, done`);
    } finally {
      for (const ledger of ledgers) await ledger.api.close();
    }
  }
}

await main();
