/**
 * Where a money movement stands — one rule for every view (a wallet's transfers and pending
 * balance, a payment's pending movements, a payout batch). Pure.
 *
 * A movement is never settled by a write of its own: the facts are recorded where they arrive —
 * the relayer records each relay's outcome and block (relays), the indexer records how far the
 * ledger reaches (its indexed head) — and this function combines them:
 *
 *   pending    the door recorded it and is queueing it
 *   rejected   the door refused it after recording it (the queue did not answer); nothing was sent
 *   queued     in the relayer, no transaction yet
 *   submitted  a transaction is out (sent, mined, or replaced by a faster one)
 *   confirmed  on chain at its confirmation depth, not yet in the ledger
 *   indexed    its block is in the ledger: balances and history show it
 *   failed     the chain refused it (reverted) or a policy did; nothing moved
 *   dead       it ended without a transaction: expired, cancelled, out of retries
 *   held       the risk engine held it for an operator's review (signed, funds reserved, not queued)
 *   denied     the risk engine refused it when submitted; nothing was signed
 *   declined   held, then rejected by an operator; nothing moved
 */
import type { RelaySummary } from "../../relayer/index.ts";

export const movementStates = [
  "pending",
  "rejected",
  "queued",
  "submitted",
  "confirmed",
  "indexed",
  "failed",
  "dead",
  "held",
  "denied",
  "declined",
] as const;
export type MovementState = (typeof movementStates)[number];

/** The states after which nothing about the movement changes (its money is in the ledger, or never moved). */
export const settledStates: ReadonlySet<MovementState> = new Set([
  "rejected",
  "indexed",
  "failed",
  "dead",
  "denied",
  "declined",
]);

/**
 * @param recordedStatus - money_movements.status as the door wrote it (pending, queued, rejected,
 *   held, denied, declined;
 *   rows written before this rule also hold failed, dead or indexed, which are final)
 * @param relay - the relay's summary, or undefined while no relay row exists yet
 * @param indexedHead - the ledger's indexed block number, undefined before the first block
 */
export function movementState(
  recordedStatus: string,
  relay: RelaySummary | undefined,
  indexedHead: bigint | undefined,
): MovementState {
  if (recordedStatus === "pending" || recordedStatus === "rejected") return recordedStatus;
  if (recordedStatus === "held" || recordedStatus === "denied" || recordedStatus === "declined") return recordedStatus;
  if (recordedStatus === "failed" || recordedStatus === "dead" || recordedStatus === "indexed") return recordedStatus;
  if (!relay) return "queued";
  if (relay.state !== "confirmed") return relay.state;
  return relay.blockNumber !== undefined && indexedHead !== undefined && indexedHead >= relay.blockNumber
    ? "indexed"
    : "confirmed";
}
