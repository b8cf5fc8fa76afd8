/**
 * An indexer process's world for tests that run `npm run indexer` (indexer/main.ts) as a child:
 * the test's in-process chain served over JSON-RPC on loopback, a deployment file naming a
 * TestToken as the Stablecoin (the other contracts at unused addresses), and a PostgreSQL schema
 * of its own (PGlite cannot be shared between processes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { padHex, type Abi, type Address } from "viem";
import pg from "pg";

import { writeDeployment } from "../../../lib/chain/deployments.ts";
import { createTestChain, type TestChain } from "../../helpers/chain.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../../helpers/database.ts";
import { serveJsonRpc } from "../../helpers/json-rpc-server.ts";
import { compileTestToken, deployTestToken } from "../fixtures/test-token.ts";

export type IndexerWorld = Awaited<ReturnType<typeof createIndexerWorld>>;

export async function createIndexerWorld(label: string) {
  const chain: TestChain = await createTestChain();
  const deployer = chain.accounts[0]!;
  const deployed = await deployTestToken(chain.publicClient, chain.wallet(deployer));
  const token = deployed.address;
  const abi = compileTestToken().abi as Abi;
  const database = await createTestDatabase("postgres", label);
  const rpc = await serveJsonRpc(chain.provider);
  const dir = await mkdtemp(join(tmpdir(), `stablerail-${label}-`));
  const genesis = await chain.publicClient.getBlock({ blockNumber: 0n });
  const unused = (n: number) => padHex(`0x${n.toString(16)}`, { size: 20 }) as Address;
  await writeDeployment(dir, {
    chainId: 31337,
    genesisHash: genesis.hash,
    startBlock: Number(deployed.blockNumber),
    deployedAt: new Date().toISOString(),
    contracts: {
      Stablecoin: { address: token, blockNumber: Number(deployed.blockNumber) },
      StablerailForwarder: { address: unused(0xf0), blockNumber: 0 },
      PaymentEscrow: { address: unused(0xe5), blockNumber: 0 },
      Settlement: { address: unused(0x5e), blockNumber: 0 },
    },
  });

  /** Mints `amount` to account #`to` and waits for the receipt. */
  const mint = async (to: number, amount: bigint) => {
    const hash = await chain.wallet(deployer).writeContract({
      address: token,
      abi,
      functionName: "mint",
      args: [chain.accounts[to]!.address, amount],
      account: deployer,
      chain: null,
    });
    return chain.publicClient.waitForTransactionReceipt({ hash });
  };

  /**
   * Terminates this world's PostgreSQL sessions (those named after its schema, and whichever holds
   * an indexer's advisory lock on it), as `pg_terminate_backend` by an administrator would.
   * @returns how many backends were terminated
   */
  const terminateBackends = async (): Promise<number> => {
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()
           AND (application_name = $1 OR pid IN (
             SELECT pid FROM pg_locks WHERE locktype = 'advisory'
               AND classid = (hashtext($2)::bigint & 4294967295)::oid AND objid = 31337))`,
        [`stablerail:${database.schema}`, `stablerail-indexer:${database.schema}`],
      );
      for (const { pid } of rows) await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      return rows.length;
    } finally {
      await admin.end();
    }
  };

  return {
    chain,
    token,
    startBlock: deployed.blockNumber,
    database,
    rpcUrl: rpc.url,
    mint,
    terminateBackends,
    /** The environment of an indexer process in this world. */
    env: (extra: Record<string, string> = {}): Record<string, string> => ({
      RPC_URL: rpc.url,
      CHAIN_ID: "31337",
      DEPLOYMENTS_DIR: dir,
      DATA_DIR: dir,
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: database.schema,
      DATABASE_POOL_SIZE: "3",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      INDEXER_POLL_INTERVAL_MS: "50",
      INDEXER_STANDBY_RETRY_MS: "100",
      ...extra,
    }),
    close: async () => {
      await rpc.close();
      await rm(dir, { recursive: true, force: true });
      await database.drop();
      await chain.close();
    },
  };
}
