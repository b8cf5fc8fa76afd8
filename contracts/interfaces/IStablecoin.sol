// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/**
 * @dev External surface of Stablerail's fiat-backed stablecoin (see docs/design/contracts.md).
 *
 * Besides the errors declared here the token reverts with OpenZeppelin's ERC-6093 errors
 * (`ERC20InsufficientBalance`, `ERC20InsufficientAllowance`, `ERC20InvalidReceiver`, ...), `EnforcedPause` /
 * `ExpectedPause`, `ERC2612ExpiredSignature` / `ERC2612InvalidSigner`, `ECDSAInvalidSignatureS` (permit), the
 * `AccessControl*` errors, and `SafeERC20FailedOperation`. It emits OpenZeppelin's `Paused(address)` /
 * `Unpaused(address)` and the `AccessControl` / `AccessControlDefaultAdminRules` events.
 */
interface IStablecoin is IERC20Metadata, IERC20Permit {
    /// @dev `account` is frozen and may not send, receive, approve, be approved, call a movement or be the subject
    /// of a signed transfer.
    error StablecoinAccountFrozen(address account);

    /// @dev `account` is not a configured minter.
    error StablecoinNotMinter(address account);

    /// @dev `minter` is not a usable minter address (the zero address).
    error StablecoinInvalidMinter(address minter);

    /// @dev `minter` asked to mint `needed` with only `allowance` left.
    error StablecoinMinterAllowanceExceeded(address minter, uint256 allowance, uint256 needed);

    /// @dev Adding `increment` to `minter`'s `allowance` would overflow uint256.
    error StablecoinMinterAllowanceOverflow(address minter, uint256 allowance, uint256 increment);

    /// @dev The authorization is not valid until strictly after `validAfter`.
    error StablecoinAuthorizationNotYetValid(uint256 validAfter);

    /// @dev The authorization was valid only strictly before `validBefore`.
    error StablecoinAuthorizationExpired(uint256 validBefore);

    /// @dev `authorizer`'s `nonce` was already used or canceled.
    error StablecoinAuthorizationUsed(address authorizer, bytes32 nonce);

    /// @dev The signature is not a valid signature of the expected signer (bad signer, malformed, high-s, or an
    /// ERC-1271 wallet that rejected it).
    error StablecoinInvalidSignature();

    /// @dev Minting `amount` would raise the total supply (`totalSupply`) above 2^255 - 1, the most a balance can
    /// hold beside the account's frozen flag.
    error StablecoinSupplyOverflow(uint256 totalSupply, uint256 amount);

    /// @dev `receiveWithAuthorization` was called by `caller`, not by the payee `payee`.
    error StablecoinCallerNotPayee(address caller, address payee);

    /// @dev `minter` was allowed to mint `allowance` more tokens (replacing any previous allowance).
    event MinterConfigured(address indexed minter, uint256 allowance);

    /// @dev `minter`'s allowance was raised by `increment`, to `allowance`.
    event MinterAllowanceIncreased(address indexed minter, uint256 increment, uint256 allowance);

    /// @dev `minter`'s allowance was lowered by `decrement` (or to zero, if it held less), to `allowance`.
    event MinterAllowanceDecreased(address indexed minter, uint256 decrement, uint256 allowance);

    /// @dev `minter` can no longer mint or burn.
    event MinterRemoved(address indexed minter);

    /// @dev `minter` minted `amount` to `to` (alongside `Transfer(address(0), to, amount)`).
    event Mint(address indexed minter, address indexed to, uint256 amount);

    /// @dev `burner` burned `amount` of its own balance (alongside `Transfer(burner, address(0), amount)`).
    event Burn(address indexed burner, uint256 amount);

    /// @dev `account` was frozen.
    event Frozen(address indexed account);

    /// @dev `account` was unfrozen.
    event Unfrozen(address indexed account);

    /// @dev `authorizer`'s EIP-3009 authorization `nonce` was executed.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    /// @dev `authorizer` canceled its EIP-3009 authorization `nonce`.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @dev `amount` of `token` held by this contract was sent to `to`.
    event TokensRescued(address indexed token, address indexed to, uint256 amount);

    // ----- roles

    /// @dev Role that configures and removes minters.
    function MINTER_ADMIN_ROLE() external view returns (bytes32);

    /// @dev Role that pauses and unpauses the token.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @dev Role that freezes and unfreezes accounts.
    function FREEZER_ROLE() external view returns (bytes32);

    /// @dev Role that rescues tokens sent to this contract.
    function RESCUER_ROLE() external view returns (bytes32);

    // ----- EIP-3009 type hashes

    /// @dev keccak256 of EIP-3009's `TransferWithAuthorization(address from,address to,uint256 value,
    /// uint256 validAfter,uint256 validBefore,bytes32 nonce)` (no line break in the hashed string).
    function TRANSFER_WITH_AUTHORIZATION_TYPEHASH() external view returns (bytes32);

    /// @dev keccak256 of EIP-3009's `ReceiveWithAuthorization(address from,address to,uint256 value,
    /// uint256 validAfter,uint256 validBefore,bytes32 nonce)` (no line break in the hashed string).
    function RECEIVE_WITH_AUTHORIZATION_TYPEHASH() external view returns (bytes32);

    /// @dev keccak256("CancelAuthorization(address authorizer,bytes32 nonce)")
    function CANCEL_AUTHORIZATION_TYPEHASH() external view returns (bytes32);

    // ----- minting

    /**
     * @dev Makes `minter` a minter allowed to mint `allowance` more tokens, replacing its previous allowance.
     *
     * Use it to add a minter. To change an existing minter's allowance use {increaseMinterAllowance} or
     * {decreaseMinterAllowance}: an overwrite can be front-run (a minter seeing its allowance lowered from 100 to 40
     * mints the 100 first and then gets 40 more).
     *
     * Requirements:
     * - the caller has `MINTER_ADMIN_ROLE`;
     * - `minter` is not the zero address.
     *
     * Emits a {MinterConfigured} event.
     */
    function configureMinter(address minter, uint256 allowance) external;

    /**
     * @dev Raises `minter`'s allowance by `increment` (relative, so whatever it minted meanwhile stays counted).
     *
     * Requirements:
     * - the caller has `MINTER_ADMIN_ROLE`;
     * - `minter` is a minter;
     * - the new allowance fits in uint256.
     *
     * Emits a {MinterAllowanceIncreased} event.
     */
    function increaseMinterAllowance(address minter, uint256 increment) external;

    /**
     * @dev Lowers `minter`'s allowance by `decrement`, saturating at zero: a minter that minted part of its
     * allowance before this call lands (front-running it) ends with nothing left rather than with the call
     * reverting and leaving it the rest. So the minter can never mint more in all than its allowance less
     * `decrement`, in whatever order the transactions run. It stays a minter (it may still burn).
     *
     * Requirements:
     * - the caller has `MINTER_ADMIN_ROLE`;
     * - `minter` is a minter.
     *
     * Emits a {MinterAllowanceDecreased} event (with the new allowance).
     */
    function decreaseMinterAllowance(address minter, uint256 decrement) external;

    /**
     * @dev Removes `minter` and zeroes its allowance.
     *
     * Requirements:
     * - the caller has `MINTER_ADMIN_ROLE`;
     * - `minter` is a minter.
     *
     * Emits a {MinterRemoved} event.
     */
    function removeMinter(address minter) external;

    /// @dev Whether `account` is a configured minter.
    function isMinter(address account) external view returns (bool);

    /// @dev How much `minter` may still mint (0 for a non-minter).
    function minterAllowance(address minter) external view returns (uint256);

    /**
     * @dev Mints `amount` to `to`, decrementing the caller's minter allowance.
     *
     * Requirements:
     * - the caller is a minter with an allowance of at least `amount`;
     * - `to` is not the zero address;
     * - the token is not paused; neither the caller nor `to` is frozen.
     *
     * Emits a {Transfer} event from the zero address and a {Mint} event.
     */
    function mint(address to, uint256 amount) external;

    /**
     * @dev Burns `amount` of the caller's own balance (as USDC: minters only; the allowance is unchanged).
     *
     * Requirements:
     * - the caller is a minter holding at least `amount`;
     * - the token is not paused; the caller is not frozen.
     *
     * Emits a {Transfer} event to the zero address and a {Burn} event.
     */
    function burn(uint256 amount) external;

    // ----- pause / freeze / rescue

    /**
     * @dev Stops every movement, approval, permit and EIP-3009 call.
     *
     * Requirements:
     * - the caller has `PAUSER_ROLE`;
     * - the token is not paused.
     *
     * Emits a {Paused} event.
     */
    function pause() external;

    /**
     * @dev Resumes the token.
     *
     * Requirements:
     * - the caller has `PAUSER_ROLE`;
     * - the token is paused.
     *
     * Emits an {Unpaused} event.
     */
    function unpause() external;

    /**
     * @dev Freezes `account`: it can no longer send, receive, approve, be approved, move tokens as a caller, or be
     * the subject of a signed transfer. Idempotent. Freezing the zero address stops all minting and burning.
     *
     * Requirements:
     * - the caller has `FREEZER_ROLE`.
     *
     * Emits a {Frozen} event.
     */
    function freeze(address account) external;

    /**
     * @dev Unfreezes `account`. Idempotent.
     *
     * Requirements:
     * - the caller has `FREEZER_ROLE`.
     *
     * Emits an {Unfrozen} event.
     */
    function unfreeze(address account) external;

    /// @dev Whether `account` is frozen.
    function isFrozen(address account) external view returns (bool);

    /**
     * @dev Sends `amount` of `token` held by this contract to `to` (any ERC-20, this token included).
     *
     * Requirements:
     * - the caller has `RESCUER_ROLE`;
     * - `to` is not the zero address;
     * - the token transfer succeeds (SafeERC20).
     *
     * Emits a {TokensRescued} event.
     */
    function rescueERC20(IERC20 token, address to, uint256 amount) external;

    // ----- EIP-3009

    /**
     * @dev Executes a transfer signed by `from` (EIP-3009), with the signature as `v, r, s`.
     *
     * Requirements:
     * - `validAfter < block.timestamp < validBefore`;
     * - `from`'s `nonce` is unused and not canceled;
     * - the signature is `from`'s: ECDSA with low s recovering `from` (whatever code `from` has, so an EOA
     *   delegated under EIP-7702 still signs with its key), or else ERC-1271 if `from` has code;
     * - the token is not paused; none of `from`, `to` and the caller is frozen; `from` holds `value`.
     *
     * Emits an {AuthorizationUsed} event and a {Transfer} event.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /**
     * @dev Same as the `v, r, s` form, with a packed 65-byte ECDSA signature or an ERC-1271 signature.
     *
     * Requirements: as the `v, r, s` form.
     *
     * Emits an {AuthorizationUsed} event and a {Transfer} event.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /**
     * @dev Executes a transfer signed by `from` that only the payee `to` may submit (front-running safe), with the
     * signature as `v, r, s`.
     *
     * Requirements:
     * - the caller is `to`;
     * - otherwise as {transferWithAuthorization}, with the `ReceiveWithAuthorization` type hash.
     *
     * Emits an {AuthorizationUsed} event and a {Transfer} event.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /**
     * @dev Same as the `v, r, s` form, with a packed 65-byte ECDSA signature or an ERC-1271 signature.
     *
     * Requirements: as the `v, r, s` form.
     *
     * Emits an {AuthorizationUsed} event and a {Transfer} event.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /**
     * @dev Cancels `authorizer`'s unused authorization `nonce`, signed by `authorizer` as `v, r, s`.
     *
     * Requirements:
     * - the token is not paused;
     * - the nonce is unused and not canceled;
     * - the signature is `authorizer`'s.
     *
     * Emits an {AuthorizationCanceled} event.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;

    /**
     * @dev Same as the `v, r, s` form, with a packed 65-byte ECDSA signature or an ERC-1271 signature.
     *
     * Requirements: as the `v, r, s` form.
     *
     * Emits an {AuthorizationCanceled} event.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;

    /// @dev Whether `authorizer`'s `nonce` was used or canceled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
}
