// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IStablecoin} from "../interfaces/IStablecoin.sol";

/**
 * @dev Fiat-backed ERC-20 at USDC's level: configured minters with allowances, pause, account freezing, token
 * rescue, EIP-2612 permit and EIP-3009 signed transfers (EOA or ERC-1271 signers). The default admin is handed
 * over in two steps with a delay ({AccessControlDefaultAdminRules}).
 *
 * Every balance movement (transfer, transferFrom, mint, burn, EIP-3009) passes through {_update}, and every
 * allowance change (approve, permit, allowance spending) through {_approve}; those two hooks hold the pause and
 * freeze rules.
 *
 * Balances are kept here, not in {ERC20}'s private storage: as in USDC v2.2, an account's frozen flag is the top
 * bit of the slot that holds its balance, so the freeze checks of a movement read the slots the movement touches
 * anyway instead of one more cold slot per party. {_update} therefore replaces {ERC20-_update} (never calling it)
 * and {balanceOf} / {totalSupply} read this contract's state; {ERC20}'s own balance and supply variables stay
 * zero. A balance, and so the total supply, is at most 2^255 - 1 ({StablecoinSupplyOverflow}).
 */
contract Stablecoin is ERC20, ERC20Permit, Pausable, AccessControlDefaultAdminRules, IStablecoin {
    using SafeERC20 for IERC20;

    /// @inheritdoc IStablecoin
    bytes32 public constant MINTER_ADMIN_ROLE = keccak256("MINTER_ADMIN_ROLE");
    /// @inheritdoc IStablecoin
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IStablecoin
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    /// @inheritdoc IStablecoin
    bytes32 public constant RESCUER_ROLE = keccak256("RESCUER_ROLE");

    /// @inheritdoc IStablecoin
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        // solhint-disable-next-line max-line-length
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @inheritdoc IStablecoin
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        // solhint-disable-next-line max-line-length
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @inheritdoc IStablecoin
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH = keccak256(
        "CancelAuthorization(address authorizer,bytes32 nonce)"
    );

    /// @dev The frozen flag in an account's slot; the bits below it hold the balance.
    uint256 private constant _FROZEN = 1 << 255;
    /// @dev The largest balance, and total supply, a slot holds beside the frozen flag: 2^255 - 1.
    uint256 private constant _MAX_BALANCE = _FROZEN - 1;

    uint8 private immutable _decimals;

    mapping(address account => uint256 frozenAndBalance) private _accounts;
    uint256 private _supply;
    mapping(address account => bool) private _minters;
    mapping(address minter => uint256) private _minterAllowances;
    mapping(address authorizer => mapping(bytes32 nonce => bool used)) private _authorizationStates;

    /**
     * @dev Sets the token metadata (the EIP-712 domain is `name`, version "1") and the default admin, whose
     * transfer will wait `adminTransferDelay` seconds. Grants no other role: the admin grants them.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address initialAdmin,
        uint48 adminTransferDelay
    ) ERC20(name_, symbol_) ERC20Permit(name_) AccessControlDefaultAdminRules(adminTransferDelay, initialAdmin) {
        _decimals = decimals_;
    }

    modifier onlyMinter() {
        if (!_minters[_msgSender()]) revert StablecoinNotMinter(_msgSender());
        _;
    }

    // ----- metadata

    /// @dev The number of decimals set at construction.
    function decimals() public view override(ERC20, IERC20Metadata) returns (uint8) {
        return _decimals;
    }

    // ----- balances

    /// @dev The balance of `account` (its slot without the frozen flag).
    function balanceOf(address account) public view override(ERC20, IERC20) returns (uint256) {
        return _accounts[account] & _MAX_BALANCE;
    }

    /// @dev The sum of all balances: everything minted less everything burned.
    function totalSupply() public view override(ERC20, IERC20) returns (uint256) {
        return _supply;
    }

    /// @dev EIP-2612 nonce of `owner` (permit only; EIP-3009 uses random nonces).
    function nonces(address owner) public view override(ERC20Permit, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }

    // ----- minting

    /// @inheritdoc IStablecoin
    function configureMinter(address minter, uint256 allowance) external onlyRole(MINTER_ADMIN_ROLE) {
        if (minter == address(0)) revert StablecoinInvalidMinter(address(0));
        _minters[minter] = true;
        _minterAllowances[minter] = allowance;
        emit MinterConfigured(minter, allowance);
    }

    /// @inheritdoc IStablecoin
    function increaseMinterAllowance(address minter, uint256 increment) external onlyRole(MINTER_ADMIN_ROLE) {
        if (!_minters[minter]) revert StablecoinNotMinter(minter);
        uint256 allowance = _minterAllowances[minter];
        if (increment > type(uint256).max - allowance) {
            revert StablecoinMinterAllowanceOverflow(minter, allowance, increment);
        }
        // Cannot overflow: checked just above.
        unchecked {
            allowance += increment;
        }
        _minterAllowances[minter] = allowance;
        emit MinterAllowanceIncreased(minter, increment, allowance);
    }

    /// @inheritdoc IStablecoin
    function decreaseMinterAllowance(address minter, uint256 decrement) external onlyRole(MINTER_ADMIN_ROLE) {
        if (!_minters[minter]) revert StablecoinNotMinter(minter);
        uint256 allowance = _minterAllowances[minter];
        // Saturate rather than revert: a minter that spent part of its allowance first must not keep the rest.
        // Cannot underflow: decrement < allowance in the subtracting branch.
        unchecked {
            allowance = decrement < allowance ? allowance - decrement : 0;
        }
        _minterAllowances[minter] = allowance;
        emit MinterAllowanceDecreased(minter, decrement, allowance);
    }

    /// @inheritdoc IStablecoin
    function removeMinter(address minter) external onlyRole(MINTER_ADMIN_ROLE) {
        if (!_minters[minter]) revert StablecoinNotMinter(minter);
        _minters[minter] = false;
        _minterAllowances[minter] = 0;
        emit MinterRemoved(minter);
    }

    /// @inheritdoc IStablecoin
    function isMinter(address account) external view returns (bool) {
        return _minters[account];
    }

    /// @inheritdoc IStablecoin
    function minterAllowance(address minter) external view returns (uint256) {
        return _minterAllowances[minter];
    }

    /// @inheritdoc IStablecoin
    function mint(address to, uint256 amount) external onlyMinter {
        address minter = _msgSender();
        uint256 allowance = _minterAllowances[minter];
        if (amount > allowance) revert StablecoinMinterAllowanceExceeded(minter, allowance, amount);
        // Cannot underflow: amount <= allowance was checked just above.
        unchecked {
            _minterAllowances[minter] = allowance - amount;
        }
        _mint(to, amount);
        emit Mint(minter, to, amount);
    }

    /// @inheritdoc IStablecoin
    function burn(uint256 amount) external onlyMinter {
        _burn(_msgSender(), amount);
        emit Burn(_msgSender(), amount);
    }

    // ----- pause / freeze / rescue

    /// @inheritdoc IStablecoin
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IStablecoin
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @inheritdoc IStablecoin
    function freeze(address account) external onlyRole(FREEZER_ROLE) {
        _accounts[account] |= _FROZEN;
        emit Frozen(account);
    }

    /// @inheritdoc IStablecoin
    function unfreeze(address account) external onlyRole(FREEZER_ROLE) {
        _accounts[account] &= _MAX_BALANCE;
        emit Unfrozen(account);
    }

    /// @inheritdoc IStablecoin
    function isFrozen(address account) external view returns (bool) {
        return _accounts[account] & _FROZEN != 0;
    }

    /// @inheritdoc IStablecoin
    function rescueERC20(IERC20 token, address to, uint256 amount) external onlyRole(RESCUER_ROLE) {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        token.safeTransfer(to, amount);
        emit TokensRescued(address(token), to, amount);
    }

    // ----- EIP-3009

    /// @inheritdoc IStablecoin
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
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            abi.encodePacked(r, s, v)
        );
    }

    /// @inheritdoc IStablecoin
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            signature
        );
    }

    /// @inheritdoc IStablecoin
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
    ) external {
        _requirePayee(to);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            abi.encodePacked(r, s, v)
        );
    }

    /// @inheritdoc IStablecoin
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        _requirePayee(to);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            signature
        );
    }

    /// @inheritdoc IStablecoin
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, abi.encodePacked(r, s, v));
    }

    /// @inheritdoc IStablecoin
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        _cancelAuthorization(authorizer, nonce, signature);
    }

    /// @inheritdoc IStablecoin
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationStates[authorizer][nonce];
    }

    // ----- internal

    /**
     * @dev The one hook every balance movement passes through: nothing moves while paused, and neither the sender,
     * the receiver nor the caller (a spender, a minter, an EIP-3009 submitter) may be frozen — checked in that
     * order. Then moves `value` as {ERC20-_update} does (mint from, burn to the zero address), on the packed slots:
     * each party's slot is read once, for its flag and its balance.
     */
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        uint256 fromAccount = _accounts[from];
        if (fromAccount & _FROZEN != 0) revert StablecoinAccountFrozen(from);
        if (to != from) _requireNotFrozen(to);
        address caller = _msgSender();
        if (caller != from && caller != to) _requireNotFrozen(caller);

        if (from == address(0)) {
            // The bound keeps every balance clear of the frozen flag.
            uint256 supply = _supply;
            if (value > _MAX_BALANCE - supply) revert StablecoinSupplyOverflow(supply, value);
            // Cannot overflow: supply + value <= _MAX_BALANCE, checked just above.
            unchecked {
                _supply = supply + value;
            }
        } else {
            uint256 fromBalance = fromAccount & _MAX_BALANCE;
            if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
            // Cannot underflow, nor touch the flag: value <= fromBalance, the slot's low bits.
            unchecked {
                _accounts[from] = fromAccount - value;
            }
        }

        if (to == address(0)) {
            // Cannot underflow: value <= fromBalance <= totalSupply.
            unchecked {
                _supply -= value;
            }
        } else {
            // Cannot reach the flag: balance + value <= totalSupply <= _MAX_BALANCE. Read after the debit above, so
            // a transfer to oneself nets to zero.
            unchecked {
                _accounts[to] += value;
            }
        }

        emit Transfer(from, to, value);
    }

    /**
     * @dev The one hook every allowance change passes through (approve, permit and allowance spending in
     * transferFrom): not while paused, and neither the owner nor the spender may be frozen.
     */
    function _approve(address owner, address spender, uint256 value, bool emitEvent) internal override {
        _requireNotPaused();
        _requireNotFrozen(owner);
        _requireNotFrozen(spender);
        super._approve(owner, spender, value, emitEvent);
    }

    function _transferWithAuthorization(
        bytes32 typeHash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        if (block.timestamp <= validAfter) revert StablecoinAuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert StablecoinAuthorizationExpired(validBefore);
        _requireUnusedAuthorization(from, nonce);
        _requireValidSignature(
            from,
            keccak256(abi.encode(typeHash, from, to, value, validAfter, validBefore, nonce)),
            signature
        );

        _authorizationStates[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        _transfer(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) private {
        _requireNotPaused();
        _requireUnusedAuthorization(authorizer, nonce);
        _requireValidSignature(
            authorizer,
            keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)),
            signature
        );

        _authorizationStates[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    function _requirePayee(address to) private view {
        if (to != _msgSender()) revert StablecoinCallerNotPayee(_msgSender(), to);
    }

    function _requireUnusedAuthorization(address authorizer, bytes32 nonce) private view {
        if (_authorizationStates[authorizer][nonce]) revert StablecoinAuthorizationUsed(authorizer, nonce);
    }

    /**
     * @dev As USDC v2.2: ECDSA first — a signature that recovers to `signer` (low-s only; malformed and high-s
     * signatures recover nothing) is valid whatever code `signer` has — then ERC-1271 if `signer` has code.
     * Checking only through ERC-1271 whenever there is code would lock out an EOA that delegated under EIP-7702 to
     * a contract without `isValidSignature`: its key still signs for it. A contract deployed by CREATE/CREATE2 has
     * no key, so nothing recovers to it and it is checked through ERC-1271 as before.
     */
    function _requireValidSignature(address signer, bytes32 structHash, bytes memory signature) private view {
        bytes32 digest = _hashTypedDataV4(structHash);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (signer.code.length > 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature)) return;
        revert StablecoinInvalidSignature();
    }

    function _requireNotFrozen(address account) private view {
        if (_accounts[account] & _FROZEN != 0) revert StablecoinAccountFrozen(account);
    }
}
