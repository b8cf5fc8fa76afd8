import { zeroAddress, type Address, type Hex } from "viem";

import { escrowAccount, holderAccount, issuanceAccount } from "./accounts.ts";
import { checksumAddress as getAddress } from "./checksum.ts";
import { toJsonSafe } from "./json.ts";
import type { DecodedLog, EntryKind, JournalEntry } from "./types.ts";

/**
 * Posting rules: decoded logs (in chain order) → balanced journal entries. Pure, no I/O.
 *
 * Transfer logs are the only source of token movement, so every holder balance equals the
 * token's `balanceOf`. The Stablerail events around a Transfer only label it:
 * - the escrow emits its event before the transfers it causes, so the escrow-touching Transfers
 *   after an escrow event (until the next escrow event of the same transaction) move money in or
 *   out of that payment's `escrow:<paymentId>` account instead of the escrow contract's holder
 *   account; a transfer to the escrow without an escrow event stays on `holder:<escrow>`. Hence
 *   `holder:<escrow> + Σ escrow:*` = the escrow's `balanceOf`;
 * - `PayoutItemPaid` precedes its transfer from the Settlement contract to the merchant;
 * - the token's `AuthorizationUsed` precedes the Transfer it authorises (EIP-3009); when
 *   Settlement reports the same nonce settled in the transaction, it is a batched settlement item.
 */
export type PostingRulesContext = {
  escrow?: Address | undefined;
  settlement?: Address | undefined;
};

type EscrowSegment = { paymentId: Hex; eventName: string; log: DecodedLog; capturedToMerchant: boolean };

/**
 * Turns the logs of one or more blocks into journal entries, one per Transfer log.
 * @param logs - decoded logs in chain order (block number, then log index)
 * @param context - addresses of the escrow and settlement contracts
 * @returns the entries, in the same order as their Transfer logs
 */
export function journalize(logs: readonly DecodedLog[], context: PostingRulesContext): JournalEntry[] {
  const escrow = context.escrow ? getAddress(context.escrow) : undefined;
  const settlement = context.settlement ? getAddress(context.settlement) : undefined;
  const entries: JournalEntry[] = [];
  let transaction: string | undefined;
  let segment: EscrowSegment | undefined;
  let payout: DecodedLog | undefined;
  let settledNonces = new Set<string>();
  let previous: DecodedLog | undefined;

  for (let i = 0; i < logs.length; i++) {
    const log = logs[i]!;
    if (log.transactionHash !== transaction) {
      transaction = log.transactionHash;
      segment = undefined;
      payout = undefined;
      previous = undefined;
      settledNonces = new Set();
      for (let j = i; j < logs.length && logs[j]!.transactionHash === transaction; j++) {
        const other = logs[j]!;
        if (other.contractName === "Settlement" && other.eventName === "AuthorizationSettled")
          settledNonces.add(String(other.args.nonce).toLowerCase());
      }
    }
    if (log.contractName === "PaymentEscrow") {
      segment = { paymentId: log.args.paymentId as Hex, eventName: log.eventName, log, capturedToMerchant: false };
    } else if (log.contractName === "Settlement" && log.eventName === "PayoutItemPaid") {
      payout = log;
    } else if (log.contractName === "Stablecoin" && log.eventName === "Transfer") {
      entries.push(journalizeTransfer(log, { escrow, settlement, segment, payout, previous, settledNonces }));
      if (payout && getAddress(log.args.from as Address) === settlement) payout = undefined;
    }
    previous = log;
  }
  return entries;
}

type TransferContext = {
  escrow: Address | undefined;
  settlement: Address | undefined;
  segment: EscrowSegment | undefined;
  payout: DecodedLog | undefined;
  previous: DecodedLog | undefined;
  settledNonces: Set<string>;
};

function journalizeTransfer(
  log: DecodedLog,
  { escrow, settlement, segment, payout, previous, settledNonces }: TransferContext,
): JournalEntry {
  const token = getAddress(log.address);
  const from = getAddress(log.args.from as Address);
  const to = getAddress(log.args.to as Address);
  const value = log.args.value as bigint;
  let debit = from === zeroAddress ? issuanceAccount(token) : holderAccount(from);
  let credit = to === zeroAddress ? issuanceAccount(token) : holderAccount(to);
  let kind: EntryKind = from === zeroAddress ? "mint" : to === zeroAddress ? "burn" : "transfer";
  let reference: Hex | null = null;
  let cause: DecodedLog | undefined;

  const touchesEscrow = escrow !== undefined && (from === escrow || to === escrow);
  if (segment && (touchesEscrow || segment.eventName === "PaymentRefunded")) {
    if (from === escrow) debit = escrowAccount(segment.paymentId);
    if (to === escrow) credit = escrowAccount(segment.paymentId);
    kind = escrowKind(segment, to);
    reference = segment.paymentId;
    cause = segment.log;
  } else if (payout && from === settlement && to === getAddress(payout.args.merchant as Address)) {
    kind = "settlement_payout";
    reference = payout.args.batchId as Hex;
    cause = payout;
  } else if (
    previous?.contractName === "Stablecoin" &&
    previous.eventName === "AuthorizationUsed" &&
    getAddress(previous.address) === token &&
    getAddress(previous.args.authorizer as Address) === from
  ) {
    const nonce = (previous.args.nonce as Hex).toLowerCase() as Hex;
    kind = settledNonces.has(nonce) ? "settlement_authorization" : "authorization_transfer";
    reference = nonce;
    cause = previous;
  }

  const transfer = { from, to, value: value.toString() };
  return {
    chainId: log.chainId,
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    blockTimestamp: log.blockTimestamp,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
    token,
    kind,
    reference,
    // JSON-safe as built (the value as a decimal string), keys in their canonical order, so the
    // writer's canonical encoding copies nothing for a plain transfer (issue 17).
    event: cause
      ? {
          cause: {
            args: toJsonSafe(cause.args),
            contract: cause.contractName,
            eventName: cause.eventName,
            logIndex: cause.logIndex,
          },
          transfer,
        }
      : { transfer },
    postings: [
      { account: debit, counterparty: credit, amount: -value },
      { account: credit, counterparty: debit, amount: value },
    ],
  };
}

function escrowKind(segment: EscrowSegment, to: Address): EntryKind {
  switch (segment.eventName) {
    case "PaymentAuthorized":
      return "escrow_authorize";
    case "PaymentCaptured": {
      // Captured pays the merchant its net first, then the fee receiver its fee.
      if (!segment.capturedToMerchant && to === getAddress(segment.log.args.merchant as Address)) {
        segment.capturedToMerchant = true;
        return "escrow_capture";
      }
      return "escrow_fee";
    }
    case "PaymentVoided":
      return "escrow_void";
    case "PaymentReclaimed":
      return "escrow_reclaim";
    default:
      return "escrow_refund";
  }
}
