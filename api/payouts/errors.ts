import { ConflictError } from "../errors/api-errors.ts";

/** A payout batch id that was already submitted or executed on chain. */
export class PayoutBatchReplayedError extends ConflictError {
  override name = "PayoutBatchReplayedError";
  constructor(batchId: string) {
    super("PAYOUT_BATCH_ALREADY_EXECUTED", `Payout batch ${batchId} was already submitted; use a new batch id`, {
      details: { batchId },
    });
  }
}
