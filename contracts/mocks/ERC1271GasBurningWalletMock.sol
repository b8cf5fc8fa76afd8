// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @dev Test-only griefing contract wallet. While `burning` is off it is an honest ERC-1271 wallet (a signature is
 * valid iff its owner's EOA signed the hash), so a relayer's simulation of a batch carrying its authorization
 * succeeds; once its owner switches `burning` on — after signing, after the simulation — `isValidSignature` burns
 * every unit of gas it is given, as a wallet set on wrecking a batch would.
 */
contract ERC1271GasBurningWalletMock is IERC1271 {
    address public immutable owner;
    bool public burning;

    constructor(address owner_) {
        owner = owner_;
    }

    function setBurning(bool burning_) external {
        burning = burning_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (burning) {
            // A loop that never ends: the call runs out of gas having used all the gas it was forwarded.
            uint256 sink = uint256(hash);
            while (true) {
                sink = uint256(keccak256(abi.encode(sink)));
            }
        }
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? IERC1271.isValidSignature.selector : bytes4(0);
    }
}
