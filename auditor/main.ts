/**
 * `npm run audit -- <command>`: the auditor's tools as one command line. Each trusts nothing but the
 * JSON-RPC endpoint (RPC_URL) and read access to the database (DATABASE_URL, or the PGlite folder of
 * a stopped local stack — PGlite is single-process: while `npm start` runs, use the API's /v1/audit
 * routes instead). Reports go to stdout (Markdown, or JSON with --format json) and to files with
 * --json / --markdown; the progress bar goes to stderr on a terminal. Exit status: 0 when everything
 * agrees, 1 on any mismatch or finding, 2 on a usage error.
 *
 *   reconcile [--block N] [--from N] [--skip-completeness]   ledger vs chain at a block
 *   tx <hash>                                                one transaction, logs and entries side by side
 *   verify-chain [--expect-head <seq>:<hash>]                recompute the journal hash chain
 *   head                                                     the journal chain head and the indexed head
 *   reserves [--block N] [--proof-for <userId>] [--proofs-dir <dir>]   liabilities tree, reserves ratio, proofs
 *   attest [--block N]                                       publish the reserves root on chain (AUDIT_ATTESTER_PRIVATE_KEY)
 *   verify-proof <proof.json> [--root <hash>]                check a user's inclusion proof, offline
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { createWalletClient, http, isHash, type Address, type Hash, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { reserveAttestationAbi } from "../lib/chain/abis/reserveAttestation.ts";
import { stablerailChain } from "../lib/chain/chain.ts";
import { auditorEnv } from "../lib/config/auditor.ts";
import { chainEnv, databaseEnv } from "../lib/config/sections.ts";
import { openDatabase } from "../lib/db/database.ts";
import { isStablerailError } from "../lib/errors/base.ts";
import { bootstrapProcess, connectDeployment } from "../lib/process/bootstrap.ts";
import {
  auditTransaction,
  buildReserves,
  CANONICAL_MULTICALL3,
  createProgress,
  readLedgerHead,
  reconcileLedger,
  renderChainMarkdown,
  renderJson,
  renderReconciliationMarkdown,
  renderReservesMarkdown,
  renderTransactionMarkdown,
  verifyJournalChain,
  verifyLiabilityProof,
} from "./index.ts";

const usage = `usage: npm run audit -- <command> [options]
  reconcile [--block N] [--from N] [--skip-completeness]
  tx <hash>
  verify-chain [--expect-head <seq>:<hash>]
  head
  reserves [--block N] [--proof-for <userId>] [--proofs-dir <dir>]
  attest [--block N]
  verify-proof <proof.json> [--root <hash>]
common: [--format markdown|json] [--json <file>] [--markdown <file>]`;

type Output = { ok: boolean; json: unknown; markdown: string };

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      block: { type: "string" },
      from: { type: "string" },
      "skip-completeness": { type: "boolean" },
      "expect-head": { type: "string" },
      "proof-for": { type: "string" },
      "proofs-dir": { type: "string" },
      root: { type: "string" },
      format: { type: "string", default: "markdown" },
      json: { type: "string" },
      markdown: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, argument] = positionals;
  if (!command || values.help) {
    process.stderr.write(`${usage}\n`);
    return command ? 0 : 2;
  }
  const block = values.block === undefined ? undefined : blockNumber(values.block, "--block");
  if (command === "verify-proof") return emit(await verifyProofFile(argument, values.root), values);

  const { config } = bootstrapProcess("audit", { chain: chainEnv, database: databaseEnv, auditor: auditorEnv });
  const { publicClient, deployment, contracts } = await connectDeployment(config.chain);
  if (!config.database.url)
    process.stderr.write(
      `audit: reading the embedded PGlite database in ${config.database.pgliteDir}; it is single-process — stop \`npm start\` first, or use the API's /v1/audit routes\n`,
    );
  const database = await openDatabase(config.database);
  const progress = createProgress(process.stderr);
  const audited = { token: contracts.stablecoin, escrow: contracts.paymentEscrow, settlement: contracts.settlement };
  const chainId = config.chain.chainId;
  try {
    switch (command) {
      case "reconcile": {
        const report = await reconcileLedger(database, publicClient, {
          chainId,
          contracts: audited,
          multicall3: config.auditor.multicallAddress ?? CANONICAL_MULTICALL3,
          block,
          fromBlock: values.from === undefined ? BigInt(deployment.startBlock) : blockNumber(values.from, "--from"),
          completeness: !values["skip-completeness"],
          batchSize: config.auditor.batchSize,
          concurrency: config.auditor.concurrency,
          progress,
        });
        return emit({ ok: report.ok, json: report, markdown: renderReconciliationMarkdown(report) }, values);
      }
      case "tx": {
        if (!argument || !isHash(argument)) return usageError("tx needs a transaction hash");
        const audit = await auditTransaction(database, publicClient, {
          chainId,
          contracts: audited,
          transactionHash: argument as Hash,
        });
        return emit({ ok: audit.ok, json: audit, markdown: renderTransactionMarkdown(audit) }, values);
      }
      case "verify-chain": {
        const expected = values["expect-head"];
        const match = expected ? /^(\d+):(0x[0-9a-fA-F]{64})$/.exec(expected) : undefined;
        if (expected && !match) return usageError("--expect-head is <seq>:<0x hash>, as a report's journalHead");
        const report = await verifyJournalChain(database, {
          chainId,
          progress,
          expectHead: match ? { seq: BigInt(match[1]!), hash: match[2]!.toLowerCase() as Hex } : undefined,
        });
        return emit({ ok: report.ok, json: report, markdown: renderChainMarkdown(report) }, values);
      }
      case "head": {
        const head = await readLedgerHead(database, { chainId });
        const text = head
          ? `indexed head: block ${head.number} ${head.hash}\njournal chain head: ${head.journal.seq}:${head.journal.hash ?? "(empty)"}\n`
          : `the ledger has not indexed chain ${chainId}\n`;
        return emit({ ok: head !== undefined, json: head ?? null, markdown: text }, values);
      }
      case "reserves":
      case "attest": {
        const snapshot = await buildReserves(database, publicClient, {
          chainId,
          token: contracts.stablecoin,
          block,
          multicall3: config.auditor.multicallAddress ?? CANONICAL_MULTICALL3,
          progress,
        });
        const proofFor = values["proof-for"];
        if (proofFor) {
          const proof = snapshot.proofFor(proofFor);
          if (!proof) return usageError(`user ${proofFor} has no custodial wallet`);
          process.stdout.write(renderJson(proof));
          return 0;
        }
        if (values["proofs-dir"]) await writeProofs(values["proofs-dir"], snapshot);
        let markdown = renderReservesMarkdown(snapshot.report);
        let json: unknown = snapshot.report;
        if (command === "attest") {
          const attestation = await attest(config, deployment.contracts.ReserveAttestation?.address, snapshot.report);
          markdown += `\nAttested on chain in ${attestation.transactionHash} (ReserveAttestation ${attestation.contract}).\n`;
          json = { ...snapshot.report, attestation };
        }
        return emit({ ok: true, json, markdown }, values);
      }
      default:
        return usageError(`unknown command ${command}`);
    }
  } finally {
    await database.close();
  }
}

/** Sends ReserveAttestation.attest for the report, signed with AUDIT_ATTESTER_PRIVATE_KEY. */
async function attest(
  config: { chain: { rpcUrl: string; chainId: number }; auditor: { attesterKey?: Hex | undefined } },
  contract: Address | undefined,
  report: Awaited<ReturnType<typeof buildReserves>>["report"],
): Promise<{ contract: Address; transactionHash: Hash }> {
  if (!config.auditor.attesterKey)
    throw new Error("attest needs AUDIT_ATTESTER_PRIVATE_KEY (a key with ATTESTER_ROLE)");
  if (!contract)
    throw new Error("the deployment file records no ReserveAttestation contract (redeploy: npm run deploy)");
  const chain = stablerailChain(config.chain.chainId, config.chain.rpcUrl);
  const wallet = createWalletClient({
    account: privateKeyToAccount(config.auditor.attesterKey),
    chain,
    transport: http(config.chain.rpcUrl),
  });
  const transactionHash = await wallet.writeContract({
    address: contract,
    abi: reserveAttestationAbi,
    functionName: "attest",
    args: [
      report.block.number,
      report.root,
      report.totalLiabilities,
      report.reserves,
      report.journalHead.hash ?? `0x${"00".repeat(32)}`,
      report.journalHead.seq,
    ],
  });
  return { contract, transactionHash };
}

async function writeProofs(dir: string, snapshot: Awaited<ReturnType<typeof buildReserves>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const users = snapshot.userIds();
  for (const userId of users) await writeFile(join(dir, `${userId}.json`), renderJson(snapshot.proofFor(userId)));
  process.stderr.write(`wrote ${users.length} proofs to ${dir}\n`);
}

async function verifyProofFile(path: string | undefined, root: string | undefined): Promise<Output> {
  if (!path) throw new UsageError("verify-proof needs the proof file: npm run audit -- verify-proof proof.json");
  const result = verifyLiabilityProof(JSON.parse(await readFile(path, "utf8")), root);
  return { ok: result.ok, json: result, markdown: `${result.ok ? "VALID" : "INVALID"}: ${result.reason}\n` };
}

async function emit(output: Output, options: { format?: string; json?: string; markdown?: string }): Promise<number> {
  if (options.json) await writeFile(options.json, renderJson(output.json));
  if (options.markdown) await writeFile(options.markdown, output.markdown);
  process.stdout.write(options.format === "json" ? renderJson(output.json) : output.markdown);
  return output.ok ? 0 : 1;
}

class UsageError extends Error {}

function usageError(message: string): number {
  process.stderr.write(`audit: ${message}\n${usage}\n`);
  return 2;
}

function blockNumber(text: string, flag: string): bigint {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} is a block number`);
  return BigInt(text);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.exit(usageError(error.message));
    const text = isStablerailError(error)
      ? `${error.code}: ${error.shortMessage}`
      : ((error as Error)?.stack ?? String(error));
    process.stderr.write(`audit: ${text}\n`);
    process.exit(2);
  },
);
