// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IReserveAttestation} from "../interfaces/IReserveAttestation.sol";

/**
 * @dev Stablerail's reserve attestations: an append-only list of (block, liabilities root, total liabilities,
 * reserves, journal chain head), published by `ATTESTER_ROLE` — the auditor's key, granted by the admin. It
 * verifies nothing itself (the proofs are checked offline against the root it publishes); what it adds is a
 * public, timestamped record nobody can rewrite, for roots and for the ledger's journal head.
 */
contract ReserveAttestation is IReserveAttestation, AccessControl {
    /// @inheritdoc IReserveAttestation
    bytes32 public constant ATTESTER_ROLE = keccak256("ATTESTER_ROLE");

    Attestation[] private _attestations;

    /**
     * @param admin receives `DEFAULT_ADMIN_ROLE` (grants and revokes `ATTESTER_ROLE`)
     * @param attester receives `ATTESTER_ROLE` (the zero address: none yet)
     */
    constructor(address admin, address attester) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (attester != address(0)) _grantRole(ATTESTER_ROLE, attester);
    }

    /// @inheritdoc IReserveAttestation
    function attest(
        uint256 blockNumber,
        bytes32 liabilitiesRoot,
        uint256 totalLiabilities,
        uint256 reserves,
        bytes32 journalHead,
        uint256 journalSeq
    ) external onlyRole(ATTESTER_ROLE) returns (uint256 index) {
        if (blockNumber >= block.number) revert ReserveAttestationFutureBlock(blockNumber, block.number);
        index = _attestations.length;
        if (index > 0) {
            uint256 latest = _attestations[index - 1].blockNumber;
            if (blockNumber <= latest) revert ReserveAttestationNotNewer(blockNumber, latest);
        }
        _attestations.push(
            Attestation({
                blockNumber: blockNumber,
                liabilitiesRoot: liabilitiesRoot,
                totalLiabilities: totalLiabilities,
                reserves: reserves,
                journalHead: journalHead,
                journalSeq: journalSeq,
                attester: _msgSender()
            })
        );
        emit ReservesAttested(
            index,
            blockNumber,
            liabilitiesRoot,
            totalLiabilities,
            reserves,
            journalHead,
            journalSeq,
            _msgSender()
        );
    }

    /// @inheritdoc IReserveAttestation
    function attestationCount() external view returns (uint256) {
        return _attestations.length;
    }

    /// @inheritdoc IReserveAttestation
    function attestation(uint256 index) external view returns (Attestation memory) {
        if (index >= _attestations.length) revert ReserveAttestationUnknown(index);
        return _attestations[index];
    }
}
