import { getAddress, parseEventLogs, type Address, type Hex, type Log } from "viem";

import { settlementAbi } from "../../lib/chain/abis/settlement.ts";
import { RelayBatchOutcomeUnknownError } from "./errors.ts";

/** What a `settleAuthorizations` transaction reported for one item. */
export type BatchItemOutcome =
  | { type: "settled" }
  /** `reason` is the token's revert data; `0x` when there was none (the item's call ran out of its gas limit). */
  | { type: "failed"; reason: Hex }
  /** The batch ran short of gas before this item and did not attempt it: nothing moved, its authorisation is untouched. */
  | { type: "skipped" };

/**
 * Reads item `index`'s outcome from the logs of a successful `settleAuthorizations` transaction:
 * its `AuthorizationSettled` or `AuthorizationFailed` event, or the `AuthorizationsSkipped` range
 * it falls in. Pure: no chain access.
 * @param logs - the receipt's logs
 * @param settlement - the Settlement contract the transaction called (other emitters are ignored)
 * @param index - the item's position in the batch
 * @param item - the item's payer and EIP-3009 nonce, checked against its event (a skip names no item)
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
    eventName: ["AuthorizationSettled", "AuthorizationFailed", "AuthorizationsSkipped"],
    logs: logs.filter((log) => getAddress(log.address) === getAddress(settlement)),
  });
  const position = BigInt(index);
  for (const event of events) {
    if (event.eventName === "AuthorizationsSkipped") {
      const { firstIndex, count } = event.args;
      if (position >= firstIndex && position < firstIndex + count) return { type: "skipped" };
      continue;
    }
    if (event.args.index !== position) continue;
    if (
      getAddress(event.args.from) !== getAddress(item.from) ||
      event.args.nonce.toLowerCase() !== item.nonce.toLowerCase()
    ) {
      throw new RelayBatchOutcomeUnknownError(
        `Batch item ${index} reports ${event.args.from}/${event.args.nonce}, not ${item.from}/${item.nonce}`,
      );
    }
    return event.eventName === "AuthorizationSettled"
      ? { type: "settled" }
      : { type: "failed", reason: event.args.reason };
  }
  throw new RelayBatchOutcomeUnknownError(
    `Batch item ${index} has no AuthorizationSettled or AuthorizationFailed event and is in no AuthorizationsSkipped range`,
  );
}
