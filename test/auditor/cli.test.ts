/**
 * `npm run audit -- …` as a process: it reads only RPC_URL (here the test's chain served over HTTP),
 * the deployment file and the database, prints its report and exits 0 when all agrees, 1 otherwise.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { sql } from "drizzle-orm";
import type { Hash } from "viem";

import { buildReserves } from "../../auditor/index.ts";
import { writeDeployment } from "../../lib/chain/deployments.ts";
import { TEST_POSTGRES_URL } from "../helpers/database.ts";
import { serveJsonRpc, type JsonRpcServer } from "../helpers/json-rpc-server.ts";
import {
  createAuditWorld,
  indexLedger,
  runWorkload,
  type AuditWorld,
  type IndexedLedger,
} from "./helpers/audit-world.ts";

function runAudit(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "auditor/main.ts", ...args], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run audit (the auditor's command line, on PostgreSQL)", () => {
  let world: AuditWorld;
  let server: JsonRpcServer;
  let ledger: IndexedLedger;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    world = await createAuditWorld();
    await runWorkload(world, { seed: 77, operations: 40 });
    ledger = await indexLedger(world, "postgres", "cli");
    server = await serveJsonRpc(world.chain.provider);
    dir = await mkdtemp(join(tmpdir(), "stablerail-audit-"));
    const genesis = await world.client.getBlock({ blockNumber: 0n });
    const at = { blockNumber: Number(world.startBlock + 1n) };
    await writeDeployment(dir, {
      chainId: 31337,
      genesisHash: genesis.hash!,
      startBlock: at.blockNumber,
      deployedAt: new Date().toISOString(),
      contracts: {
        Stablecoin: { address: world.contracts.token, ...at },
        StablerailForwarder: { address: world.contracts.forwarder, ...at },
        PaymentEscrow: { address: world.contracts.escrow, ...at },
        Settlement: { address: world.contracts.settlement, ...at },
      },
    });
    env = {
      RPC_URL: server.url,
      CHAIN_ID: "31337",
      DEPLOYMENTS_DIR: dir,
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: ledger.database.schema,
      LOG_LEVEL: "silent",
    };
  });

  after(async () => {
    await ledger?.indexer.stop();
    await ledger?.database.drop();
    await server?.close();
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reconcile exits 0 with a JSON report and writes the Markdown one when the ledger equals the chain", async () => {
    const markdown = join(dir, "reconcile.md");
    const run = await runAudit(["reconcile", "--format", "json", "--markdown", markdown], env);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; totals: { holders: number }; journalHead: { seq: string } };
    expect(report.ok).to.equal(true);
    expect(report.totals.holders).to.be.greaterThan(5);
    expect(Number(report.journalHead.seq)).to.be.greaterThan(0);
    expect(await readFile(markdown, "utf8")).to.match(
      /^# Reconciliation of chain 31337 at block \d+: the ledger equals the chain/,
    );
  });

  it("verify-chain and tx exit 0 on an untouched ledger", async () => {
    const chain = await runAudit(["verify-chain"], env);
    expect(chain.code, chain.stderr).to.equal(0);
    expect(chain.stdout).to.include("intact");
    const [row] = await ledger.database.query<{ tx: string }>(
      sql`SELECT transaction_hash AS tx FROM journal_entries LIMIT 1`,
    );
    const tx = await runAudit(["tx", row!.tx], env);
    expect(tx.code, tx.stderr).to.equal(0);
    expect(tx.stdout).to.include("matches the ledger");
  });

  it("reconcile and verify-chain exit 1 and name the row once an amount is changed", async () => {
    const [target] = await ledger.database.query<{ block: string; log: number }>(sql`
      SELECT block_number::text AS block, log_index AS log FROM journal_entries WHERE kind = 'transfer' ORDER BY block_number LIMIT 1`);
    await ledger.database.query(
      sql`UPDATE postings SET amount = amount + 1 WHERE block_number = ${BigInt(target!.block)} AND log_index = ${target!.log} AND leg = 1`,
    );
    const run = await runAudit(["reconcile", "--format", "json"], env);
    expect(run.code, run.stderr).to.equal(1);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      firstDivergentBlock: string;
      mismatches: { check: string }[];
    };
    expect(report.firstDivergentBlock).to.equal(target!.block);
    expect(report.mismatches.map((m) => m.check)).to.include("entry_differs");
    const chain = await runAudit(["verify-chain"], env);
    expect(chain.code).to.equal(1);
    expect(chain.stdout).to.include(`block ${target!.block}, log ${target!.log}`);
  });

  it("verify-proof checks a user's proof offline (no RPC, no database) and refuses a tampered one", async () => {
    const snapshot = await buildReserves(ledger.database, world.client, {
      chainId: 31337,
      token: world.contracts.token,
      custodialAccounts: world.users.slice(0, 5).map((user, i) => ({ userId: `user-${i}`, address: user.address })),
    });
    const file = join(dir, "proof.json");
    await writeFile(file, JSON.stringify(snapshot.proofFor("user-3")));
    const valid = await runAudit(["verify-proof", file, "--root", snapshot.report.root], {
      PATH: process.env.PATH ?? "",
    });
    expect(valid.code, valid.stderr).to.equal(0);
    expect(valid.stdout).to.match(/^VALID: user user-3's balance \d+ is included/);
    const proof = snapshot.proofFor("user-3")!;
    await writeFile(
      file,
      JSON.stringify({ ...proof, leaf: { ...proof.leaf, balance: (BigInt(proof.leaf.balance) + 1n).toString() } }),
    );
    const invalid = await runAudit(["verify-proof", file], { PATH: process.env.PATH ?? "" });
    expect(invalid.code).to.equal(1);
    expect(invalid.stdout).to.match(/^INVALID/);
  });

  it("answers a usage error with status 2", async () => {
    const run = await runAudit(["tx", "not-a-hash" as Hash], env);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include("usage: npm run audit");
  });
});
