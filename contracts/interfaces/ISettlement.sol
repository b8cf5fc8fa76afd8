// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @dev External surface of Stablerail's settlement contract (see docs/design/contracts.md): batched merchant payouts
 * from the treasury it holds, and batched execution of payers' EIP-3009 transfers.
 *
 * Besides the errors declared here calls revert with `AccessControlUnauthorizedAccount`, the
 * `AccessControlDefaultAdminRules` errors (`AccessControlEnforcedDefaultAdminRules`, ...), the token's own errors,
 * `SafeERC20FailedOperation` and `ReentrancyGuardReentrantCall`.
 */
interface ISettlement {
    /// @dev One merchant payout of a batch; `payoutReference` is the off-chain reference (e.g. a statement id).
    struct PayoutItem {
        address merchant;
        uint256 amount;
        bytes32 payoutReference;
    }

    /// @dev One payer-signed EIP-3009 `TransferWithAuthorization`, with its packed (or ERC-1271) signature.
    struct TransferAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
        bytes signature;
    }

    /// @dev `batchId` was already paid out (a batch id is usable once).
    error SettlementBatchAlreadyExecuted(bytes32 batchId);

    /// @dev A batch with no items was given.
    error SettlementEmptyBatch();

    /// @dev Item `index` pays the zero address.
    error SettlementInvalidMerchant(uint256 index);

    /// @dev `gasLimit` is not a usable per-item gas limit for {settleAuthorizations} (zero, or above the 2^24 gas a
    /// whole transaction may use since EIP-7825).
    error SettlementInvalidAuthorizationGasLimit(uint256 gasLimit);

    /// @dev Item `index` of batch `batchId` pays `amount` to `merchant` (before its `Transfer`).
    event PayoutItemPaid(
        bytes32 indexed batchId,
        uint256 indexed index,
        address indexed merchant,
        uint256 amount,
        bytes32 payoutReference
    );

    /// @dev Batch `batchId` paid `itemCount` items totalling `total` of `token`.
    event PayoutBatchExecuted(bytes32 indexed batchId, address indexed token, uint256 itemCount, uint256 total);

    /// @dev Item `index` of a {settleAuthorizations} call went through (after its `Transfer`).
    event AuthorizationSettled(uint256 indexed index, address indexed from, bytes32 indexed nonce);

    /// @dev Item `index` of a {settleAuthorizations} call failed and moved nothing; `reason` is the token's revert
    /// data (empty when the token's call ran out of its gas limit).
    event AuthorizationFailed(uint256 indexed index, address indexed from, bytes32 indexed nonce, bytes reason);

    /**
     * @dev A {settleAuthorizations} call ran short of gas and did not attempt its last `count` items, from index
     * `firstIndex` on: they settled nothing and their authorizations are untouched (still usable). Emitted at most
     * once per call, as its last event.
     */
    event AuthorizationsSkipped(uint256 firstIndex, uint256 count);

    /// @dev Role allowed to call {payout}.
    function PAYOUT_ROLE() external view returns (bytes32);

    /**
     * @dev Pays every item of batch `batchId` from the treasury's `token` balance, in order. All or nothing: any
     * failing item (a zero address, a frozen merchant, a short treasury, a paused token) reverts the whole batch,
     * and `batchId` stays unused, so the same id can be sent again without that item.
     *
     * Requirements:
     * - the caller (or forwarded signer) has `PAYOUT_ROLE`;
     * - `batchId` was never paid out; `items` is not empty; no item pays the zero address;
     * - every transfer succeeds (treasury balance, the token's pause and freeze rules).
     *
     * Emits a {PayoutItemPaid} event per item (before its transfer), then a {PayoutBatchExecuted} event.
     */
    function payout(bytes32 batchId, address token, PayoutItem[] calldata items) external;

    /**
     * @dev Calls `token.transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, signature)` for
     * each item, in order, forwarding at most {authorizationGasLimit} gas to each. A failing item is reported and
     * the others still settle; items the call has no gas left for are skipped and reported (see
     * {authorizationGasRequired}). The call itself does not revert for an item's sake.
     *
     * Requirements:
     * - `items` is not empty; `token` is a contract.
     *
     * Emits, per item attempted, an {AuthorizationSettled} event (after the token's `Transfer`) or an
     * {AuthorizationFailed} event; then, if it ran short of gas, one {AuthorizationsSkipped} event.
     */
    function settleAuthorizations(address token, TransferAuthorization[] calldata items) external;

    /// @dev Whether batch `batchId` was paid out.
    function isBatchExecuted(bytes32 batchId) external view returns (bool);

    /// @dev The most gas {settleAuthorizations} forwards to the token for one item (set at construction).
    function authorizationGasLimit() external view returns (uint256);

    /**
     * @dev The gas {settleAuthorizations} must have left, plus one unit per byte of the item's signature, before it
     * attempts an item; with less it skips that item and the rest. It is {authorizationGasLimit}, the 1/64 of the
     * remaining gas the EVM keeps back from every call (EIP-150), and a reserve for the item's events, the loop and
     * a final {AuthorizationsSkipped} event. A sender budgets a batch from it: an item can only be guaranteed to be
     * attempted if this much (plus its signature's length) is left when its turn comes.
     */
    function authorizationGasRequired() external view returns (uint256);
}
