import { expect } from "chai";
import { sql } from "drizzle-orm";
import hre from "hardhat";
import {
  encodeFunctionData,
  encodeAbiParameters,
  keccak256,
  maxUint256,
  parseAbiParameters,
  toHex,
  type Abi,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";

import { receiveWithAuthorizationTypes } from "../../lib/signing/receive-with-authorization.ts";
import { transferWithAuthorizationTypes } from "../../lib/signing/transfer-with-authorization.ts";
import { escrowAccount } from "../../lib/ledger/accounts.ts";
import { getBalance } from "../../lib/ledger/queries/get-balance.ts";
import { getPayment } from "../../lib/ledger/queries/get-payment.ts";
import type { Indexer } from "../../indexer/runtime/create-indexer.ts";
import { batchGasLimit } from "../../relayer/batching/send-transfer-batch.ts";
import { DEFAULT_ADMIN_TRANSFER_DELAY, DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../ignition/modules/Stablerail.ts";
import { createTestChain, type TestChain } from "../helpers/chain.ts";
import { createTestDatabase, testEngines } from "../helpers/database.ts";
import { createRandom } from "../../lib/seeded-random.ts";
import { createTestIndexer, expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";

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

const SEED = Number(process.env.INDEXER_WORKLOAD_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPERATIONS = Number(process.env.INDEXER_WORKLOAD_OPS ?? 2000);

describe("Ledger under a randomised workload (mints, transfers, burns, escrow lifecycles, settlements)", () => {
  let chain: TestChain;
  let client: PublicClient;
  const contracts = {} as Record<"token" | "escrow" | "settlement" | "forwarder", Address>;
  const abis = {} as Record<"token" | "escrow" | "settlement", Abi>;
  const indexers: { engine: string; indexer: Indexer; database: Awaited<ReturnType<typeof createTestDatabase>> }[] = [];

  before(async () => {
    chain = await createTestChain();
    client = chain.publicClient;
    const deployer = chain.accounts[0]!;
    const deploy = async (name: string, args: unknown[]) => {
      const artifact = await hre.artifacts.readArtifact(name);
      const hash = await chain.wallet(deployer).deployContract({
        abi: artifact.abi as Abi,
        bytecode: artifact.bytecode as Hex,
        args,
        account: deployer,
        chain: null,
      });
      return { address: (await client.waitForTransactionReceipt({ hash })).contractAddress!, abi: artifact.abi as Abi };
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
    Object.assign(contracts, {
      token: token.address,
      escrow: escrow.address,
      settlement: settlement.address,
      forwarder: forwarder.address,
    });
    Object.assign(abis, { token: token.abi, escrow: escrow.abi, settlement: settlement.abi });
    const startBlock = await client.getBlockNumber();
    for (const engine of testEngines) {
      const database = await createTestDatabase(engine, "workload");
      const indexer = await createTestIndexer({
        database,
        client,
        contracts: { Stablecoin: token.address, PaymentEscrow: escrow.address, Settlement: settlement.address },
        startBlock: startBlock - 3n,
        settings: { getLogs: { initialRange: 50, maxRange: 5_000, targetLogsPerRequest: 2_000 } },
      });
      indexers.push({ engine, indexer, database });
    }
  });

  after(async () => {
    for (const { indexer, database } of indexers) {
      await indexer.stop();
      await database.drop();
    }
    await chain?.close();
  });

  it(`keeps holder balances = balanceOf, issuance = −totalSupply and escrow accounts = held (seed ${SEED}, ${OPERATIONS} operations)`, async () => {
    console.log(`      randomised workload seed: ${SEED} (replay with INDEXER_WORKLOAD_SEED=${SEED})`);
    const random = createRandom(SEED);
    const accounts = chain.accounts.filter((_, i) => i !== 4); // the helper's 5th key is not a funded Hardhat account
    const [deployer] = accounts as [Account];
    const users = accounts.slice(1);
    const write = async (
      from: Account,
      contract: "token" | "escrow" | "settlement",
      functionName: string,
      args: unknown[],
      gas?: bigint,
    ) => {
      const hash = await chain.wallet(from).writeContract({
        address: contracts[contract],
        abi: abis[contract],
        functionName,
        args,
        account: from,
        chain: null,
        ...(gas === undefined ? {} : { gas }),
      });
      const receipt = await client.waitForTransactionReceipt({ hash });
      expect(receipt.status, `${contract}.${functionName}`).to.equal("success");
    };
    const now = async () => Number((await client.getBlock()).timestamp);

    const PAYOUT_ROLE = (await client.readContract({
      address: contracts.settlement,
      abi: abis.settlement,
      functionName: "PAYOUT_ROLE",
    })) as Hex;
    await write(deployer, "settlement", "grantRole", [PAYOUT_ROLE, deployer.address]);
    // settleAuthorizations tries an item only with authorizationGasRequired() left, so the node's
    // estimate (the gas the batch uses) makes it skip every item; the batch gets the relayer's own
    // limit (batchGasLimit). With the estimate, whether a seed ever settled an authorization was luck
    // (seed 106152243 never did).
    const itemGasRequired = (await client.readContract({
      address: contracts.settlement,
      abi: abis.settlement,
      functionName: "authorizationGasRequired",
    })) as bigint;
    await write(deployer, "token", "grantRole", [
      (await client.readContract({
        address: contracts.token,
        abi: abis.token,
        functionName: "MINTER_ADMIN_ROLE",
      })) as Hex,
      deployer.address,
    ]);
    await write(deployer, "token", "configureMinter", [deployer.address, maxUint256 / 2n]);
    for (const user of accounts) {
      await write(deployer, "token", "mint", [user.address, 10n ** 15n]);
      await write(user, "token", "approve", [contracts.escrow, maxUint256]);
    }

    const payments: OpenPayment[] = [];
    let settlementFunds = 0n;
    let salt = 0n;
    const counts: Record<string, number> = {};
    for (let op = 0; op < OPERATIONS; op++) {
      const roll = random.next();
      const kind =
        roll < 0.25
          ? "transfer"
          : roll < 0.32
            ? "mint"
            : roll < 0.36
              ? "burn"
              : roll < 0.5
                ? "authorize"
                : roll < 0.6
                  ? "capture"
                  : roll < 0.64
                    ? "void"
                    : roll < 0.68
                      ? "reclaim"
                      : roll < 0.74
                        ? "refund"
                        : roll < 0.8
                          ? "charge"
                          : roll < 0.88
                            ? "payout"
                            : roll < 0.95
                              ? "settleAuthorizations"
                              : "transferToEscrow";
      counts[kind] = (counts[kind] ?? 0) + 1;
      const amount = BigInt(1 + random.int(1_000_000));
      const payer = random.pick(users);
      const merchant = random.pick(users);
      const openWith = (predicate: (payment: OpenPayment) => boolean) => payments.filter(predicate);
      switch (kind) {
        case "transfer":
          await write(payer, "token", "transfer", [random.pick(accounts).address, amount]);
          break;
        case "transferToEscrow": // no escrow event: stays on the escrow contract's own holder account
          await write(payer, "token", "transfer", [contracts.escrow, amount]);
          break;
        case "mint":
          await write(deployer, "token", "mint", [random.pick(accounts).address, amount]);
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
            authorizationExpiry: timestamp + 5 + random.int(60),
            refundExpiry: timestamp + 10_000,
            minFeeBps: 0,
            maxFeeBps: 500,
            feeReceiver: random.pick(users).address,
            salt: ++salt,
          };
          const id = (await client.readContract({
            address: contracts.escrow,
            abi: abis.escrow,
            functionName: "getPaymentId",
            args: [terms],
          })) as Hex;
          // The payer's consent to these terms: an allowance alone never lets the escrow pull.
          await write(payer, "escrow", "preApprove", [terms]);
          if (kind === "authorize") {
            await write(deployer, "escrow", "authorize", [terms, amount]);
            payments.push({ id, terms, held: amount, captured: 0n, refunded: 0n });
          } else {
            await write(deployer, "escrow", "charge", [terms, amount, random.int(501)]);
            payments.push({ id, terms, held: 0n, captured: amount, refunded: 0n });
          }
          break;
        }
        case "capture": {
          const timestamp = await now();
          const open = openWith((p) => p.held > 0n && p.terms.authorizationExpiry > timestamp + 1);
          if (open.length === 0) break;
          const payment = random.pick(open);
          const part = random.next() < 0.5 ? payment.held : 1n + BigInt(random.int(Number(payment.held)));
          await write(deployer, "escrow", "capture", [payment.terms, part, random.int(501)]);
          payment.held -= part;
          payment.captured += part;
          break;
        }
        case "void": {
          const open = openWith((p) => p.held > 0n);
          if (open.length === 0) break;
          const payment = random.pick(open);
          await write(deployer, "escrow", "void", [payment.terms]);
          payment.held = 0n;
          break;
        }
        case "reclaim": {
          const timestamp = await now();
          const open = openWith((p) => p.held > 0n && p.terms.authorizationExpiry <= timestamp);
          if (open.length === 0) break;
          const payment = random.pick(open);
          await write(
            accounts.find((a) => a.address === payment.terms.payer)!,
            "escrow",
            "reclaim",
            [payment.terms],
          );
          payment.held = 0n;
          break;
        }
        case "refund": {
          const open = openWith((p) => p.captured > p.refunded);
          if (open.length === 0) break;
          const payment = random.pick(open);
          const part = 1n + BigInt(random.int(Number(payment.captured - payment.refunded)));
          const refunder = accounts.find((a) => a.address === payment.terms.merchant)!;
          if (random.next() < 0.5) {
            await write(refunder, "escrow", "refund", [payment.terms, part]);
          } else {
            // The atomic form: the merchant's EIP-3009 authorization bound to this refund, submitted by anyone.
            const refundSalt = keccak256(toHex(`refund-${SEED}-${op}`));
            const nonce = keccak256(
              encodeAbiParameters(parseAbiParameters("bytes32, bytes32"), [payment.id, refundSalt]),
            );
            const message = {
              from: refunder.address,
              to: contracts.escrow,
              value: part,
              validAfter: 0n,
              validBefore: BigInt(await now()) + 3600n,
              nonce,
            };
            const signature = await refunder.signTypedData!({
              domain: { name: "Stablerail USD", version: "1", chainId: 31337, verifyingContract: contracts.token },
              types: receiveWithAuthorizationTypes,
              primaryType: "ReceiveWithAuthorization",
              message,
            });
            await write(random.pick(users), "escrow", "refundWithAuthorization", [
              payment.terms,
              part,
              refunder.address,
              message.validAfter,
              message.validBefore,
              refundSalt,
              signature,
            ]);
          }
          payment.refunded += part;
          break;
        }
        case "payout": {
          if (settlementFunds < 10n ** 9n) {
            await write(deployer, "token", "transfer", [contracts.settlement, 10n ** 10n]);
            settlementFunds += 10n ** 10n;
          }
          const items = Array.from({ length: 1 + random.int(8) }, () => ({
            merchant: random.pick(users).address,
            amount: BigInt(1 + random.int(1_000_000)),
            payoutReference: keccak256(toHex(`ref-${op}-${random.int(1e9)}`)),
          }));
          await write(deployer, "settlement", "payout", [
            keccak256(toHex(`batch-${SEED}-${op}`)),
            contracts.token,
            items,
          ]);
          settlementFunds -= items.reduce((sum, item) => sum + item.amount, 0n);
          break;
        }
        case "settleAuthorizations": {
          const timestamp = BigInt(await now());
          const items = [];
          for (let i = 0; i < 1 + random.int(6); i++) {
            const from = random.pick(users);
            const message = {
              from: from.address,
              to: random.pick(accounts).address,
              value: BigInt(1 + random.int(1_000_000)),
              validAfter: 0n,
              validBefore: timestamp + 3600n,
              nonce: keccak256(toHex(`nonce-${SEED}-${op}-${i}`)),
            };
            const signature = await from.signTypedData!({
              domain: { name: "Stablerail USD", version: "1", chainId: 31337, verifyingContract: contracts.token },
              types: transferWithAuthorizationTypes,
              primaryType: "TransferWithAuthorization",
              message,
            });
            // Now and then a bad item (value changed after signing): skipped and reported, the rest go through.
            items.push({ ...message, value: random.next() < 0.15 ? message.value + 1n : message.value, signature });
          }
          const batch = [contracts.token, items];
          const data = encodeFunctionData({ abi: abis.settlement, functionName: "settleAuthorizations", args: batch });
          const signatures = items.map((item) => item.signature);
          await write(
            random.pick(users),
            "settlement",
            "settleAuthorizations",
            batch,
            batchGasLimit(0n, data, signatures, itemGasRequired),
          );
          break;
        }
      }
      if (op % 500 === 499) for (const { indexer } of indexers) await indexer.catchUp();
    }
    console.log(`      operations: ${JSON.stringify(counts)}`);

    for (const { engine, indexer, database } of indexers) {
      await indexer.catchUp();
      await expectLedgerEqualsChain(database, client, contracts.token, contracts.escrow);
      let escrowTotal = await getBalance(database, {
        chainId: 31337,
        account: contracts.escrow,
        token: contracts.token,
      });
      for (const payment of payments) {
        const onChain = (await client.readContract({
          address: contracts.escrow,
          abi: abis.escrow,
          functionName: "paymentState",
          args: [payment.id],
        })) as {
          held: bigint;
          captured: bigint;
          refunded: bigint;
        };
        const held = await getBalance(database, {
          chainId: 31337,
          account: escrowAccount(payment.id),
          token: contracts.token,
        });
        expect(held, `${engine} escrow:${payment.id}`).to.equal(onChain.held);
        escrowTotal += held;
        const indexed = await getPayment(database, { chainId: 31337, paymentId: payment.id });
        expect(
          [indexed!.state.held, indexed!.state.captured, indexed!.state.refunded],
          `${engine} payment ${payment.id}`,
        ).to.deep.equal([onChain.held, onChain.captured, onChain.refunded]);
      }
      const escrowBalance = (await client.readContract({
        address: contracts.token,
        abi: abis.token,
        functionName: "balanceOf",
        args: [contracts.escrow],
      })) as bigint;
      expect(escrowTotal, `${engine} holder:<escrow> + Σ escrow:*`).to.equal(escrowBalance);
      const kinds = (await database.query<{ kind: string }>(sql`SELECT DISTINCT kind FROM journal_entries`)).map(
        (row) => row.kind,
      );
      expect(kinds).to.include.members([
        "mint",
        "burn",
        "transfer",
        "escrow_authorize",
        "escrow_capture",
        "escrow_refund",
        "settlement_payout",
        "settlement_authorization",
      ]);
    }
  });
});
