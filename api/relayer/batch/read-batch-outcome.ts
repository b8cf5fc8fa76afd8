import { getAddress, parseEventLogs, type Address, type Hex, type Log } from "viem";

import { settlementAbi } from "../../../lib/chain/abis/settlement.ts";
import { RelayBatchOutcomeUnknownError } from "./errors.ts";

/** What a `settleAuthorizations` transaction reported for one item. */
export type BatchItemOutcome =
  | { settled: true }
  /** `reason` is the token's revert data; `0x` when there was none (an out-of-gas looks like that). */
  | { settled: false; reason: Hex };

/**
 * Reads item `index`'s outcome from the logs of a successful `settleAuthorizations` transaction:
 * its `AuthorizationSettled` or `AuthorizationFailed` event. Pure: no chain access.
 * @param logs - the receipt's logs
 * @param settlement - the Settlement contract the transaction called (other emitters are ignored)
 * @param index - the item's position in the batch
 * @param item - the item's payer and EIP-3009 nonce, checked against the event
 * @throws RelayBatchOutcomeUnknownError when the item has no event, or its event names another payer or nonce — the
 *   transaction is not the batch this relay was recorded in, and nothing may be concluded
 */
export function readBatchOutcome(
  logs: readonly Log[],
  settlement: Address,
  index: number,
  item: { from: Address; nonce: Hex },
): BatchItemOutcome {
  const events = parseEventLogs({
    abi: settlementAbi,
    eventName: ["AuthorizationSettled", "AuthorizationFailed"],
    logs: logs.filter((log) => getAddress(log.address) === getAddress(settlement)),
  });
  const event = events.find((candidate) => candidate.args.index === BigInt(index));
  if (!event)
    throw new RelayBatchOutcomeUnknownError(
      `Batch item ${index} has neither AuthorizationSettled nor AuthorizationFailed`,
    );
  if (
    getAddress(event.args.from) !== getAddress(item.from) ||
    event.args.nonce.toLowerCase() !== item.nonce.toLowerCase()
  ) {
    throw new RelayBatchOutcomeUnknownError(
      `Batch item ${index} reports ${event.args.from}/${event.args.nonce}, not ${item.from}/${item.nonce}`,
    );
  }
  return event.eventName === "AuthorizationSettled" ? { settled: true } : { settled: false, reason: event.args.reason };
}
