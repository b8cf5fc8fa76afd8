import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import pg from "pg";

import { INDEXER_NODE_FLAGS } from "../../lib/process/node-flags.ts";
import { TEST_POSTGRES_URL } from "../helpers/database.ts";

/**
 * `npm start` as a newcomer runs it: a child process on embedded defaults (its own chain port,
 * API port, data folder, Redis prefix), stopped with Ctrl-C (SIGINT), started again on the same
 * data, and once more against the PostgreSQL server.
 */
type Started = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function startStack(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [...INDEXER_NODE_FLAGS, "--import", "tsx", "scripts/start.ts"], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitForReady(started: Started, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/^ready /m.test(started.output())) {
    if (started.child.exitCode !== null) throw new Error(`npm start exited early:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start not ready in time:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The code at `address` on the chain at `rpcUrl` ("0x" when there is none). */
async function codeAt(rpcUrl: string, address: string): Promise<string> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getCode", params: [address, "latest"] }),
  });
  return ((await response.json()) as { result: string }).result;
}

async function stop(started: Started): Promise<number | null> {
  started.child.kill("SIGINT");
  return started.exited;
}

describe("npm start (the local stack)", function () {
  this.timeout(400_000);
  let dataDir: string;
  let env: Record<string, string>;
  const running: Started[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stablerail-start-"));
    env = {
      DATA_DIR: dataDir,
      PGLITE_DIR: join(dataDir, "pglite"),
      DEPLOYMENTS_DIR: join(dataDir, "deployments"),
      RPC_URL: `http://127.0.0.1:${await freePort()}`,
      API_PORT: String(await freePort()),
      REDIS_PREFIX: `start_${randomBytes(4).toString("hex")}`,
    };
  });

  // A failed test must not leave its stack holding the ports and leases the next test starts on.
  afterEach(async () => {
    for (const started of running.splice(0))
      if (started.child.exitCode === null) {
        started.child.kill("SIGKILL");
        await started.exited;
      }
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("brings up chain, contracts, Redis, database, indexer and API, one line each, and stops cleanly on Ctrl-C", async () => {
    const first = startStack(env);
    running.push(first);
    await waitForReady(first);
    const output = first.output();
    expect(output).to.match(new RegExp(`^chain +${env.RPC_URL} \\(chain 31337`, "m"));
    for (const name of ["Stablecoin", "StablerailForwarder", "PaymentEscrow", "Settlement"]) {
      expect(output).to.match(new RegExp(`^contract +${name} +0x[0-9a-fA-F]{40}`, "m"));
    }
    expect(output).to.match(/^redis /m);
    expect(output).to.match(/^database +PGlite in /m);
    expect(output).to.match(/^indexer +following chain 31337/m);
    expect(output).to.match(new RegExp(`^api +http://127\\.0\\.0\\.1:${env.API_PORT}`, "m"));

    const deployment = JSON.parse(await readFile(join(dataDir, "deployments", "31337.json"), "utf8")) as {
      contracts: { Stablecoin: { address: string } };
    };
    expect(output).to.contain(deployment.contracts.Stablecoin.address);
    expect(await codeAt(env.RPC_URL!, deployment.contracts.Stablecoin.address)).not.to.equal("0x");

    // /ready is a probe an orchestrator polls: right after the "ready" line the ledger may not have
    // written its first head yet. It must turn 200 within a bound; its body names a failing check.
    let ready = await fetch(`http://127.0.0.1:${env.API_PORT}/ready`);
    for (const until = Date.now() + 30_000; ready.status !== 200 && Date.now() < until;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ready = await fetch(`http://127.0.0.1:${env.API_PORT}/ready`);
    }
    expect(ready.status, JSON.stringify(await ready.clone().json())).to.equal(200);

    const adminKey = /^admin key +(\S+)/m.exec(output)?.[1];
    expect(adminKey, "the first start prints a bootstrap admin key").to.be.a("string");
    const created = await fetch(`http://127.0.0.1:${env.API_PORT}/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "user", name: "persisted across restarts" }),
    });
    expect(created.status).to.equal(201);
    const { apiKey } = (await created.json()) as { apiKey: string };
    env.TEST_USER_KEY = apiKey;

    expect(await stop(first)).to.equal(0);
  });

  it("reuses the data on a second start: the user created before still authenticates", async () => {
    // The local chain is new at each start. With the deployment file gone, Ignition's journal of the
    // first start (it stays in ignition/deployments/) still describes the old chain: the contracts
    // must be deployed for real, not taken from the journal.
    await rm(join(dataDir, "deployments"), { recursive: true, force: true });
    const second = startStack(env);
    running.push(second);
    await waitForReady(second);
    const deployment = JSON.parse(await readFile(join(dataDir, "deployments", "31337.json"), "utf8")) as {
      contracts: Record<string, { address: string }>;
    };
    for (const { address } of Object.values(deployment.contracts)) {
      expect(await codeAt(env.RPC_URL!, address), address).not.to.equal("0x");
    }
    expect(second.output(), "no new admin key on a reused database").not.to.match(/^admin key /m);
    const me = await fetch(`http://127.0.0.1:${env.API_PORT}/v1/users/me`, {
      headers: { authorization: `Bearer ${env.TEST_USER_KEY}` },
    });
    expect(me.status).to.equal(200);
    expect(((await me.json()) as { name: string }).name).to.equal("persisted across restarts");
    expect(await stop(second)).to.equal(0);
  });

  it("runs on the PostgreSQL server when DATABASE_URL names it", async () => {
    const schema = `start_${randomBytes(4).toString("hex")}`;
    const onServer = startStack({
      ...env,
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: schema,
      API_PORT: String(await freePort()),
    });
    running.push(onServer);
    try {
      await waitForReady(onServer);
      expect(onServer.output()).to.match(new RegExp(`^database +PostgreSQL \\(schema ${schema}\\)`, "m"));
      expect(await stop(onServer)).to.equal(0);
    } finally {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
    }
  });
});
