//! Errors of block execution, the same for every engine.

use alloy_evm::block::BlockExecutionError;
use alloy_primitives::B256;

/// Why a block could not be executed. Each variant says which stage failed and, for a
/// transaction, its index and hash; the source is `alloy-evm`'s error, which tells an invalid
/// transaction (a consensus failure) from a state provider failure.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// A system call before the transactions (EIP-4788 beacon root, EIP-2935 history) failed.
    #[error("pre-execution changes failed: {0}")]
    PreExecution(#[source] BlockExecutionError),
    /// A transaction is invalid in this block, or reading its state failed.
    #[error("transaction {index} ({hash}): {source}")]
    Transaction {
        /// Position of the transaction in the block.
        index: usize,
        /// The transaction's hash.
        hash: B256,
        /// What went wrong.
        #[source]
        source: BlockExecutionError,
    },
    /// Rewards, withdrawals, the DAO change or end-of-block system calls failed.
    #[error("post-execution changes failed: {0}")]
    PostExecution(#[source] BlockExecutionError),
}
