/**
 * The peers' gas figures the gas table compares Stablerail's rows with, as issue 17 quotes them: Circle's
 * FiatTokenV2_2 (USDC) behind its FiatTokenProxy on Hardhat's EVM at the Prague hardfork (gas used by the
 * transaction), and commerce-payments' published `.gas-snapshot-benchmarks` (execution gas: gas used less the
 * 21,000 base and the calldata). Quoted, not measured: neither peer is built or run here. Each row names the row of
 * ours it is set against, the column compared and the target ratio (ours / theirs).
 */

/** One quoted figure and the row of ours compared with it. */
export type Reference = {
  /** The label of our row in the gas table. */
  ours: string;
  /** Which of our columns is compared: the transaction's gas used, or its execution gas. */
  column: "used" | "execution";
  /** The peer and its operation, as quoted. */
  peer: string;
  /** The quoted gas. */
  quoted: bigint;
  /** The target: ours at most this fraction of the quoted figure. */
  target: number;
};

const USDC = "FiatTokenV2_2 via proxy";
const COMMERCE = "commerce-payments";

export const references: readonly Reference[] = [
  { ours: "Stablecoin.transfer", column: "used", peer: `${USDC}: transfer`, quoted: 45_047n, target: 0.9 },
  { ours: "Stablecoin.approve", column: "used", peer: `${USDC}: approve`, quoted: 55_425n, target: 0.9 },
  { ours: "Stablecoin.permit", column: "used", peer: `${USDC}: permit`, quoted: 93_399n, target: 0.9 },
  {
    ours: "Stablecoin.transferWithAuthorization (bytes signature)",
    column: "used",
    peer: `${USDC}: transferWithAuthorization`,
    quoted: 85_684n,
    target: 0.9,
  },
  {
    ours: "PaymentEscrow.authorizeWithAuthorization (EIP-3009)",
    column: "execution",
    peer: `${COMMERCE}: authorize (ERC-3009)`,
    quoted: 155_657n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.capture (everything held, with fee)",
    column: "execution",
    peer: `${COMMERCE}: capture`,
    quoted: 69_915n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.capture (partial, with fee)",
    column: "execution",
    peer: `${COMMERCE}: capture`,
    quoted: 69_915n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.chargeWithAuthorization (EIP-3009, with fee)",
    column: "execution",
    peer: `${COMMERCE}: charge (ERC-3009)`,
    quoted: 165_167n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.void (rest held)",
    column: "execution",
    peer: `${COMMERCE}: void`,
    quoted: 55_079n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.reclaim (by payer)",
    column: "execution",
    peer: `${COMMERCE}: reclaim`,
    quoted: 55_217n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.refund (by merchant, own allowance)",
    column: "execution",
    peer: `${COMMERCE}: refund`,
    quoted: 80_064n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.refundWithAuthorization (EIP-3009, first refund)",
    column: "execution",
    peer: `${COMMERCE}: refund`,
    quoted: 80_064n,
    target: 0.8,
  },
  {
    ours: "PaymentEscrow.refundWithAuthorization (EIP-3009, second refund)",
    column: "execution",
    peer: `${COMMERCE}: refund`,
    quoted: 80_064n,
    target: 0.8,
  },
];
