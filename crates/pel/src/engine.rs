//! The one entry point through which the CLI, tests and benchmarks execute blocks.

use crate::{BlockInput, BlockOutput, Chain, ExecuteError, sequential};
use revm::DatabaseRef;
use std::{fmt, fmt::Debug, str::FromStr};

/// Which executor runs a block. Every engine returns the same [`BlockOutput`] for the same
/// block, so callers choose by speed alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Transactions one after another on the calling thread: the reference.
    #[default]
    Sequential,
}

impl Engine {
    /// Executes `block` on the state `db` serves.
    pub fn execute<DB>(
        &self,
        chain: &Chain,
        block: &BlockInput,
        db: DB,
    ) -> Result<BlockOutput, ExecuteError>
    where
        DB: DatabaseRef + Debug + Sync,
        DB::Error: Send + Sync + 'static,
    {
        match self {
            Self::Sequential => sequential::execute(chain, block, db),
        }
    }

    /// Executes only `block`'s transactions, in its header's environment, without the
    /// block-level changes (system calls, rewards, withdrawals): the unit a state test checks.
    pub fn execute_transactions<DB>(
        &self,
        chain: &Chain,
        block: &BlockInput,
        db: DB,
    ) -> Result<BlockOutput, ExecuteError>
    where
        DB: DatabaseRef + Debug + Sync,
        DB::Error: Send + Sync + 'static,
    {
        match self {
            Self::Sequential => sequential::execute_transactions(chain, block, db),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sequential => "sequential",
        })
    }
}

/// An engine name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine `{0}` (known: sequential)")]
pub struct UnknownEngine(String);

impl FromStr for Engine {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sequential" => Ok(Self::Sequential),
            other => Err(UnknownEngine(other.to_owned())),
        }
    }
}
