//! Errors of loading inputs: each names the file, the block and the field or transaction.

use alloy_primitives::Address;
use std::{fmt, path::PathBuf};

/// A fixture that could not be loaded, with where the fault is.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {kind}", path.display(), block.map(|n| format!(" (block {n})")).unwrap_or_default())]
pub struct FixtureError {
    /// The file (or folder) at fault.
    pub path: PathBuf,
    /// The block number, once known.
    pub block: Option<u64>,
    /// What is wrong.
    #[source]
    pub kind: FixtureErrorKind,
}

/// What is wrong with a fixture.
#[derive(Debug, thiserror::Error)]
pub enum FixtureErrorKind {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not valid JSON.
    #[error("malformed JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A required field is absent.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A field is present but does not hold what it should.
    #[error("field `{field}`: {source}")]
    Field {
        /// The field, by its JSON name (with the account or entry it belongs to).
        field: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A transaction could not be decoded.
    #[error("transaction {index}: {source}")]
    Transaction {
        /// Position of the transaction in the block.
        index: usize,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A transaction has a type this loader does not know.
    #[error("transaction {index}: unknown transaction type {tx_type}")]
    UnknownTxType {
        /// Position of the transaction in the block.
        index: usize,
        /// The `type` field as written.
        tx_type: String,
    },
    /// A transaction's signature does not recover to its declared sender.
    #[error("transaction {index}: {problem}")]
    Sender {
        /// Position of the transaction in the block.
        index: usize,
        /// What is wrong with the sender.
        problem: SenderProblem,
    },
    /// The path is neither a fixture folder nor a folder of fixtures.
    #[error("not a block fixture (no block.json) and holds no fixture folders")]
    NotAFixture,
}

/// How a sender failed to check out.
#[derive(Debug)]
pub enum SenderProblem {
    /// The signature is invalid.
    BadSignature(String),
    /// The signature recovers to another address than `from`.
    Mismatch {
        /// The `from` field.
        declared: Address,
        /// The address the signature recovers to.
        recovered: Address,
    },
}

impl fmt::Display for SenderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSignature(why) => write!(f, "invalid signature: {why}"),
            Self::Mismatch {
                declared,
                recovered,
            } => {
                write!(
                    f,
                    "signature recovers to {recovered}, but `from` is {declared}"
                )
            }
        }
    }
}
