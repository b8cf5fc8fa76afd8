// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @dev Test-only EIP-7702 delegate with no `isValidSignature`: an EOA delegated to it has code (`0xef0100 ‖ this`)
 * but is no ERC-1271 wallet, like an EOA that delegated to a batching or session-key contract.
 */
contract EIP7702DelegateMock {
    /// @dev Something for the delegated EOA to do: returns the account running this code (the EOA itself).
    function whoAmI() external view returns (address) {
        return address(this);
    }
}
