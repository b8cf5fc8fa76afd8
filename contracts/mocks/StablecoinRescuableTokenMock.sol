// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @dev Test-only ERC-20 sent to the Stablecoin by mistake, to be rescued.
contract StablecoinRescuableTokenMock is ERC20 {
    constructor() ERC20("Stray Token", "STRAY") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @dev Test-only ERC-20 whose transfer returns false instead of reverting (SafeERC20 must catch it).
contract StablecoinFalseReturningTokenMock {
    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }
}
