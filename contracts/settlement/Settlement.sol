// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
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
 * The default admin, who decides who may pay out the treasury, is handed over in two steps with a delay, as the
 * token's ({AccessControlDefaultAdminRules}): a mistyped or stolen one-step grant cannot move it at once.
 */
contract Settlement is ISettlement, AccessControlDefaultAdminRules, ERC2771Context, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @inheritdoc ISettlement
    bytes32 public constant PAYOUT_ROLE = keccak256("PAYOUT_ROLE");

    /// @dev Since EIP-7825 no transaction may use more gas than this, so no item could be given more.
    uint256 private constant _MAX_AUTHORIZATION_GAS_LIMIT = 2 ** 24;

    /**
     * @dev What one {settleAuthorizations} item needs, besides its token call, from the moment it is checked: the
     * call's own cost (a cold token account on the first item, copying the arguments), catching the revert data,
     * an {AuthorizationFailed} event, the loop, and then the final {AuthorizationsSkipped} event and the return.
     * A sweep of gas limits over batches with griefing wallets (test/contracts/settlement) found 4,000 enough; the
     * rest is margin for longer revert data and future compilers. An unused reserve is not paid for: it only sets
     * when an item is skipped.
     */
    uint256 private constant _AUTHORIZATION_GAS_RESERVE = 15_000;

    uint256 private immutable _authorizationGasLimit;
    uint256 private immutable _authorizationGasRequired;

    mapping(bytes32 batchId => bool) private _executedBatches;

    /**
     * @param admin receives `DEFAULT_ADMIN_ROLE` (grants and revokes `PAYOUT_ROLE`)
     * @param adminTransferDelay seconds a default admin transfer waits before it can be accepted
     * @param trustedForwarder the {StablerailForwarder}
     * @param authorizationGasLimit_ the most gas {settleAuthorizations} forwards to the token per item: enough for
     * an honest EOA or ERC-1271 wallet (a Safe) signature, small enough that a wallet burning all it is given costs
     * the batch only that
     *
     * Requirements:
     * - `authorizationGasLimit_` is not zero and at most 2^24.
     */
    constructor(
        address admin,
        uint48 adminTransferDelay,
        address trustedForwarder,
        uint256 authorizationGasLimit_
    ) AccessControlDefaultAdminRules(adminTransferDelay, admin) ERC2771Context(trustedForwarder) {
        if (authorizationGasLimit_ == 0 || authorizationGasLimit_ > _MAX_AUTHORIZATION_GAS_LIMIT) {
            revert SettlementInvalidAuthorizationGasLimit(authorizationGasLimit_);
        }
        _authorizationGasLimit = authorizationGasLimit_;
        // A call is given at most 63/64 of the gas left (EIP-150): to hand the token the whole limit, the loop must
        // hold the limit plus a 63rd of it when it calls.
        _authorizationGasRequired = authorizationGasLimit_ + authorizationGasLimit_ / 63 + _AUTHORIZATION_GAS_RESERVE;
    }

    /**
     * @dev Pays every item of batch `batchId` from this contract's `token` balance, in order.
     *
     * Failure policy: all or nothing. Unlike {settleAuthorizations}, a failing item (the zero address, a frozen
     * merchant, a short treasury, a paused token) reverts the whole batch with its error, and `batchId` is marked
     * only when every item paid — so the operator resubmits the same batch id without the item the error names.
     * The items are the operator's own (the API refuses a frozen recipient, with its item index, before queueing),
     * so a failure is an operator's mistake to correct, not a third party's to exploit; paying part of a batch would
     * instead leave a used batch id with unpaid items to reconcile.
     *
     * Requirements:
     * - the caller (or forwarded signer) has `PAYOUT_ROLE`;
     * - `batchId` was never paid out; `items` is not empty; no item pays the zero address;
     * - the treasury holds the batch's total; the token is not paused; no merchant is frozen.
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
     * each item, in order, forwarding at most {authorizationGasLimit} gas to each.
     *
     * Failure policy: an item whose call reverts (bad or expired signature, used nonce, insufficient balance, frozen
     * account, paused token, or running out of its gas limit) moved nothing and is reported by an
     * {AuthorizationFailed} event carrying the token's revert data; the other items still settle and the call
     * itself does not revert. A relayer must not lose 99 good transfers to one bad one, and must read the events to
     * learn which items went through.
     *
     * Gas policy: the token checks an ERC-1271 payer's signature by calling the wallet with nearly all the gas it
     * has, so without a limit one wallet that burns gas (switched on after the relayer's simulation; a value-0 item
     * needs no funds) would leave this loop a 64th of the transaction's gas and make it run out. So each item's call
     * gets at most {authorizationGasLimit}, and before each item the loop checks that {authorizationGasRequired}
     * plus the signature's length is left (the signature is copied into the call; a unit per byte covers that);
     * if not, it attempts neither that item nor the rest and reports them in one {AuthorizationsSkipped} event.
     * With enough gas for the batch a griefing item costs at most its limit and every other item is attempted;
     * with too little, the tail is skipped rather than the transaction reverted.
     *
     * Requirements:
     * - `items` is not empty; `token` is a contract.
     *
     * Emits, per item attempted, an {AuthorizationSettled} event (after the token's `Transfer`) or an
     * {AuthorizationFailed} event; then, if gas ran short, one {AuthorizationsSkipped} event.
     */
    function settleAuthorizations(address token, TransferAuthorization[] calldata items) external nonReentrant {
        if (items.length == 0) revert SettlementEmptyBatch();
        uint256 gasLimit = _authorizationGasLimit;
        uint256 gasRequired = _authorizationGasRequired;
        for (uint256 i = 0; i < items.length; ++i) {
            TransferAuthorization calldata item = items[i];
            if (gasleft() < gasRequired + item.signature.length) {
                emit AuthorizationsSkipped(i, items.length - i);
                return;
            }
            try
                IStablecoin(token).transferWithAuthorization{gas: gasLimit}(
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

    /// @inheritdoc ISettlement
    function authorizationGasLimit() external view returns (uint256) {
        return _authorizationGasLimit;
    }

    /// @inheritdoc ISettlement
    function authorizationGasRequired() external view returns (uint256) {
        return _authorizationGasRequired;
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
