// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Settlement} from "../settlement/Settlement.sol";

/// @dev Test-only: exposes Settlement's ERC-2771 `_msgSender()` / `_msgData()` to check what a forwarded call sees.
contract SettlementContextMock is Settlement {
    constructor(
        address admin,
        uint48 adminTransferDelay,
        address trustedForwarder,
        uint256 authorizationGasLimit_
    ) Settlement(admin, adminTransferDelay, trustedForwarder, authorizationGasLimit_) {}

    function msgSender() external view returns (address) {
        return _msgSender();
    }

    function msgData() external view returns (bytes memory) {
        return _msgData();
    }
}
