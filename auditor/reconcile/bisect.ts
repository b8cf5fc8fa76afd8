/**
 * Finds where a disagreement starts by bisection over blocks. Pure apart from the probe it is given.
 *
 * Given `agrees(low)` (before anything was recorded both sides are empty) and `!agrees(high)`, it
 * halves the range until `agrees(b − 1)` and `!agrees(b)`: `b` is a block at which the two sides
 * diverge, found with ⌈log2(high − low)⌉ probes (a dozen for a million blocks). When the sides
 * diverge once and stay apart — a changed, missing or extra movement, a drift on chain — `b` is the
 * first divergent block. When they diverge and converge again (an entry moved to a later block),
 * bisection cannot see the earlier interval from the endpoints; completeness reports those exactly.
 *
 * @param parameters.low - a block where both sides agree (checked when `checkLow`)
 * @param parameters.high - a block where they disagree
 * @param parameters.agrees - the probe: whether ledger and chain agree at a block
 * @returns the first block found to disagree, and the probes it took
 * @example
 * const { block } = await firstDivergentBlock({ low: start - 1n, high: head, agrees: async (b) => (await ledgerAt(b)) === (await chainAt(b)) });
 */
export async function firstDivergentBlock({
  low,
  high,
  agrees,
}: {
  low: bigint;
  high: bigint;
  agrees: (block: bigint) => Promise<boolean>;
}): Promise<{ block: bigint; probes: number }> {
  let probes = 0;
  let good = low;
  let bad = high;
  while (bad - good > 1n) {
    const middle = good + (bad - good) / 2n;
    probes++;
    if (await agrees(middle)) good = middle;
    else bad = middle;
  }
  return { block: bad, probes };
}
