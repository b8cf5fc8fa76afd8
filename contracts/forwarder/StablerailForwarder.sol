// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/**
 * @dev Stablerail's ERC-2771 forwarder: OpenZeppelin's {ERC2771Forwarder} under the EIP-712 name
 * "StablerailForwarder". Relayers submit users' signed requests to {PaymentEscrow} and {Settlement}, which trust it.
 */
contract StablerailForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("StablerailForwarder") {}
}
