// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ISettlement} from "../interfaces/ISettlement.sol";
import {IStablecoin} from "../interfaces/IStablecoin.sol";

/**
 * @dev Stablerail's settlement contract: it holds a treasury of tokens and pays merchants from it in batches
 * ({payout}, by `PAYOUT_ROLE`, each batch id once), and it executes many payers' EIP-3009 transfers in one
 * transaction ({settleAuthorizations}, permissionless — each item carries its payer's signature).
 *
 * Role calls accept the trusted ERC-2771 forwarder. There is deliberately no multicall (see {PaymentEscrow}).
 */
contract Settlement is ISettlement, AccessControl, ERC2771Context, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @inheritdoc ISettlement
    bytes32 public constant PAYOUT_ROLE = keccak256("PAYOUT_ROLE");

    mapping(bytes32 batchId => bool) private _executedBatches;

    /**
     * @param admin receives `DEFAULT_ADMIN_ROLE` (grants and revokes `PAYOUT_ROLE`)
     * @param trustedForwarder the {StablerailForwarder}
     */
    constructor(address admin, address trustedForwarder) ERC2771Context(trustedForwarder) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /**
     * @dev Pays every item of batch `batchId` from this contract's `token` balance, in order.
     *
     * Requirements:
     * - the caller (or forwarded signer) has `PAYOUT_ROLE`;
     * - `batchId` was never paid out; `items` is not empty; no item pays the zero address;
     * - the treasury holds the batch's total.
     *
     * Emits a {PayoutItemPaid} event per item (before its transfer), then a {PayoutBatchExecuted} event.
     */
    function payout(
        bytes32 batchId,
        address token,
        PayoutItem[] calldata items
    ) external onlyRole(PAYOUT_ROLE) nonReentrant {
        if (_executedBatches[batchId]) revert SettlementBatchAlreadyExecuted(batchId);
        if (items.length == 0) revert SettlementEmptyBatch();
        _executedBatches[batchId] = true;
        uint256 total = 0;
        for (uint256 i = 0; i < items.length; ++i) {
            PayoutItem calldata item = items[i];
            if (item.merchant == address(0)) revert SettlementInvalidMerchant(i);
            total += item.amount;
            emit PayoutItemPaid(batchId, i, item.merchant, item.amount, item.payoutReference);
            IERC20(token).safeTransfer(item.merchant, item.amount);
        }
        emit PayoutBatchExecuted(batchId, token, items.length, total);
    }

    /**
     * @dev Calls `token.transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, signature)` for
     * each item, in order.
     *
     * Failure policy: an item whose call reverts (bad or expired signature, used nonce, insufficient balance, frozen
     * account, paused token, ...) is skipped and reported by an {AuthorizationFailed} event carrying the token's
     * revert data; the other items still settle and the call itself does not revert. A relayer must not lose 99
     * good transfers to one bad one, and must read the events to learn which items went through.
     *
     * Requirements:
     * - `items` is not empty; `token` is a contract.
     *
     * Emits, per item, an {AuthorizationSettled} event (after the token's `Transfer`) or an {AuthorizationFailed}
     * event.
     */
    function settleAuthorizations(address token, TransferAuthorization[] calldata items) external nonReentrant {
        if (items.length == 0) revert SettlementEmptyBatch();
        for (uint256 i = 0; i < items.length; ++i) {
            TransferAuthorization calldata item = items[i];
            try
                IStablecoin(token).transferWithAuthorization(
                    item.from,
                    item.to,
                    item.value,
                    item.validAfter,
                    item.validBefore,
                    item.nonce,
                    item.signature
                )
            {
                emit AuthorizationSettled(i, item.from, item.nonce);
            } catch (bytes memory reason) {
                emit AuthorizationFailed(i, item.from, item.nonce, reason);
            }
        }
    }

    /// @inheritdoc ISettlement
    function isBatchExecuted(bytes32 batchId) external view returns (bool) {
        return _executedBatches[batchId];
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
