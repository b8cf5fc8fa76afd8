// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @dev External surface of Stablerail's reserve attestation (see docs/design/contracts.md): an auditor holding
 * `ATTESTER_ROLE` publishes, for a past block, the root of the Merkle sum tree of custodial liabilities, their
 * total, the reserves the custodial addresses held and the ledger's journal chain head — one event per
 * attestation, so anyone can later check a user's inclusion proof and the ledger's history against it.
 *
 * Besides the errors declared here calls revert with `AccessControlUnauthorizedAccount`.
 */
interface IReserveAttestation {
    /// @dev One published attestation, as stored for {attestation}.
    struct Attestation {
        uint256 blockNumber;
        bytes32 liabilitiesRoot;
        uint256 totalLiabilities;
        uint256 reserves;
        bytes32 journalHead;
        uint256 journalSeq;
        address attester;
    }

    /// @dev `blockNumber` is not in the past: an attestation speaks of a block already mined.
    error ReserveAttestationFutureBlock(uint256 blockNumber, uint256 currentBlock);

    /// @dev `blockNumber` is not after the latest attested block `latestBlock`: attestations only move forward.
    error ReserveAttestationNotNewer(uint256 blockNumber, uint256 latestBlock);

    /// @dev No attestation has index `index`.
    error ReserveAttestationUnknown(uint256 index);

    /// @dev Attestation `index` of block `blockNumber` was published by `attester`.
    event ReservesAttested(
        uint256 indexed index,
        uint256 indexed blockNumber,
        bytes32 liabilitiesRoot,
        uint256 totalLiabilities,
        uint256 reserves,
        bytes32 journalHead,
        uint256 journalSeq,
        address indexed attester
    );

    /// @dev The role that may attest.
    function ATTESTER_ROLE() external view returns (bytes32);

    /**
     * @dev Publishes an attestation of `blockNumber` and returns its index.
     *
     * Requirements:
     * - the caller has `ATTESTER_ROLE`;
     * - `blockNumber` is below the current block and above the latest attested block.
     *
     * Emits a {ReservesAttested} event.
     */
    function attest(
        uint256 blockNumber,
        bytes32 liabilitiesRoot,
        uint256 totalLiabilities,
        uint256 reserves,
        bytes32 journalHead,
        uint256 journalSeq
    ) external returns (uint256 index);

    /// @dev Number of attestations published.
    function attestationCount() external view returns (uint256);

    /**
     * @dev Attestation `index`.
     *
     * Requirements:
     * - `index` is below {attestationCount}.
     */
    function attestation(uint256 index) external view returns (Attestation memory);
}
