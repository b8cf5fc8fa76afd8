/**
 * Reorgs of the ledger's derived state, not just of plain token balances: an escrow payment's
 * states and a settlement batch's entries on an orphaned branch must roll back to the common
 * ancestor and then follow the new branch, also when the new branch is exactly as high as the
 * orphaned one (no block number the indexer has not seen yet, only different hashes).
 *
 * "Follows the new branch" is checked two ways: the ledger equals the chain at its head
 * (expectLedgerEqualsChain plus the escrow's balanceOf), and it equals, row for row, a ledger
 * indexed from scratch on the surviving chain.
 */
import { expect } from "chai";
import { getAddress, keccak256, toHex, type Abi, type Address, type Hex } from "viem";
import { sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { transferWithAuthorizationTypes } from "../../lib/signing/transfer-with-authorization.ts";
import { createAuditWorld, indexLedger, type AuditWorld, type IndexedLedger } from "../auditor/helpers/audit-world.ts";
import { expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";

type PaymentRow = { event: string; status: string; held: string; captured: string; refunded: string };

/** The ledger's rows that derive from the chain, without the journal hash chain's columns (a reorg leaves orphans in it, a fresh run does not). */
async function derivedRows(database: Database): Promise<Record<string, unknown[]>> {
  return {
    journal: await database.query(
      sql`SELECT block_number, log_index, block_hash, transaction_hash, token, kind, reference, event FROM journal_entries ORDER BY block_number, log_index`,
    ),
    postings: await database.query(sql`SELECT * FROM postings ORDER BY block_number, log_index, leg`),
    balances: await database.query(sql`SELECT * FROM account_balances ORDER BY account, token`),
    payments: await database.query(
      sql`SELECT * FROM escrow_payment_states ORDER BY payment_id, block_number, log_index`,
    ),
    events: await database.query(
      sql`SELECT block_number, log_index, block_hash, transaction_hash, contract, event_name, args FROM chain_events ORDER BY block_number, log_index`,
    ),
  };
}

describe("Indexer reorgs of escrow and settlement state", () => {
  let world: AuditWorld;
  let ledger: IndexedLedger;
  const fresh: IndexedLedger[] = [];
  let salt = 0n;

  before(async () => {
    world = await createAuditWorld();
    // Funds for payouts, before any snapshot so every branch can pay out.
    await world.write(world.deployer, "token", "transfer", [world.contracts.settlement, 10n ** 12n]);
    ledger = await indexLedger(world, "pglite", "reorg_escrow_settlement");
  });

  after(async () => {
    await ledger?.indexer.stop();
    await ledger?.database.drop();
    for (const other of fresh) {
      await other.indexer.stop();
      await other.database.drop();
    }
    await world?.close();
  });

  const balanceOf = (address: Address, blockNumber: bigint) =>
    world.client.readContract({
      address: world.contracts.token,
      abi: world.abis.token,
      functionName: "balanceOf",
      args: [address],
      blockNumber,
    }) as Promise<bigint>;

  const ledgerBalance = async (account: string): Promise<bigint> => {
    const [row] = await ledger.database.query<{ balance: string }>(
      sql`SELECT balance FROM account_balances WHERE account = ${account}`,
    );
    return BigInt(row?.balance ?? "0");
  };

  const paymentRows = (id: Hex) =>
    ledger.database.query<PaymentRow>(
      sql`SELECT event, status, held::text, captured::text, refunded::text FROM escrow_payment_states
            WHERE payment_id = ${id.toLowerCase()} ORDER BY block_number, log_index`,
    );

  const batchEntries = (batchId: Hex) =>
    ledger.database.query<{ kind: string }>(
      sql`SELECT kind FROM journal_entries WHERE reference = ${batchId.toLowerCase()} ORDER BY block_number, log_index`,
    );

  /** The ledger equals the chain at its head, the escrow's accounts included, and equals a ledger indexed afresh. */
  const expectFollowsChain = async () => {
    await expectLedgerEqualsChain(ledger.database, world.client, world.contracts.token, world.contracts.escrow);
    const head = (await getIndexedHead(ledger.database, { chainId: 31337 }))!;
    const [escrowed] = await ledger.database.query<{ total: string | null }>(
      sql`SELECT sum(balance)::text AS total FROM account_balances
            WHERE account = ${`holder:${getAddress(world.contracts.escrow)}`} OR account LIKE 'escrow:%'`,
    );
    expect(BigInt(escrowed!.total ?? "0"), "holder:escrow + Σ escrow:*").to.equal(
      await balanceOf(world.contracts.escrow, head.number),
    );
    const reference = await indexLedger(world, "pglite", `reorg_fresh_${fresh.length}`);
    fresh.push(reference);
    const [a, b] = [await derivedRows(ledger.database), await derivedRows(reference.database)];
    for (const table of Object.keys(a)) expect(a[table], table).to.deep.equal(b[table]);
  };

  /** Payment terms with the deployer as operator, and their id. */
  const newPayment = async (amount: bigint) => {
    const [payer, merchant, feeReceiver] = world.users as [
      AuditWorld["deployer"],
      AuditWorld["deployer"],
      AuditWorld["deployer"],
    ];
    const timestamp = Number((await world.client.getBlock()).timestamp);
    const terms = {
      operator: world.deployer.address,
      payer: payer.address,
      merchant: merchant.address,
      token: world.contracts.token,
      maxAmount: amount * 2n,
      authorizationExpiry: timestamp + 3_600,
      refundExpiry: timestamp + 10_000,
      minFeeBps: 0,
      maxFeeBps: 500,
      feeReceiver: feeReceiver.address,
      salt: ++salt,
    };
    const id = (await world.client.readContract({
      address: world.contracts.escrow,
      abi: world.abis.escrow as Abi,
      functionName: "getPaymentId",
      args: [terms],
    })) as Hex;
    return { terms, id, merchant, payer };
  };

  it("rolls an authorized and captured payment back to the ancestor, then follows a branch where it was only authorized", async () => {
    await ledger.indexer.catchUp();
    // 777_777 at 137 bps: the fee does not divide evenly, so a wrong rollback shows in the merchant's balance.
    const payment = await newPayment(777_777n);
    await world.write(payment.payer, "escrow", "preApprove", [payment.terms]);
    const ancestor = await world.client.getBlockNumber({ cacheTime: 0 });
    const merchantBefore = await ledgerBalance(`holder:${getAddress(payment.merchant.address)}`);
    const snapshot = await world.chain.testClient.snapshot();

    await world.write(world.deployer, "escrow", "authorize", [payment.terms, 777_777n]);
    await world.write(world.deployer, "escrow", "capture", [payment.terms, 500_001n, 137]);
    await ledger.indexer.catchUp();
    const orphaned = await paymentRows(payment.id);
    expect(orphaned.map((row) => row.event)).to.include("PaymentCaptured");
    expect(orphaned.at(-1)!.captured).to.equal("500001");
    expect(await ledgerBalance(`holder:${getAddress(payment.merchant.address)}`)).to.be.greaterThan(merchantBefore);
    await expectLedgerEqualsChain(ledger.database, world.client, world.contracts.token, world.contracts.escrow);

    await world.chain.testClient.revert({ id: snapshot });
    expect(await world.client.getBlockNumber({ cacheTime: 0 })).to.equal(ancestor);
    // The new branch: only the authorization, then two unrelated blocks so it is the longer one.
    await world.write(world.deployer, "escrow", "authorize", [payment.terms, 777_777n]);
    // Between two users who are not parties to the payment, so the merchant's balance stays comparable.
    const [a, b] = world.users.slice(6) as [AuditWorld["deployer"], AuditWorld["deployer"]];
    await world.write(a, "token", "transfer", [b.address, 11n]);
    await world.write(b, "token", "transfer", [a.address, 13n]);
    await ledger.indexer.catchUp();

    const rows = await paymentRows(payment.id);
    expect(rows.map((row) => row.event)).to.not.include("PaymentCaptured");
    expect(rows.at(-1)).to.include({ held: "777777", captured: "0", refunded: "0" });
    expect(await ledgerBalance(`escrow:${payment.id.toLowerCase()}`)).to.equal(777_777n);
    expect(await ledgerBalance(`holder:${getAddress(payment.merchant.address)}`)).to.equal(merchantBefore);
    await expectFollowsChain();
  });

  it("rolls a settlement payout batch and an authorization batch back and follows a branch with a different batch", async () => {
    await ledger.indexer.catchUp();
    const [m1, m2, m3] = world.users.slice(3) as [
      AuditWorld["deployer"],
      AuditWorld["deployer"],
      AuditWorld["deployer"],
    ];
    const item = (merchant: Address, amount: bigint, ref: string) => ({
      merchant,
      amount,
      payoutReference: keccak256(toHex(ref)),
    });
    const orphanedBatch = keccak256(toHex("batch-orphaned"));
    const survivingBatch = keccak256(toHex("batch-surviving"));
    const m1Before = await ledgerBalance(`holder:${getAddress(m1.address)}`);
    const snapshot = await world.chain.testClient.snapshot();

    await world.write(world.deployer, "settlement", "payout", [
      orphanedBatch,
      world.contracts.token,
      [item(m1.address, 1_000_003n, "o-1"), item(m2.address, 2_000_005n, "o-2")],
    ]);
    // And a batch of EIP-3009 authorizations settled in the orphaned branch (entries referenced by their nonces).
    const timestamp = BigInt((await world.client.getBlock()).timestamp);
    const nonces = [keccak256(toHex("nonce-orphaned-1")), keccak256(toHex("nonce-orphaned-2"))];
    const authorizations = [];
    for (const [i, nonce] of nonces.entries()) {
      const from = world.users[7 + i]!;
      const message = {
        from: from.address,
        to: m2.address,
        value: 4_000_009n + BigInt(i),
        validAfter: 0n,
        validBefore: timestamp + 3600n,
        nonce,
      };
      const signature = await from.signTypedData!({
        domain: { name: "Stablerail USD", version: "1", chainId: 31337, verifyingContract: world.contracts.token },
        types: transferWithAuthorizationTypes,
        primaryType: "TransferWithAuthorization",
        message,
      });
      authorizations.push({ ...message, signature });
    }
    await world.write(world.deployer, "settlement", "settleAuthorizations", [world.contracts.token, authorizations], {
      gas: 16_000_000n,
    });
    await ledger.indexer.catchUp();
    expect(await batchEntries(orphanedBatch)).to.have.length(2);
    for (const nonce of nonces) expect(await batchEntries(nonce), nonce).to.have.length(1);
    expect(await ledgerBalance(`holder:${getAddress(m1.address)}`)).to.equal(m1Before + 1_000_003n);

    await world.chain.testClient.revert({ id: snapshot });
    await world.write(world.deployer, "settlement", "payout", [
      survivingBatch,
      world.contracts.token,
      [item(m3.address, 3_000_007n, "s-1")],
    ]);
    const [a, b] = world.users as [AuditWorld["deployer"], AuditWorld["deployer"]];
    await world.write(a, "token", "transfer", [b.address, 17n]);
    await world.write(b, "token", "transfer", [a.address, 29n]);
    await ledger.indexer.catchUp();

    expect(await batchEntries(orphanedBatch)).to.have.length(0);
    for (const nonce of nonces) expect(await batchEntries(nonce), nonce).to.have.length(0);
    expect(await batchEntries(survivingBatch)).to.have.length(1);
    expect(await ledgerBalance(`holder:${getAddress(m1.address)}`)).to.equal(m1Before);
    await expectFollowsChain();
  });

  it("follows a reorg to a branch of equal height with other transactions", async () => {
    await ledger.indexer.catchUp();
    const payment = await newPayment(400_003n);
    await world.write(payment.payer, "escrow", "preApprove", [payment.terms]);
    await ledger.indexer.catchUp();
    const snapshot = await world.chain.testClient.snapshot();
    const [a, b] = world.users as [AuditWorld["deployer"], AuditWorld["deployer"]];

    // Orphaned branch: 3 blocks — a charge, a payout and a transfer.
    await world.write(world.deployer, "escrow", "charge", [payment.terms, 400_003n, 250]);
    await world.write(world.deployer, "settlement", "payout", [
      keccak256(toHex("batch-equal-orphaned")),
      world.contracts.token,
      [{ merchant: a.address, amount: 5_000_001n, payoutReference: keccak256(toHex("eq-o")) }],
    ]);
    await world.write(a, "token", "transfer", [b.address, 19n]);
    await ledger.indexer.catchUp();
    const orphanedHead = (await getIndexedHead(ledger.database, { chainId: 31337 }))!;
    expect(orphanedHead.number).to.equal(await world.client.getBlockNumber({ cacheTime: 0 }));

    await world.chain.testClient.revert({ id: snapshot });
    // Surviving branch: 3 blocks too — an authorization, a partial capture and a different transfer.
    await world.write(world.deployer, "escrow", "authorize", [payment.terms, 400_003n]);
    await world.write(world.deployer, "escrow", "capture", [payment.terms, 123_457n, 99]);
    await world.write(b, "token", "transfer", [a.address, 23n]);
    expect(await world.client.getBlockNumber({ cacheTime: 0 })).to.equal(orphanedHead.number);
    await ledger.indexer.catchUp();

    const head = (await getIndexedHead(ledger.database, { chainId: 31337 }))!;
    expect(head.number).to.equal(orphanedHead.number);
    expect(head.hash).to.not.equal(orphanedHead.hash);
    const rows = await paymentRows(payment.id);
    // The orphaned charge captured the whole amount at once; no row of it may survive.
    expect(rows.map((row) => row.captured)).to.not.include("400003");
    expect(rows.at(-1)).to.include({ held: String(400_003n - 123_457n), captured: "123457" });
    expect(await batchEntries(keccak256(toHex("batch-equal-orphaned")))).to.have.length(0);
    await expectFollowsChain();
  });
});
