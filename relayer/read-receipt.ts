import type { Hex, PublicClient, TransactionReceipt } from "viem";

/**
 * A transaction's receipt as the node knows it: `undefined` only when the node answers that it has
 * none. Any other failure (a timeout, a dropped connection, a 5xx) is thrown: a read that failed
 * proves nothing, so it must never be taken for "not mined" — that is how a relay whose
 * transaction executed could be ended failed and then retried.
 * @throws the read's error when the node did not answer with a receipt or "not found"
 */
export async function readReceipt(publicClient: PublicClient, hash: Hex): Promise<TransactionReceipt | undefined> {
  try {
    return await publicClient.getTransactionReceipt({ hash });
  } catch (error) {
    if ((error as Error).name === "TransactionReceiptNotFoundError") return undefined;
    throw error;
  }
}
