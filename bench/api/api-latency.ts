/**
 * API benchmark (printed, not asserted), on real parts: in-process Hardhat chain, PostgreSQL,
 * Redis, the relayer's real queue (no worker — the submit path ends when the job is queued).
 *
 * 1. Submit latency: 200 concurrent clients POST custodial transfers (each with its own
 *    Idempotency-Key) for a fixed duration — p50 / p99 / throughput.
 * 2. Read latency with one million ledger rows: postings for one wallet plus 999,999 for other
 *    accounts are generated in SQL, then GET balances and GET history are hammered — p99.
 *
 * Run: STABLERAIL_HARDHAT_BUILD_DIR=/work/main/.hardhat-builds/api hardhat run bench/api/api-latency.ts
 */
import { randomBytes } from "node:crypto";

import autocannon from "autocannon";
import { sql } from "drizzle-orm";

import { createApiFixture } from "../../test/api/helpers/api-fixture.ts";
import { ONE } from "../../test/helpers/stablecoin.ts";

const DURATION_SECONDS = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = 200;
const LEDGER_ROWS = Number(process.env.BENCH_LEDGER_ROWS ?? 1_000_000);

function report(title: string, result: autocannon.Result): void {
  const { latency, requests, non2xx, errors } = result;
  process.stdout.write(
    `${title}: p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms, ${requests.average} req/s, ` +
      `${result.requests.total} requests, non-2xx ${non2xx}, errors ${errors}\n`,
  );
}

async function main(): Promise<void> {
  const api = await createApiFixture("bench", { engine: "postgres", relay: "queue", rateLimitPerMinute: 100_000_000 });
  try {
    const user = await api.createUser("user", "bench");
    const wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body as {
      id: string;
      address: `0x${string}`;
    };
    await api.fund(wallet.address, 500n * ONE);
    const url = await api.app.listen({ host: "127.0.0.1", port: 0 });

    const submit = await autocannon({
      url: `${url}/v1/wallets/${wallet.id}/transfers`,
      method: "POST",
      connections: CONNECTIONS,
      duration: DURATION_SECONDS,
      headers: { authorization: `Bearer ${user.key}`, "content-type": "application/json" },
      body: JSON.stringify({ to: "0x000000000000000000000000000000000000bEEF", amount: "1" }),
      setupClient: (client) => {
        client.on("response", () =>
          client.setHeaders({
            authorization: `Bearer ${user.key}`,
            "content-type": "application/json",
            "idempotency-key": `bench-${randomBytes(12).toString("hex")}`,
          }),
        );
        client.setHeaders({
          authorization: `Bearer ${user.key}`,
          "content-type": "application/json",
          "idempotency-key": `bench-${randomBytes(12).toString("hex")}`,
        });
      },
    });
    report(`POST transfers (${CONNECTIONS} clients, ${DURATION_SECONDS}s)`, submit);

    const started = Date.now();
    const holder = `holder:${wallet.address}`;
    const token = api.token;
    // One million postings: 1,000 on the benchmarked wallet, the rest spread over 10,000 other accounts.
    await api.database.query(sql`
      INSERT INTO journal_entries (chain_id, block_number, log_index, block_hash, block_timestamp, transaction_hash, token, kind, reference, event)
      SELECT 31337, 1000000 + g, 0, '0x' || md5(g::text) || md5(g::text), 1700000000 + g, '0x' || md5((g + 1)::text) || md5(g::text), ${token}, 'transfer', NULL, '{}'::jsonb
      FROM generate_series(1, ${LEDGER_ROWS}) AS g`);
    await api.database.query(sql`
      INSERT INTO postings (chain_id, block_number, log_index, leg, account, counterparty, token, amount, balance_after, kind, block_timestamp)
      SELECT 31337, 1000000 + g, 0, 0,
             CASE WHEN g % 1000 = 0 THEN ${holder} ELSE 'holder:0x' || lpad(to_hex(g % 10000), 40, '0') END,
             'issuance:' || ${token}, ${token}, 1, g, 'transfer', 1700000000 + g
      FROM generate_series(1, ${LEDGER_ROWS}) AS g`);
    await api.database.query(sql`ANALYZE postings`);
    await api.database.query(sql`ANALYZE journal_entries`);
    process.stdout.write(
      `generated ${LEDGER_ROWS} ledger postings in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );

    const headers = { authorization: `Bearer ${user.key}` };
    report(
      `GET balances (${LEDGER_ROWS} rows, ${CONNECTIONS} clients)`,
      await autocannon({
        url: `${url}/v1/wallets/${wallet.id}/balances`,
        connections: CONNECTIONS,
        duration: DURATION_SECONDS,
        headers,
      }),
    );
    report(
      `GET history limit=50 (${LEDGER_ROWS} rows, ${CONNECTIONS} clients)`,
      await autocannon({
        url: `${url}/v1/wallets/${wallet.id}/history?limit=50`,
        connections: CONNECTIONS,
        duration: DURATION_SECONDS,
        headers,
      }),
    );
  } finally {
    await api.close();
  }
}

await main();
