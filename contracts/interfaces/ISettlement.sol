// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @dev External surface of Stablerail's settlement contract (see docs/design/contracts.md): batched merchant payouts
 * from the treasury it holds, and batched execution of payers' EIP-3009 transfers.
 *
 * Besides the errors declared here calls revert with `AccessControlUnauthorizedAccount`, the token's own errors,
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

    /// @dev Item `index` of a {settleAuthorizations} call was skipped; `reason` is the token's revert data.
    event AuthorizationFailed(uint256 indexed index, address indexed from, bytes32 indexed nonce, bytes reason);

    /// @dev Role allowed to call {payout}.
    function PAYOUT_ROLE() external view returns (bytes32);

    /// @dev Pays every item of batch `batchId` from the treasury's `token` balance.
    function payout(bytes32 batchId, address token, PayoutItem[] calldata items) external;

    /// @dev Executes each item's `transferWithAuthorization` on `token`; failing items are skipped and reported.
    function settleAuthorizations(address token, TransferAuthorization[] calldata items) external;

    /// @dev Whether batch `batchId` was paid out.
    function isBatchExecuted(bytes32 batchId) external view returns (bool);
}
