// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Settlement} from "../settlement/Settlement.sol";

/// @dev Test-only: exposes Settlement's ERC-2771 `_msgSender()` / `_msgData()` to check what a forwarded call sees.
contract SettlementContextMock is Settlement {
    constructor(address admin, address trustedForwarder) Settlement(admin, trustedForwarder) {}

    function msgSender() external view returns (address) {
        return _msgSender();
    }

    function msgData() external view returns (bytes memory) {
        return _msgData();
    }
}
