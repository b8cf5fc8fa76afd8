// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @dev External surface of Stablerail's merchant-payment escrow (see docs/design/contracts.md): a payer's funds are
 * authorized into escrow, then captured to the merchant (minus a fee), voided or reclaimed back to the payer, and
 * captured funds may be refunded until the refund expiry. Every pull of a party's tokens carries that party's consent
 * to the payment's terms (an EIP-3009 authorization whose nonce derives from the payment id, a pre-approval, or the
 * party's own call); an allowance alone never moves anything.
 *
 * Besides the errors declared here calls revert with the token's own errors (insufficient balance or allowance,
 * bad EIP-3009 signature, frozen account, pause, ...), `SafeERC20FailedOperation` and
 * `ReentrancyGuardReentrantCall`.
 */
interface IPaymentEscrow {
    /**
     * @dev The terms of one payment; a payment is identified by their EIP-712 hash ({getPaymentId}).
     * `authorizationExpiry`: captures happen strictly before it, the payer may reclaim at or after it.
     * `refundExpiry`: refunds happen strictly before it; it is at or after `authorizationExpiry`.
     */
    struct PaymentTerms {
        address operator;
        address payer;
        address merchant;
        address token;
        uint256 maxAmount;
        uint48 authorizationExpiry;
        uint48 refundExpiry;
        uint16 minFeeBps;
        uint16 maxFeeBps;
        address feeReceiver;
        uint256 salt;
    }

    /**
     * @dev Where a payment stands.
     * - `None`: never authorized.
     * - `Authorized`: funds are held, nothing captured yet.
     * - `Captured`: at least one capture happened; the rest (`held`) may still be captured, voided or reclaimed.
     *   It stays `Captured` once everything held is captured, and through refunds.
     * - `Voided`: the operator returned what was held to the payer (captured funds may still be refunded).
     * - `Reclaimed`: the payer took back what was held after the authorization expiry (likewise).
     */
    enum Status {
        None,
        Authorized,
        Captured,
        Voided,
        Reclaimed
    }

    /// @dev What a payment holds and has moved so far.
    struct PaymentState {
        uint256 held;
        uint256 captured;
        uint256 refunded;
        Status status;
    }

    /// @dev `sender` called a function reserved to `expected` (the operator, the payer, or the operator/merchant).
    error PaymentEscrowInvalidSender(address sender, address expected);

    /// @dev An amount of zero was given where a positive amount is required.
    error PaymentEscrowZeroAmount(bytes32 paymentId);

    /// @dev `amount` is above the terms' `maxAmount`.
    error PaymentEscrowAmountExceedsMax(bytes32 paymentId, uint256 amount, uint256 maxAmount);

    /// @dev `amount` does not fit the 120 bits a payment's amounts are stored in (`limit` = 2^120 - 1).
    error PaymentEscrowAmountOverflow(bytes32 paymentId, uint256 amount, uint256 limit);

    /// @dev The terms' expiries are inconsistent (`refundExpiry` before `authorizationExpiry`).
    error PaymentEscrowInvalidExpiries(uint48 authorizationExpiry, uint48 refundExpiry);

    /// @dev The terms' fee bounds are inconsistent (`minFeeBps > maxFeeBps` or `maxFeeBps > 10_000`).
    error PaymentEscrowInvalidFeeBounds(uint16 minFeeBps, uint16 maxFeeBps);

    /// @dev The terms allow a fee (`maxFeeBps > 0`) but name no fee receiver.
    error PaymentEscrowZeroFeeReceiver(bytes32 paymentId);

    /// @dev The payment was already authorized (a payment id is authorized once).
    error PaymentEscrowAlreadyAuthorized(bytes32 paymentId);

    /// @dev An allowance pull for terms the payer never pre-approved ({preApprove}).
    error PaymentEscrowNotPreApproved(bytes32 paymentId);

    /// @dev The authorization expiry is more than {MAX_AUTHORIZATION_PERIOD} away, or the refund expiry more than
    /// {MAX_REFUND_PERIOD} after it.
    error PaymentEscrowExpiryTooFar(bytes32 paymentId, uint48 authorizationExpiry, uint48 refundExpiry);

    /// @dev The authorization expired at `authorizationExpiry` (no authorize or capture at or after it).
    error PaymentEscrowAuthorizationExpired(bytes32 paymentId, uint48 authorizationExpiry);

    /// @dev The payer may reclaim only at or after `authorizationExpiry`.
    error PaymentEscrowAuthorizationNotExpired(bytes32 paymentId, uint48 authorizationExpiry);

    /// @dev The payment holds `held`, less than the `needed` amount (or nothing, for void and reclaim).
    error PaymentEscrowInsufficientHeld(bytes32 paymentId, uint256 held, uint256 needed);

    /// @dev `feeBps` is outside the terms' `[minFeeBps, maxFeeBps]`.
    error PaymentEscrowFeeOutOfRange(bytes32 paymentId, uint16 feeBps, uint16 minFeeBps, uint16 maxFeeBps);

    /// @dev Refunds ended at `refundExpiry`.
    error PaymentEscrowRefundExpired(bytes32 paymentId, uint48 refundExpiry);

    /// @dev `amount` is above what is still refundable (captured − refunded).
    error PaymentEscrowRefundExceedsCaptured(bytes32 paymentId, uint256 refundable, uint256 amount);

    /// @dev The payer consented to the payment's terms, so the operator may pull them by allowance.
    event PaymentPreApproved(bytes32 indexed paymentId, address indexed payer);

    /// @dev `amount` of `token` moved from `payer` into escrow for the payment (before the `Transfer`).
    event PaymentAuthorized(
        bytes32 indexed paymentId,
        address indexed payer,
        address indexed merchant,
        address operator,
        address token,
        uint256 amount,
        PaymentTerms terms
    );

    /// @dev `amount` (gross) was captured: `amount - fee` to the merchant, then `fee` to `feeReceiver`.
    event PaymentCaptured(
        bytes32 indexed paymentId,
        address indexed merchant,
        address feeReceiver,
        uint256 amount,
        uint256 fee
    );

    /// @dev The operator returned the `amount` held to the payer.
    event PaymentVoided(bytes32 indexed paymentId, address indexed payer, uint256 amount);

    /// @dev The payer took back the `amount` held after the authorization expiry.
    event PaymentReclaimed(bytes32 indexed paymentId, address indexed payer, uint256 amount);

    /// @dev `refunder` paid `amount` of captured funds back to the payer (before the `Transfer`s).
    event PaymentRefunded(bytes32 indexed paymentId, address indexed payer, address indexed refunder, uint256 amount);

    /// @dev How far ahead of the authorizing block `authorizationExpiry` may lie.
    function MAX_AUTHORIZATION_PERIOD() external view returns (uint48);

    /// @dev How far after `authorizationExpiry` `refundExpiry` may lie.
    function MAX_REFUND_PERIOD() external view returns (uint48);

    /// @dev The payer consents to `terms`: the operator may then pull them by allowance ({authorize}, {charge}).
    function preApprove(PaymentTerms calldata terms) external;

    /// @dev Authorizes `amount` pulled from the payer by allowance, for terms the payer pre-approved.
    function authorize(PaymentTerms calldata terms, uint256 amount) external;

    /// @dev Authorizes `amount` pulled by the payer's EIP-3009 `ReceiveWithAuthorization` (nonce = payment id).
    function authorizeWithAuthorization(
        PaymentTerms calldata terms,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external;

    /// @dev Captures `amount` of what the payment holds to the merchant, with a fee of `feeBps`.
    function capture(PaymentTerms calldata terms, uint256 amount, uint16 feeBps) external;

    /// @dev {authorize} then {capture} of the same `amount`.
    function charge(PaymentTerms calldata terms, uint256 amount, uint16 feeBps) external;

    /// @dev {authorizeWithAuthorization} then {capture} of the same `amount`.
    function chargeWithAuthorization(
        PaymentTerms calldata terms,
        uint256 amount,
        uint16 feeBps,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external;

    /// @dev Returns everything the payment holds to the payer (operator).
    function void(PaymentTerms calldata terms) external;

    /// @dev Returns everything the payment holds to the payer (payer, at or after the authorization expiry).
    function reclaim(PaymentTerms calldata terms) external;

    /// @dev Pays `amount` of captured funds back to the payer, from the caller (operator or merchant).
    function refund(PaymentTerms calldata terms, uint256 amount) external;

    /// @dev Pays `amount` of captured funds back to the payer from `refunder` (operator or merchant), pulled by the
    /// refunder's EIP-3009 `ReceiveWithAuthorization` to the escrow with nonce {getRefundNonce}.
    function refundWithAuthorization(
        PaymentTerms calldata terms,
        uint256 amount,
        address refunder,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 refundSalt,
        bytes calldata signature
    ) external;

    /// @dev The EIP-3009 nonce a refunder signs to refund payment `paymentId`: `keccak256(abi.encode(paymentId,
    /// refundSalt))`, one per refund (the refunder picks a fresh `refundSalt` for each).
    function getRefundNonce(bytes32 paymentId, bytes32 refundSalt) external pure returns (bytes32);

    /// @dev The payment id of `terms`: their EIP-712 typed-data hash under the escrow's domain.
    function getPaymentId(PaymentTerms calldata terms) external view returns (bytes32);

    /// @dev What payment `paymentId` holds, captured and refunded, and its status.
    function paymentState(bytes32 paymentId) external view returns (PaymentState memory);

    /// @dev Whether the payer pre-approved payment `paymentId`.
    function isPreApproved(bytes32 paymentId) external view returns (bool);
}
