// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IPaymentEscrow} from "../interfaces/IPaymentEscrow.sol";
import {IStablecoin} from "../interfaces/IStablecoin.sol";

/**
 * @dev Escrow for merchant payments, authorize / capture like card payments.
 *
 * A payment is identified by the EIP-712 hash of its {IPaymentEscrow-PaymentTerms} under this contract's domain
 * ("PaymentEscrow", "1"), so an id binds the chain, this escrow and every term. The operator authorizes up to
 * `maxAmount` into escrow, then captures any part of it, once or several times, to the merchant minus a fee. The
 * operator may void what is held at any time; the payer may reclaim it at or after the authorization expiry.
 * Captured funds may be refunded to the payer, from the operator's or merchant's own balance, until the refund
 * expiry.
 *
 * Consent: the terms are written by whoever calls, so no pull of a party's tokens may rest on an allowance alone
 * (anyone could name themselves operator and merchant of terms whose payer merely approved this escrow). Every pull
 * carries that party's consent to *these* terms: the payer's EIP-3009 `ReceiveWithAuthorization` whose nonce is the
 * payment id ({authorizeWithAuthorization}, {chargeWithAuthorization}), or the payer's own {preApprove} of the terms
 * before an allowance pull ({authorize}, {charge}); a refunder's pull is its own call ({refund}) or its EIP-3009
 * authorization whose nonce is derived from the payment id ({refundWithAuthorization}), so no standing allowance is
 * ever needed. There are deliberately no EIP-2612 permit forms: a permit names no terms and cannot be bound to them.
 *
 * Invariants: the escrow's balance of a token equals the sum of what every payment in that token holds (for tokens
 * that move exactly the amount asked — no fee-on-transfer or rebasing tokens); a payment never releases more than it
 * took. Every event is emitted after the state change and before the token transfers it causes, so an indexer can
 * attribute the `Transfer` logs that follow to the payment.
 *
 * Storage: a payment's `held`, `captured`, `status` and pre-approval share one slot (amounts in 120 bits, bounded at
 * authorization by {PaymentEscrowAmountOverflow}), `refunded` the next; the reentrancy guard is transient (EIP-1153).
 *
 * Operator, payer and merchant calls accept the trusted ERC-2771 forwarder. There is deliberately no multicall: a
 * multicall behind an ERC-2771 context lets a caller append an arbitrary sender to each sub-call.
 */
contract PaymentEscrow is IPaymentEscrow, ERC2771Context, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev EIP-712 type hash of {IPaymentEscrow-PaymentTerms}.
    bytes32 public constant PAYMENT_TERMS_TYPEHASH = keccak256(
        "PaymentTerms(address operator,address payer,address merchant,address token,uint256 maxAmount,"
        "uint48 authorizationExpiry,uint48 refundExpiry,uint16 minFeeBps,uint16 maxFeeBps,address feeReceiver,"
        "uint256 salt)"
    );

    /// @inheritdoc IPaymentEscrow
    uint48 public constant MAX_AUTHORIZATION_PERIOD = 365 days;

    /// @inheritdoc IPaymentEscrow
    uint48 public constant MAX_REFUND_PERIOD = 730 days;

    uint16 private constant _MAX_BPS = 10_000;

    /**
     * @dev A payment as stored: {IPaymentEscrow-PaymentState} packed, plus the payer's pre-approval. `held`,
     * `captured`, `status` and `preApproved` share one slot, so pre-approving, authorizing, capturing, voiding and
     * reclaiming each write that one slot; `refunded`, written only by refunds, takes the next. No amount of a
     * payment exceeds what was authorized, which {_authorize} bounds by `type(uint120).max`.
     */
    struct Payment {
        uint120 held;
        uint120 captured;
        Status status;
        bool preApproved;
        uint120 refunded;
    }

    mapping(bytes32 paymentId => Payment) private _payments;

    /// @param trustedForwarder the {StablerailForwarder} whose requests carry the signer as sender
    constructor(address trustedForwarder) ERC2771Context(trustedForwarder) EIP712("PaymentEscrow", "1") {}

    /**
     * @dev Records the payer's consent to `terms`, so that the operator may then pull the payer's tokens by
     * allowance ({authorize}, {charge}) for this payment — and for no other terms. Idempotent.
     *
     * Requirements:
     * - the caller (or forwarded signer) is `terms.payer`;
     * - the payment was never authorized.
     *
     * Emits a {PaymentPreApproved} event.
     */
    function preApprove(PaymentTerms calldata terms) external {
        _checkSender(terms.payer);
        bytes32 paymentId = getPaymentId(terms);
        Payment storage payment = _payments[paymentId];
        if (payment.status != Status.None) revert PaymentEscrowAlreadyAuthorized(paymentId);
        payment.preApproved = true;
        emit PaymentPreApproved(paymentId, terms.payer);
    }

    /**
     * @dev Authorizes `amount` pulled from the payer by an allowance the payer gave this escrow, for terms the payer
     * pre-approved.
     *
     * Requirements:
     * - the caller (or forwarded signer) is `terms.operator`;
     * - the payer pre-approved these terms ({preApprove});
     * - the terms are consistent and not expired, the payment was never authorized, `0 < amount <= maxAmount`
     *   and `amount < 2^120`;
     * - the payer has allowed and holds `amount`.
     *
     * Emits a {PaymentAuthorized} event.
     */
    function authorize(PaymentTerms calldata terms, uint256 amount) external nonReentrant {
        bytes32 paymentId = _authorize(terms, amount);
        _pullPreApproved(terms, paymentId, amount);
    }

    /**
     * @dev Like {authorize}, pulling by the payer's EIP-3009 `ReceiveWithAuthorization` of `amount` to this escrow
     * with `nonce = getPaymentId(terms)`: the signature is bound to these terms, needs no prior approval and no gas
     * from the payer. ERC-1271 payers are supported when the token supports them.
     *
     * Requirements: as {authorize}, except the allowance; the signature is valid within `(validAfter, validBefore)`.
     *
     * Emits a {PaymentAuthorized} event.
     */
    function authorizeWithAuthorization(
        PaymentTerms calldata terms,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external nonReentrant {
        bytes32 paymentId = _authorize(terms, amount);
        _pullWithAuthorization(terms, paymentId, amount, validAfter, validBefore, signature);
    }

    /**
     * @dev Captures `amount` of what the payment holds: `amount - fee` to the merchant, then the fee to the fee
     * receiver. The fee is `amount * feeBps / 10_000` rounded down, but never below `amount * minFeeBps / 10_000`
     * rounded up: the terms promise the fee receiver at least `minFeeBps` of every capture, however small (so
     * `maxFeeBps` holds to within one base unit when `minFeeBps` is not zero).
     *
     * Requirements:
     * - the caller (or forwarded signer) is `terms.operator`;
     * - before `terms.authorizationExpiry`; `0 < amount <= held`;
     * - `terms.minFeeBps <= feeBps <= terms.maxFeeBps`.
     *
     * Emits a {PaymentCaptured} event.
     */
    function capture(PaymentTerms calldata terms, uint256 amount, uint16 feeBps) external nonReentrant {
        _checkSender(terms.operator);
        bytes32 paymentId = getPaymentId(terms);
        if (block.timestamp >= terms.authorizationExpiry) {
            revert PaymentEscrowAuthorizationExpired(paymentId, terms.authorizationExpiry);
        }
        if (amount == 0) revert PaymentEscrowZeroAmount(paymentId);
        _capture(terms, paymentId, amount, feeBps);
    }

    /**
     * @dev {authorize} and {capture} of the same `amount` in one call.
     *
     * Requirements: those of {authorize} and {capture}.
     *
     * Emits a {PaymentAuthorized} then a {PaymentCaptured} event.
     */
    function charge(PaymentTerms calldata terms, uint256 amount, uint16 feeBps) external nonReentrant {
        bytes32 paymentId = _authorize(terms, amount);
        _pullPreApproved(terms, paymentId, amount);
        _capture(terms, paymentId, amount, feeBps);
    }

    /**
     * @dev {authorizeWithAuthorization} and {capture} of the same `amount` in one call.
     *
     * Requirements: those of {authorizeWithAuthorization} and {capture}.
     *
     * Emits a {PaymentAuthorized} then a {PaymentCaptured} event.
     */
    function chargeWithAuthorization(
        PaymentTerms calldata terms,
        uint256 amount,
        uint16 feeBps,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external nonReentrant {
        bytes32 paymentId = _authorize(terms, amount);
        _pullWithAuthorization(terms, paymentId, amount, validAfter, validBefore, signature);
        _capture(terms, paymentId, amount, feeBps);
    }

    /**
     * @dev Returns everything the payment holds to the payer and ends it (status `Voided`). Captured funds stay
     * refundable.
     *
     * Requirements:
     * - the caller (or forwarded signer) is `terms.operator`;
     * - the payment holds something.
     *
     * Emits a {PaymentVoided} event.
     */
    function void(PaymentTerms calldata terms) external nonReentrant {
        _checkSender(terms.operator);
        bytes32 paymentId = getPaymentId(terms);
        uint256 amount = _release(paymentId, Status.Voided);
        emit PaymentVoided(paymentId, terms.payer, amount);
        IERC20(terms.token).safeTransfer(terms.payer, amount);
    }

    /**
     * @dev Lets the payer take back everything the payment holds once the authorization has expired, and ends it
     * (status `Reclaimed`). Captured funds stay refundable.
     *
     * Requirements:
     * - the caller (or forwarded signer) is `terms.payer`;
     * - at or after `terms.authorizationExpiry`;
     * - the payment holds something.
     *
     * Emits a {PaymentReclaimed} event.
     */
    function reclaim(PaymentTerms calldata terms) external nonReentrant {
        _checkSender(terms.payer);
        bytes32 paymentId = getPaymentId(terms);
        if (block.timestamp < terms.authorizationExpiry) {
            revert PaymentEscrowAuthorizationNotExpired(paymentId, terms.authorizationExpiry);
        }
        uint256 amount = _release(paymentId, Status.Reclaimed);
        emit PaymentReclaimed(paymentId, terms.payer, amount);
        IERC20(terms.token).safeTransfer(terms.payer, amount);
    }

    /**
     * @dev Pays `amount` of captured funds back to the payer, pulled from the caller's own balance (the caller must
     * have approved this escrow). The status does not change.
     *
     * Requirements:
     * - the caller (or forwarded signer) is `terms.operator` or `terms.merchant`;
     * - before `terms.refundExpiry`;
     * - `0 < amount <= captured - refunded`.
     *
     * Emits a {PaymentRefunded} event.
     */
    function refund(PaymentTerms calldata terms, uint256 amount) external nonReentrant {
        address refunder = _msgSender();
        _recordRefund(terms, refunder, amount);
        IERC20(terms.token).safeTransferFrom(refunder, terms.payer, amount);
    }

    /**
     * @dev Pays `amount` of captured funds back to the payer from `refunder`'s balance, pulled by the refunder's
     * EIP-3009 `ReceiveWithAuthorization` of `amount` to this escrow with
     * `nonce = getRefundNonce(getPaymentId(terms), refundSalt)`: the signature is bound to this payment and cannot
     * pay anything else, the pull needs no allowance (none stands at any moment) and no gas from the refunder, and
     * anyone may submit it. The tokens pass through the escrow to the payer.
     *
     * Requirements:
     * - `refunder` is `terms.operator` or `terms.merchant`;
     * - before `terms.refundExpiry`; `0 < amount <= captured - refunded`;
     * - the signature is valid within `(validAfter, validBefore)` and its nonce unused.
     *
     * Emits a {PaymentRefunded} event.
     */
    function refundWithAuthorization(
        PaymentTerms calldata terms,
        uint256 amount,
        address refunder,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 refundSalt,
        bytes calldata signature
    ) external nonReentrant {
        bytes32 paymentId = _recordRefund(terms, refunder, amount);
        IStablecoin(terms.token).receiveWithAuthorization(
            refunder,
            address(this),
            amount,
            validAfter,
            validBefore,
            getRefundNonce(paymentId, refundSalt),
            signature
        );
        IERC20(terms.token).safeTransfer(terms.payer, amount);
    }

    /// @inheritdoc IPaymentEscrow
    function getPaymentId(PaymentTerms calldata terms) public view returns (bytes32) {
        // Every field of PaymentTerms is static, so abi.encode(struct) is the concatenation EIP-712 hashes.
        return _hashTypedDataV4(keccak256(abi.encode(PAYMENT_TERMS_TYPEHASH, terms)));
    }

    /// @inheritdoc IPaymentEscrow
    function getRefundNonce(bytes32 paymentId, bytes32 refundSalt) public pure returns (bytes32) {
        return keccak256(abi.encode(paymentId, refundSalt));
    }

    /// @inheritdoc IPaymentEscrow
    function paymentState(bytes32 paymentId) external view returns (PaymentState memory) {
        Payment storage payment = _payments[paymentId];
        return PaymentState(payment.held, payment.captured, payment.refunded, payment.status);
    }

    /// @inheritdoc IPaymentEscrow
    function isPreApproved(bytes32 paymentId) external view returns (bool) {
        return _payments[paymentId].preApproved;
    }

    /// @dev Checks the caller and the terms, records the authorization and emits {PaymentAuthorized}; the caller
    /// then pulls the funds.
    function _authorize(PaymentTerms calldata terms, uint256 amount) private returns (bytes32 paymentId) {
        _checkSender(terms.operator);
        paymentId = getPaymentId(terms);
        if (terms.refundExpiry < terms.authorizationExpiry) {
            revert PaymentEscrowInvalidExpiries(terms.authorizationExpiry, terms.refundExpiry);
        }
        if (terms.minFeeBps > terms.maxFeeBps || terms.maxFeeBps > _MAX_BPS) {
            revert PaymentEscrowInvalidFeeBounds(terms.minFeeBps, terms.maxFeeBps);
        }
        if (terms.maxFeeBps > 0 && terms.feeReceiver == address(0)) revert PaymentEscrowZeroFeeReceiver(paymentId);
        if (block.timestamp >= terms.authorizationExpiry) {
            revert PaymentEscrowAuthorizationExpired(paymentId, terms.authorizationExpiry);
        }
        // Consent binds the expiries, yet a hold until 2^48 - 1 is a mistake no payer means: bound both periods.
        if (
            terms.authorizationExpiry - block.timestamp > MAX_AUTHORIZATION_PERIOD ||
            terms.refundExpiry - terms.authorizationExpiry > MAX_REFUND_PERIOD
        ) {
            revert PaymentEscrowExpiryTooFar(paymentId, terms.authorizationExpiry, terms.refundExpiry);
        }
        if (amount == 0) revert PaymentEscrowZeroAmount(paymentId);
        if (amount > terms.maxAmount) revert PaymentEscrowAmountExceedsMax(paymentId, amount, terms.maxAmount);
        if (amount > type(uint120).max) revert PaymentEscrowAmountOverflow(paymentId, amount, type(uint120).max);
        Payment storage payment = _payments[paymentId];
        if (payment.status != Status.None) revert PaymentEscrowAlreadyAuthorized(paymentId);
        // Cannot truncate: amount < 2^120, checked just above.
        payment.held = uint120(amount);
        payment.status = Status.Authorized;
        emit PaymentAuthorized(paymentId, terms.payer, terms.merchant, terms.operator, terms.token, amount, terms);
    }

    /// @dev Checks the fee and what is held, records the capture and emits {PaymentCaptured}, then pays the merchant
    /// and the fee receiver. The caller checked the sender, the expiry and `amount > 0` (for {charge}, by authorizing).
    function _capture(PaymentTerms calldata terms, bytes32 paymentId, uint256 amount, uint16 feeBps) private {
        if (feeBps < terms.minFeeBps || feeBps > terms.maxFeeBps) {
            revert PaymentEscrowFeeOutOfRange(paymentId, feeBps, terms.minFeeBps, terms.maxFeeBps);
        }
        Payment storage payment = _payments[paymentId];
        uint256 held = payment.held;
        if (amount > held) revert PaymentEscrowInsufficientHeld(paymentId, held, amount);
        uint256 fee = _fee(amount, feeBps, terms.minFeeBps);
        // Cannot underflow, overflow or truncate: amount <= held (checked above), and held + captured never exceeds
        // the amount authorized, which is below 2^120.
        unchecked {
            payment.held = uint120(held - amount);
            payment.captured += uint120(amount);
        }
        payment.status = Status.Captured;
        emit PaymentCaptured(paymentId, terms.merchant, terms.feeReceiver, amount, fee);
        IERC20 token = IERC20(terms.token);
        unchecked {
            // fee <= amount, see {_fee}.
            token.safeTransfer(terms.merchant, amount - fee);
        }
        if (fee > 0) token.safeTransfer(terms.feeReceiver, fee);
    }

    /// @dev Empties what `paymentId` holds and sets its final `status`; returns the amount to send back.
    function _release(bytes32 paymentId, Status status) private returns (uint256 amount) {
        Payment storage payment = _payments[paymentId];
        amount = payment.held;
        if (amount == 0) revert PaymentEscrowInsufficientHeld(paymentId, 0, 1);
        payment.held = 0;
        payment.status = status;
    }

    /// @dev Checks the refunder and what is refundable, records the refund and emits {PaymentRefunded}; the caller
    /// then moves the funds.
    function _recordRefund(
        PaymentTerms calldata terms,
        address refunder,
        uint256 amount
    ) private returns (bytes32 paymentId) {
        if (refunder != terms.operator && refunder != terms.merchant) {
            revert PaymentEscrowInvalidSender(refunder, terms.operator);
        }
        paymentId = getPaymentId(terms);
        if (block.timestamp >= terms.refundExpiry) revert PaymentEscrowRefundExpired(paymentId, terms.refundExpiry);
        if (amount == 0) revert PaymentEscrowZeroAmount(paymentId);
        Payment storage payment = _payments[paymentId];
        uint256 refunded = payment.refunded;
        // Cannot underflow: refunded <= captured, which the check below keeps.
        uint256 refundable;
        unchecked {
            refundable = payment.captured - refunded;
        }
        if (amount > refundable) revert PaymentEscrowRefundExceedsCaptured(paymentId, refundable, amount);
        // Cannot overflow or truncate: refunded + amount <= captured < 2^120.
        unchecked {
            payment.refunded = uint120(refunded + amount);
        }
        emit PaymentRefunded(paymentId, terms.payer, refunder, amount);
    }

    /// @dev Pulls `amount` from the payer by allowance, only for terms the payer pre-approved.
    function _pullPreApproved(PaymentTerms calldata terms, bytes32 paymentId, uint256 amount) private {
        if (!_payments[paymentId].preApproved) revert PaymentEscrowNotPreApproved(paymentId);
        IERC20(terms.token).safeTransferFrom(terms.payer, address(this), amount);
    }

    /// @dev `amount * feeBps / 10_000` rounded down, raised to `amount * minFeeBps / 10_000` rounded up. Never above
    /// `amount`: `minFeeBps <= feeBps <= maxFeeBps <= 10_000` (checked at authorization and capture).
    function _fee(uint256 amount, uint16 feeBps, uint16 minFeeBps) private pure returns (uint256) {
        uint256 fee = (amount * feeBps) / _MAX_BPS;
        uint256 floor = Math.mulDiv(amount, minFeeBps, _MAX_BPS, Math.Rounding.Ceil);
        return fee > floor ? fee : floor;
    }

    function _pullWithAuthorization(
        PaymentTerms calldata terms,
        bytes32 paymentId,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) private {
        IStablecoin(terms.token).receiveWithAuthorization(
            terms.payer,
            address(this),
            amount,
            validAfter,
            validBefore,
            paymentId,
            signature
        );
    }

    function _checkSender(address expected) private view {
        address sender = _msgSender();
        if (sender != expected) revert PaymentEscrowInvalidSender(sender, expected);
    }
}
