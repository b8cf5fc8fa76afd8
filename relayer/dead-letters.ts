/**
 * The operators' actions on a dead letter (a relay that ended without its effect on chain): what
 * is safe, and doing it. Retry re-queues the same signed request only when it cannot execute
 * twice — no transaction of the relay can still mine or has executed, and the authorization it
 * carries (EIP-3009: a transfer, an escrow funding, a refund) is still unused on chain. Cancel
 * closes a `dead` relay for good (its movement stays dead).
 */
import { eq, sql } from "drizzle-orm";
import type { Address, Hex, PublicClient } from "viem";

import { paymentEscrowAbi } from "../lib/chain/abis/paymentEscrow.ts";
import { stablecoinAbi } from "../lib/chain/abis/stablecoin.ts";
import type { ContractAddresses } from "../lib/chain/contracts.ts";
import type { Database } from "../lib/db/database.ts";
import { NotFoundError, StablerailError } from "../lib/errors/base.ts";
import { relayerTransactions, relays } from "./db/schema.ts";
import { relayRequestSchema, type PaymentTermsInput, type RelayRequest } from "./jobs/relay-request.ts";
import type { RelayQueue } from "./queue.ts";
import { readReceipt } from "./read-receipt.ts";
import { recordTransition } from "./record-transition.ts";
import type { Relay } from "./relay-status.ts";
import { reviveRelayJob } from "./watch/revive-relay-job.ts";

export type DeadLetterActions = {
  /** Whether POST /v1/relays/:id/retry may re-queue it, and why not when it may not. */
  retry: { allowed: boolean; reason?: string | undefined };
  /** Whether POST /v1/relays/:id/cancel may close it (a `dead` relay, or one still waiting in the queue). */
  cancel: { allowed: boolean };
};

export type ChainReads = { publicClient: PublicClient; contracts: ContractAddresses };

/** The relay cannot be retried now (it may still execute, or already did). */
export class RelayNotRetryableError extends StablerailError {
  override name = "RelayNotRetryableError";
  constructor(relayId: string, why: string) {
    super("RELAY_NOT_RETRYABLE", `Relay ${relayId} cannot be retried: ${why}`, { details: { relayId } });
  }
}

const termsArg = (t: PaymentTermsInput) => ({ ...t, maxAmount: BigInt(t.maxAmount), salt: BigInt(t.salt) });

/** The EIP-3009 authorization a request carries (who signed it, its nonce, on which token), if any. */
async function authorizationOf(
  request: RelayRequest,
  { publicClient, contracts }: ChainReads,
): Promise<{ token: Address; authorizer: Address; nonce: Hex } | undefined> {
  switch (request.kind) {
    case "token.transferWithAuthorization":
      return { token: request.token, authorizer: request.from, nonce: request.nonce };
    case "escrow.authorize":
    case "escrow.charge": {
      const paymentId = await publicClient.readContract({
        address: contracts.paymentEscrow,
        abi: paymentEscrowAbi,
        functionName: "getPaymentId",
        args: [termsArg(request.terms)],
      });
      return { token: request.terms.token, authorizer: request.terms.payer, nonce: paymentId };
    }
    case "escrow.refundWithAuthorization": {
      const paymentId = await publicClient.readContract({
        address: contracts.paymentEscrow,
        abi: paymentEscrowAbi,
        functionName: "getPaymentId",
        args: [termsArg(request.terms)],
      });
      const nonce = await publicClient.readContract({
        address: contracts.paymentEscrow,
        abi: paymentEscrowAbi,
        functionName: "getRefundNonce",
        args: [paymentId, request.refundSalt],
      });
      return { token: request.terms.token, authorizer: request.refunder, nonce };
    }
    default:
      return undefined;
  }
}

/**
 * Why the relay may not be retried, or `undefined` when it may.
 * @param database - the relay tables
 * @param chain - the chain and contracts (authorization state, receipts)
 */
async function whyNotRetryable(
  database: Database,
  chain: ChainReads,
  relay: Pick<Relay, "relayId" | "status">,
  request: unknown,
): Promise<string | undefined> {
  if (relay.status !== "dead" && relay.status !== "failed") return `it is ${relay.status}`;
  const rows = await database.db
    .select({ hash: relayerTransactions.hash, status: relayerTransactions.status })
    .from(relayerTransactions)
    .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([relay.relayId])}::jsonb`);
  if (rows.some((row) => row.status === "signed" || row.status === "sent"))
    return "a transaction sent for it may still mine";
  for (const row of rows.filter((r) => r.status === "mined")) {
    const receipt = await readReceipt(chain.publicClient, row.hash as Hex);
    if (receipt?.status === "success") return `transaction ${row.hash} executed it`;
  }
  const parsed = relayRequestSchema.safeParse(request);
  if (!parsed.success) return "its recorded request does not parse";
  const authorization = await authorizationOf(parsed.data, chain);
  if (authorization) {
    const used = await chain.publicClient.readContract({
      address: authorization.token,
      abi: stablecoinAbi,
      functionName: "authorizationState",
      args: [authorization.authorizer, authorization.nonce],
    });
    if (used) return `authorization ${authorization.nonce} of ${authorization.authorizer} is already used on chain`;
  }
  return undefined;
}

/**
 * The safe actions on each dead letter, read from the relay tables and the chain.
 * @returns actions by relay id (only for relays that ended failed, expired, cancelled or dead)
 */
export async function deadLetterActions(
  database: Database,
  chain: ChainReads,
  list: readonly Relay[],
): Promise<Map<string, DeadLetterActions>> {
  const actions = new Map<string, DeadLetterActions>();
  for (const relay of list) {
    if (!["failed", "expired", "cancelled", "dead"].includes(relay.status)) continue;
    const [row] = await database.db
      .select({ request: relays.request })
      .from(relays)
      .where(eq(relays.relayId, relay.relayId));
    const why = await whyNotRetryable(database, chain, relay, row?.request).catch(
      (error: unknown) => `the chain could not be read: ${(error as Error).message.split("\n")[0]}`,
    );
    actions.set(relay.relayId, {
      retry: why === undefined ? { allowed: true } : { allowed: false, reason: why },
      cancel: { allowed: relay.status === "dead" },
    });
  }
  return actions;
}

/**
 * Re-queues a dead letter with its recorded request, when that is safe (see the module comment):
 * its earlier transactions are released (none of them can mine or executed), the relay goes
 * back to `queued` with a transition naming who retried it, and its job runs again.
 * @throws NotFoundError RELAY_NOT_FOUND, RelayNotRetryableError RELAY_NOT_RETRYABLE
 */
export async function retryRelay(
  queue: RelayQueue,
  database: Database,
  chain: ChainReads,
  relayId: string,
  by: string,
): Promise<void> {
  const [relay] = await database.db.select().from(relays).where(eq(relays.relayId, relayId));
  if (!relay) throw new NotFoundError("RELAY_NOT_FOUND", `No relay ${relayId}`);
  const why = await whyNotRetryable(
    database,
    chain,
    { relayId, status: relay.status as Relay["status"] },
    relay.request,
  );
  if (why) throw new RelayNotRetryableError(relayId, why);
  // Earlier transactions (dropped, or mined and reverted) no longer speak for it: a retry sends anew.
  await database.db
    .update(relayerTransactions)
    .set({
      relayIds: sql`(
        SELECT jsonb_agg(CASE WHEN item = to_jsonb(${relayId}::text) THEN to_jsonb(${`released:${relayId}`}::text) ELSE item END ORDER BY position)
        FROM jsonb_array_elements(${relayerTransactions.relayIds}) WITH ORDINALITY AS items(item, position)
      )`,
    })
    .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([relayId])}::jsonb`);
  const moved = await recordTransition(database, [relayId], "queued", {
    detail: { retriedBy: by, previous: { status: relay.status, errorCode: relay.errorCode } },
    onlyFrom: ["dead", "failed"],
  });
  if (moved.length === 0) throw new RelayNotRetryableError(relayId, "it changed meanwhile");
  await database.db
    .update(relays)
    .set({
      relayer: null,
      nonce: null,
      transactionHash: null,
      blockNumber: null,
      blockHash: null,
      finalAt: null,
      batchIndex: null,
      errorCode: null,
      errorMessage: null,
    })
    .where(eq(relays.relayId, relayId));
  await reviveRelayJob(queue, database, relayId);
}
