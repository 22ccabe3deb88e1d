//! Block validity: the checks a node makes before and after executing a block it receives.
//!
//! Execution alone accepts any header; a node must also reject a block whose header does not
//! follow from its parent, whose body does not match the roots the header commits to, whose
//! signatures do not recover, or whose execution does not reproduce the header's results.
//! Transaction-level rules (nonce, balance, intrinsic gas, fee caps, blob fields, sender
//! without code, block gas left) are enforced by revm and alloy-evm during execution and
//! surface as [`crate::ExecuteError::Transaction`].
//!
//! Scope: the consensus rules of the Merge and later (proof of stake) in full, and for older
//! blocks the rules that do not depend on proof of work (numbering, time, gas limit, extra
//! data, base fee). Difficulty, the ethash seal and ommer validity are not checked.

use crate::{BlockInput, BlockOutput, Chain, verify::verify_header};
use alloy_consensus::{
    Block, EMPTY_OMMER_ROOT_HASH, Header, TxEnvelope,
    proofs::{calculate_ommers_root, calculate_transaction_root, calculate_withdrawals_root},
    transaction::SignerRecoverable,
};
use alloy_eips::{
    eip1559::{
        BaseFeeParams, DEFAULT_ELASTICITY_MULTIPLIER, GAS_LIMIT_BOUND_DIVISOR, INITIAL_BASE_FEE,
    },
    eip4844::DATA_GAS_PER_BLOB,
};
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{B64, B256, U256};
use std::fmt::Display;

/// The least gas limit a block may have.
pub const MINIMUM_GAS_LIMIT: u64 = 5_000;

/// The most bytes of extra data a header may carry.
pub const MAXIMUM_EXTRA_DATA_SIZE: usize = 32;

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    /// A header field or body root does not hold the value the rules require.
    #[error("{field}: {actual}, expected {expected}")]
    Field {
        /// The field, by its JSON-RPC name.
        field: &'static str,
        /// What the rules require.
        expected: String,
        /// What the block has.
        actual: String,
    },
    /// A header field the active fork requires is absent.
    #[error("{0} is missing from the header")]
    MissingField(&'static str),
    /// A header field is present before the fork that introduces it.
    #[error("{0} is present before its fork")]
    UnexpectedField(&'static str),
    /// The timestamp is not later than the parent's.
    #[error("timestamp {timestamp} is not after the parent's {parent}")]
    Timestamp {
        /// The block's timestamp.
        timestamp: u64,
        /// The parent's timestamp.
        parent: u64,
    },
    /// The gas limit is outside the bounds the parent's allows.
    #[error("gas limit {limit} is outside {min}..={max} allowed by the parent")]
    GasLimit {
        /// The block's gas limit.
        limit: u64,
        /// The least allowed.
        min: u64,
        /// The most allowed.
        max: u64,
    },
    /// The block uses more gas than its limit.
    #[error("gas used {used} exceeds the gas limit {limit}")]
    GasUsed {
        /// Gas used according to the header.
        used: u64,
        /// The header's gas limit.
        limit: u64,
    },
    /// The extra data is too long.
    #[error("extra data is {0} bytes, at most 32 are allowed")]
    ExtraData(usize),
    /// The header declares more blob gas than a block may use, or not a whole number of blobs.
    #[error("blob gas used {used} is not a multiple of {DATA_GAS_PER_BLOB} at most {max}")]
    BlobGasUsed {
        /// The header's blob gas used.
        used: u64,
        /// The most a block may use.
        max: u64,
    },
    /// A proof-of-stake block carries ommers.
    #[error("{0} ommers after the Merge")]
    OmmersAfterMerge(usize),
    /// A transaction's signature does not recover to a sender.
    #[error("transaction {index}: invalid signature: {reason}")]
    Signature {
        /// Position of the transaction in the block.
        index: usize,
        /// Why recovery failed.
        reason: String,
    },
}

fn field(name: &'static str, expected: impl Display, actual: impl Display) -> InvalidBlock {
    InvalidBlock::Field {
        field: name,
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

fn require<T: PartialEq + Display>(
    name: &'static str,
    expected: T,
    actual: T,
) -> Result<(), InvalidBlock> {
    if expected == actual {
        Ok(())
    } else {
        Err(field(name, expected, actual))
    }
}

/// Checks `header` against the rules of its fork and against its `parent`.
pub fn validate_header(
    chain: &Chain,
    header: &Header,
    parent: &Header,
) -> Result<(), InvalidBlock> {
    require("parentHash", parent.hash_slow(), header.parent_hash)?;
    require("number", parent.number.saturating_add(1), header.number)?;
    if header.timestamp <= parent.timestamp {
        return Err(InvalidBlock::Timestamp {
            timestamp: header.timestamp,
            parent: parent.timestamp,
        });
    }
    if header.extra_data.len() > MAXIMUM_EXTRA_DATA_SIZE {
        return Err(InvalidBlock::ExtraData(header.extra_data.len()));
    }
    if header.gas_used > header.gas_limit {
        return Err(InvalidBlock::GasUsed {
            used: header.gas_used,
            limit: header.gas_limit,
        });
    }
    validate_gas_limit(chain, header, parent)?;
    validate_base_fee(chain, header, parent)?;
    if chain.is_paris_active_at_block(header.number) {
        require("difficulty", U256::ZERO, header.difficulty)?;
        require("nonce", B64::ZERO, header.nonce)?;
        require("sha3Uncles", EMPTY_OMMER_ROOT_HASH, header.ommers_hash)?;
    }
    validate_shanghai_fields(chain, header)?;
    validate_blob_fields(chain, header, parent)
}

/// The gas limit may move by less than 1/1024 of the parent's per block, never below 5000 and
/// never above 2^63 - 1. At the London block the parent's limit counts doubled (EIP-1559).
fn validate_gas_limit(chain: &Chain, header: &Header, parent: &Header) -> Result<(), InvalidBlock> {
    let mut parent_limit = parent.gas_limit;
    if chain
        .ethereum_fork_activation(alloy_hardforks::EthereumHardfork::London)
        .transitions_at_block(header.number)
    {
        parent_limit = parent_limit.saturating_mul(DEFAULT_ELASTICITY_MULTIPLIER);
    }
    let step = (parent_limit / GAS_LIMIT_BOUND_DIVISOR).saturating_sub(1);
    let min = parent_limit.saturating_sub(step).max(MINIMUM_GAS_LIMIT);
    let max = parent_limit.saturating_add(step).min(i64::MAX as u64);
    if header.gas_limit < min || header.gas_limit > max {
        return Err(InvalidBlock::GasLimit {
            limit: header.gas_limit,
            min,
            max,
        });
    }
    Ok(())
}

/// From London the base fee follows from the parent's (EIP-1559); before, there is none.
fn validate_base_fee(chain: &Chain, header: &Header, parent: &Header) -> Result<(), InvalidBlock> {
    if !chain.is_london_active_at_block(header.number) {
        return match header.base_fee_per_gas {
            Some(_) => Err(InvalidBlock::UnexpectedField("baseFeePerGas")),
            None => Ok(()),
        };
    }
    let actual = header
        .base_fee_per_gas
        .ok_or(InvalidBlock::MissingField("baseFeePerGas"))?;
    let expected = if chain.is_london_active_at_block(parent.number) {
        parent
            .next_block_base_fee(BaseFeeParams::ethereum())
            .ok_or(InvalidBlock::MissingField("parent baseFeePerGas"))?
    } else {
        INITIAL_BASE_FEE
    };
    require("baseFeePerGas", expected, actual)
}

fn validate_shanghai_fields(chain: &Chain, header: &Header) -> Result<(), InvalidBlock> {
    let shanghai = chain.is_shanghai_active_at_timestamp(header.timestamp);
    match (shanghai, header.withdrawals_root) {
        (true, None) => Err(InvalidBlock::MissingField("withdrawalsRoot")),
        (false, Some(_)) => Err(InvalidBlock::UnexpectedField("withdrawalsRoot")),
        _ => Ok(()),
    }
}

/// From Cancun the header carries blob gas used, excess blob gas (following from the
/// parent's) and the parent beacon block root.
fn validate_blob_fields(
    chain: &Chain,
    header: &Header,
    parent: &Header,
) -> Result<(), InvalidBlock> {
    let Some(params) = chain.blob_params(header.timestamp) else {
        if header.blob_gas_used.is_some() {
            return Err(InvalidBlock::UnexpectedField("blobGasUsed"));
        }
        if header.excess_blob_gas.is_some() {
            return Err(InvalidBlock::UnexpectedField("excessBlobGas"));
        }
        if header.parent_beacon_block_root.is_some() {
            return Err(InvalidBlock::UnexpectedField("parentBeaconBlockRoot"));
        }
        return Ok(());
    };
    let used = header
        .blob_gas_used
        .ok_or(InvalidBlock::MissingField("blobGasUsed"))?;
    let excess = header
        .excess_blob_gas
        .ok_or(InvalidBlock::MissingField("excessBlobGas"))?;
    if header.parent_beacon_block_root.is_none() {
        return Err(InvalidBlock::MissingField("parentBeaconBlockRoot"));
    }
    let max = params.max_blob_gas_per_block();
    if used % DATA_GAS_PER_BLOB != 0 || used > max {
        return Err(InvalidBlock::BlobGasUsed { used, max });
    }
    let expected = parent.next_block_excess_blob_gas(params).unwrap_or(0);
    require("excessBlobGas", expected, excess)
}

/// Checks that the body matches the roots the header commits to: transactions, ommers and
/// withdrawals; and that a proof-of-stake block has no ommers.
pub fn validate_body(chain: &Chain, block: &Block<TxEnvelope>) -> Result<(), InvalidBlock> {
    let header = &block.header;
    require(
        "transactionsRoot",
        header.transactions_root,
        calculate_transaction_root(&block.body.transactions),
    )?;
    if chain.is_paris_active_at_block(header.number) && !block.body.ommers.is_empty() {
        return Err(InvalidBlock::OmmersAfterMerge(block.body.ommers.len()));
    }
    require(
        "sha3Uncles",
        header.ommers_hash,
        calculate_ommers_root(&block.body.ommers),
    )?;
    match (&block.body.withdrawals, header.withdrawals_root) {
        (Some(withdrawals), Some(root)) => require(
            "withdrawalsRoot",
            root,
            calculate_withdrawals_root(withdrawals),
        ),
        (None, None) => Ok(()),
        (Some(_), None) => Err(InvalidBlock::UnexpectedField("withdrawals")),
        (None, Some(_)) => Err(InvalidBlock::MissingField("withdrawals")),
    }
}

/// Recovers every transaction's sender; a signature that does not recover (or has a high `s`,
/// EIP-2) makes the block invalid.
pub fn recover_senders(block: Block<TxEnvelope>) -> Result<BlockInput, InvalidBlock> {
    let transactions = block
        .body
        .transactions
        .into_iter()
        .enumerate()
        .map(|(index, tx)| {
            tx.try_into_recovered()
                .map_err(|error| InvalidBlock::Signature {
                    index,
                    reason: error.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(BlockInput {
        header: block.header,
        transactions,
        ommers: block.body.ommers,
        withdrawals: block.body.withdrawals.map(|w| w.into_inner()),
    })
}

/// Checks the execution's results against what the header commits to: gas used, logs bloom,
/// receipts root, blob gas used and the post-state root.
pub fn validate_execution(
    chain: &Chain,
    header: &Header,
    output: &BlockOutput,
    state_root: B256,
) -> Result<(), InvalidBlock> {
    if let Some(mismatch) = verify_header(chain, header, output)
        .mismatches
        .into_iter()
        .next()
    {
        return Err(InvalidBlock::Field {
            field: mismatch.field,
            expected: mismatch.expected,
            actual: mismatch.actual,
        });
    }
    require("stateRoot", header.state_root, state_root)
}

#[cfg(test)]
mod tests;
