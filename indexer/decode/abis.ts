import { parseAbi } from "viem";

/**
 * The events the indexer reads, declared from docs/design/contracts.md (the generated ABIs in
 * lib/chain/abis/ replace these once the contracts are merged; the signatures are the agreement).
 */
export const stablecoinEventsAbi = parseAbi([
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event Approval(address indexed owner, address indexed spender, uint256 value)",
  "event Mint(address indexed minter, address indexed to, uint256 amount)",
  "event Burn(address indexed burner, uint256 amount)",
  "event MinterConfigured(address indexed minter, uint256 allowance)",
  "event MinterRemoved(address indexed minter)",
  "event Paused(address account)",
  "event Unpaused(address account)",
  "event Frozen(address indexed account)",
  "event Unfrozen(address indexed account)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)",
  "event TokensRescued(address indexed token, address indexed to, uint256 amount)",
]);

const paymentTerms =
  "(address operator, address payer, address merchant, address token, uint256 maxAmount, uint48 authorizationExpiry, uint48 refundExpiry, uint16 minFeeBps, uint16 maxFeeBps, address feeReceiver, uint256 salt)";

export const paymentEscrowEventsAbi = parseAbi([
  `event PaymentAuthorized(bytes32 indexed paymentId, address indexed payer, address indexed merchant, address operator, address token, uint256 amount, ${paymentTerms} terms)`,
  "event PaymentCaptured(bytes32 indexed paymentId, address indexed merchant, address feeReceiver, uint256 amount, uint256 fee)",
  "event PaymentVoided(bytes32 indexed paymentId, address indexed payer, uint256 amount)",
  "event PaymentReclaimed(bytes32 indexed paymentId, address indexed payer, uint256 amount)",
  "event PaymentRefunded(bytes32 indexed paymentId, address indexed payer, address indexed refunder, uint256 amount)",
]);

export const settlementEventsAbi = parseAbi([
  "event PayoutItemPaid(bytes32 indexed batchId, uint256 indexed index, address indexed merchant, uint256 amount, bytes32 payoutReference)",
  "event PayoutBatchExecuted(bytes32 indexed batchId, address indexed token, uint256 itemCount, uint256 total)",
  "event AuthorizationSettled(uint256 indexed index, address indexed from, bytes32 indexed nonce)",
  "event AuthorizationFailed(uint256 indexed index, address indexed from, bytes32 indexed nonce, bytes reason)",
]);
