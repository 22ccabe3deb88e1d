//! What executing a block produces, identical for every engine.

use alloy_consensus::ReceiptEnvelope;
use alloy_primitives::{Address, Bytes};
use revm::{
    context::result::{ExecutionResult, HaltReason, Output},
    database::BundleState,
};

/// The result of executing one block.
///
/// Two engines agree on a block exactly when their outputs compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutput {
    /// One receipt per transaction, with its bloom. Before Byzantium the status field holds the
    /// transaction's success, not the intermediate state root, which needs the full state.
    pub receipts: Vec<ReceiptEnvelope>,
    /// How each transaction ended and what it returned.
    pub transactions: Vec<TxOutcome>,
    /// Gas used by all transactions, as the header's `gasUsed` counts it.
    pub gas_used: u64,
    /// Blob gas used by all transactions (Cancun on).
    pub blob_gas_used: u64,
    /// Every account, storage slot and contract the block changed, with its value before and
    /// after, including rewards, withdrawals and system calls.
    pub state: BundleState,
}

/// How one transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOutcome {
    /// Gas charged to the sender, after refunds.
    pub gas_used: u64,
    /// Success, revert or exceptional halt.
    pub status: TxStatus,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Address of the contract a successful creation deployed.
    pub created: Option<Address>,
}

/// The three ways a transaction can end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// Completed; its state changes stand.
    Success,
    /// Ended by `REVERT`; state changes undone, unused gas returned.
    Revert,
    /// Exceptional halt (out of gas, invalid opcode, ...); all gas consumed.
    Halt(HaltReason),
}

impl From<&ExecutionResult<HaltReason>> for TxOutcome {
    fn from(result: &ExecutionResult<HaltReason>) -> Self {
        let gas_used = result.tx_gas_used();
        match result {
            ExecutionResult::Success { output, .. } => {
                let (output, created) = match output {
                    Output::Call(data) => (data.clone(), None),
                    Output::Create(data, address) => (data.clone(), *address),
                };
                Self {
                    gas_used,
                    status: TxStatus::Success,
                    output,
                    created,
                }
            }
            ExecutionResult::Revert { output, .. } => Self {
                gas_used,
                status: TxStatus::Revert,
                output: output.clone(),
                created: None,
            },
            ExecutionResult::Halt { reason, .. } => Self {
                gas_used,
                status: TxStatus::Halt(reason.clone()),
                output: Bytes::new(),
                created: None,
            },
        }
    }
}
