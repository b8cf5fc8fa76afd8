/**
 * The auditor tests' world: a fresh in-process Hardhat chain with Stablerail's contracts deployed
 * from their artifacts, a seeded random workload driven through the contracts' public functions
 * (mints, transfers, burns, escrow authorize / capture / void / refund / charge, payouts, batched
 * EIP-3009 settlements), and ledgers indexed into fresh databases by the real indexer. Each
 * corruption is introduced in a ledger of its own (a database indexed for that test), never in a
 * shared one.
 */
import hre from "hardhat";
import {
  getAddress,
  keccak256,
  maxUint256,
  toHex,
  type Abi,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";

import type { Database } from "../../../lib/db/database.ts";
import type { Indexer } from "../../../indexer/index.ts";
import { DEFAULT_ADMIN_TRANSFER_DELAY, DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../../ignition/modules/Stablerail.ts";
import { transferWithAuthorizationTypes } from "../../../lib/signing/transfer-with-authorization.ts";
import { createTestChain, type TestChain } from "../../helpers/chain.ts";
import { createTestDatabase, type TestEngine } from "../../helpers/database.ts";
import { createRandom } from "../../../lib/seeded-random.ts";
import { createTestIndexer } from "../../indexer/helpers/indexer-fixture.ts";

export type AuditContracts = { token: Address; escrow: Address; settlement: Address; forwarder: Address };

export type AuditWorld = {
  chain: TestChain;
  client: PublicClient;
  contracts: AuditContracts;
  abis: Record<"token" | "escrow" | "settlement", Abi>;
  /** The block before the first contract: where indexing starts. */
  startBlock: bigint;
  deployer: Account;
  users: Account[];
  /** Sends one contract call and waits for its receipt (throws on a revert). */
  write: (
    from: Account,
    contract: "token" | "escrow" | "settlement",
    functionName: string,
    args: unknown[],
    options?: { gas?: bigint },
  ) => Promise<{ blockNumber: bigint; transactionHash: Hex }>;
  /** Payment ids the workload created. */
  payments: Hex[];
  close: () => Promise<void>;
};

/** Deploys the four contracts and funds the users (every Hardhat account but #4, which the helper does not fund). */
export async function createAuditWorld(): Promise<AuditWorld> {
  const chain = await createTestChain();
  const client = chain.publicClient;
  const accounts = chain.accounts.filter((_, i) => i !== 4);
  const deployer = accounts[0]!;
  const startBlock = await client.getBlockNumber({ cacheTime: 0 });
  const deploy = async (name: string, args: unknown[]) => {
    const artifact = await hre.artifacts.readArtifact(name);
    const hash = await chain.wallet(deployer).deployContract({
      abi: artifact.abi as Abi,
      bytecode: artifact.bytecode as Hex,
      args,
      account: deployer,
      chain: null,
    });
    return {
      address: getAddress((await client.waitForTransactionReceipt({ hash })).contractAddress!),
      abi: artifact.abi as Abi,
    };
  };
  const token = await deploy("Stablecoin", ["Stablerail USD", "USDR", 6, deployer.address, 3600]);
  const forwarder = await deploy("StablerailForwarder", []);
  const escrow = await deploy("PaymentEscrow", [forwarder.address]);
  const settlement = await deploy("Settlement", [
    deployer.address,
    DEFAULT_ADMIN_TRANSFER_DELAY,
    forwarder.address,
    DEFAULT_AUTHORIZATION_GAS_LIMIT,
  ]);
  const contracts = {
    token: token.address,
    escrow: escrow.address,
    settlement: settlement.address,
    forwarder: forwarder.address,
  };
  const abis = { token: token.abi, escrow: escrow.abi, settlement: settlement.abi };
  const write: AuditWorld["write"] = async (from, contract, functionName, args, options = {}) => {
    const hash = await chain.wallet(from).writeContract({
      address: contracts[contract],
      abi: abis[contract],
      functionName,
      args,
      account: from,
      chain: null,
      ...(options.gas ? { gas: options.gas } : {}),
    });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${contract}.${functionName} reverted`);
    return { blockNumber: receipt.blockNumber, transactionHash: hash };
  };
  const read = (contract: "token" | "settlement", functionName: string) =>
    client.readContract({ address: contracts[contract], abi: abis[contract], functionName }) as Promise<Hex>;
  await write(deployer, "settlement", "grantRole", [await read("settlement", "PAYOUT_ROLE"), deployer.address]);
  await write(deployer, "token", "grantRole", [await read("token", "MINTER_ADMIN_ROLE"), deployer.address]);
  await write(deployer, "token", "configureMinter", [deployer.address, maxUint256 / 2n]);
  for (const user of accounts) {
    await write(deployer, "token", "mint", [user.address, 10n ** 15n]);
    await write(user, "token", "approve", [contracts.escrow, maxUint256]);
  }
  return {
    chain,
    client,
    contracts,
    abis,
    startBlock,
    deployer,
    users: accounts.slice(1),
    write,
    payments: [],
    close: () => chain.close(),
  };
}

type Terms = {
  operator: Address;
  payer: Address;
  merchant: Address;
  token: Address;
  maxAmount: bigint;
  authorizationExpiry: number;
  refundExpiry: number;
  minFeeBps: number;
  maxFeeBps: number;
  feeReceiver: Address;
  salt: bigint;
};
type OpenPayment = { id: Hex; terms: Terms; held: bigint; captured: bigint; refunded: bigint };

/**
 * Runs `operations` random operations through the contracts' public functions.
 * @returns how many of each kind ran
 */
export async function runWorkload(world: AuditWorld, { seed, operations }: { seed: number; operations: number }) {
  const random = createRandom(seed);
  const { deployer, users, write, client, contracts } = world;
  const everyone = [deployer, ...users];
  const open: OpenPayment[] = [];
  const counts: Record<string, number> = {};
  const now = async () => Number((await client.getBlock()).timestamp);
  let settlementFunds = 0n;
  for (let op = 0; op < operations; op++) {
    const roll = random.next();
    const kind =
      roll < 0.3
        ? "transfer"
        : roll < 0.38
          ? "mint"
          : roll < 0.42
            ? "burn"
            : roll < 0.56
              ? "authorize"
              : roll < 0.66
                ? "capture"
                : roll < 0.7
                  ? "void"
                  : roll < 0.78
                    ? "refund"
                    : roll < 0.84
                      ? "charge"
                      : roll < 0.92
                        ? "payout"
                        : "settleAuthorizations";
    counts[kind] = (counts[kind] ?? 0) + 1;
    const amount = BigInt(1 + random.int(1_000_000));
    const payer = random.pick(users);
    const merchant = random.pick(users);
    switch (kind) {
      case "transfer":
        await write(payer, "token", "transfer", [random.pick(everyone).address, amount]);
        break;
      case "mint":
        await write(deployer, "token", "mint", [random.pick(everyone).address, amount]);
        break;
      case "burn":
        await write(deployer, "token", "burn", [amount]);
        break;
      case "authorize":
      case "charge": {
        const timestamp = await now();
        const terms: Terms = {
          operator: deployer.address,
          payer: payer.address,
          merchant: merchant.address,
          token: contracts.token,
          maxAmount: amount * 2n,
          authorizationExpiry: timestamp + 3_600,
          refundExpiry: timestamp + 10_000,
          minFeeBps: 0,
          maxFeeBps: 500,
          feeReceiver: random.pick(users).address,
          salt: BigInt(seed) * 1_000_000n + BigInt(op),
        };
        const id = (await client.readContract({
          address: contracts.escrow,
          abi: world.abis.escrow,
          functionName: "getPaymentId",
          args: [terms],
        })) as Hex;
        await write(payer, "escrow", "preApprove", [terms]);
        if (kind === "authorize") {
          await write(deployer, "escrow", "authorize", [terms, amount]);
          open.push({ id, terms, held: amount, captured: 0n, refunded: 0n });
        } else {
          await write(deployer, "escrow", "charge", [terms, amount, random.int(501)]);
          open.push({ id, terms, held: 0n, captured: amount, refunded: 0n });
        }
        world.payments.push(id);
        break;
      }
      case "capture": {
        const candidates = open.filter((p) => p.held > 0n);
        if (candidates.length === 0) break;
        const payment = random.pick(candidates);
        const part = random.next() < 0.5 ? payment.held : 1n + BigInt(random.int(Number(payment.held)));
        await write(deployer, "escrow", "capture", [payment.terms, part, random.int(501)]);
        payment.held -= part;
        payment.captured += part;
        break;
      }
      case "void": {
        const candidates = open.filter((p) => p.held > 0n);
        if (candidates.length === 0) break;
        const payment = random.pick(candidates);
        await write(deployer, "escrow", "void", [payment.terms]);
        payment.held = 0n;
        break;
      }
      case "refund": {
        const candidates = open.filter((p) => p.captured > p.refunded);
        if (candidates.length === 0) break;
        const payment = random.pick(candidates);
        const part = 1n + BigInt(random.int(Number(payment.captured - payment.refunded)));
        const refunder = everyone.find((a) => a.address === payment.terms.merchant)!;
        await write(refunder, "escrow", "refund", [payment.terms, part]);
        payment.refunded += part;
        break;
      }
      case "payout": {
        if (settlementFunds < 10n ** 9n) {
          await write(deployer, "token", "transfer", [contracts.settlement, 10n ** 10n]);
          settlementFunds += 10n ** 10n;
        }
        const items = Array.from({ length: 1 + random.int(5) }, () => ({
          merchant: random.pick(users).address,
          amount: BigInt(1 + random.int(1_000_000)),
          payoutReference: keccak256(toHex(`ref-${seed}-${op}-${random.int(1e9)}`)),
        }));
        await write(deployer, "settlement", "payout", [
          keccak256(toHex(`batch-${seed}-${op}`)),
          contracts.token,
          items,
        ]);
        settlementFunds -= items.reduce((sum, item) => sum + item.amount, 0n);
        break;
      }
      case "settleAuthorizations": {
        const timestamp = BigInt(await now());
        const items = [];
        for (let i = 0; i < 1 + random.int(4); i++) {
          const from = random.pick(users);
          const message = {
            from: from.address,
            to: random.pick(everyone).address,
            value: BigInt(1 + random.int(1_000_000)),
            validAfter: 0n,
            validBefore: timestamp + 3600n,
            nonce: keccak256(toHex(`nonce-${seed}-${op}-${i}`)),
          };
          const signature = await from.signTypedData!({
            domain: { name: "Stablerail USD", version: "1", chainId: 31337, verifyingContract: contracts.token },
            types: transferWithAuthorizationTypes,
            primaryType: "TransferWithAuthorization",
            message,
          });
          items.push({ ...message, signature });
        }
        // Budgeted as the relayer does: a node's estimate finds a limit at which the tail is skipped.
        await write(random.pick(users), "settlement", "settleAuthorizations", [contracts.token, items], {
          gas: 16_000_000n,
        });
        break;
      }
    }
  }
  return counts;
}

export type IndexedLedger = { database: Database & { drop: () => Promise<void> }; indexer: Indexer };

/** Indexes the world's chain into a fresh database on `engine`, up to the current head. */
export async function indexLedger(world: AuditWorld, engine: TestEngine, label: string): Promise<IndexedLedger> {
  const database = await createTestDatabase(engine, label);
  const indexer = await createTestIndexer({
    database,
    client: world.client,
    contracts: {
      Stablecoin: world.contracts.token,
      PaymentEscrow: world.contracts.escrow,
      Settlement: world.contracts.settlement,
    },
    startBlock: world.startBlock,
    settings: { getLogs: { initialRange: 50, maxRange: 5_000, targetLogsPerRequest: 2_000 } },
  });
  await indexer.catchUp();
  return { database, indexer };
}

/**
 * A reorg the indexer has to roll back: a branch of `depth` blocks of transfers is indexed, the chain
 * reverts to before it and mines a different branch one block longer, then the indexer catches up.
 */
export async function reorgIndexedChain(world: AuditWorld, ledgers: IndexedLedger[], depth = 3): Promise<void> {
  const [a, b] = world.users as [Account, Account];
  const snapshot = await world.chain.testClient.snapshot();
  for (let i = 0; i < depth; i++) await world.write(a, "token", "transfer", [b.address, 1_000n + BigInt(i)]);
  for (const ledger of ledgers) await ledger.indexer.catchUp();
  await world.chain.testClient.revert({ id: snapshot });
  for (let i = 0; i <= depth; i++) await world.write(b, "token", "transfer", [a.address, 7n + BigInt(i)]);
  for (const ledger of ledgers) await ledger.indexer.catchUp();
}
