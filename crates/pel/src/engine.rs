//! The one entry point through which the CLI, tests and benchmarks execute blocks.

use crate::{
    BlockInput, BlockOutput, Chain, ExecuteError, StateProvider,
    parallel::{self, ParallelConfig, ParallelStats},
    sequential,
};
use std::{fmt, fmt::Debug, str::FromStr};

/// Which executor runs a block. Every engine returns the same [`BlockOutput`] for the same
/// block, so callers choose by speed alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Transactions one after another on the calling thread: the reference.
    #[default]
    Sequential,
    /// Block-STM on worker threads.
    Parallel(ParallelConfig),
}

/// What an engine did besides producing the output: the parallel engine's statistics, or
/// `None` for the sequential engine.
pub type EngineStats = Option<ParallelStats>;

impl Engine {
    /// Executes `block` on the state `db` serves.
    pub fn execute<DB>(
        &self,
        chain: &Chain,
        block: &BlockInput,
        db: DB,
    ) -> Result<BlockOutput, ExecuteError>
    where
        DB: StateProvider + Debug + Sync,
        DB::Error: Send + Sync + 'static,
    {
        self.execute_with_stats(chain, block, db)
            .map(|(output, _)| output)
    }

    /// Executes `block` and says how: executions, aborts, suspensions and time spent.
    pub fn execute_with_stats<DB>(
        &self,
        chain: &Chain,
        block: &BlockInput,
        db: DB,
    ) -> Result<(BlockOutput, EngineStats), ExecuteError>
    where
        DB: StateProvider + Debug + Sync,
        DB::Error: Send + Sync + 'static,
    {
        match self {
            Self::Sequential => sequential::execute(chain, block, db).map(|output| (output, None)),
            Self::Parallel(config) => parallel::execute(chain, block, db, *config)
                .map(|(output, stats)| (output, Some(stats))),
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
        DB: StateProvider + Debug + Sync,
        DB::Error: Send + Sync + 'static,
    {
        match self {
            Self::Sequential => sequential::execute_transactions(chain, block, db),
            Self::Parallel(config) => {
                parallel::execute_transactions(chain, block, db, *config).map(|(output, _)| output)
            }
        }
    }

    /// The same engine with `threads` worker threads (no effect on the sequential engine).
    pub fn with_threads(self, threads: usize) -> Self {
        match self {
            Self::Sequential => Self::Sequential,
            Self::Parallel(config) => Self::Parallel(ParallelConfig { threads, ..config }),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sequential => f.write_str("sequential"),
            Self::Parallel(config) => write!(f, "parallel({} threads)", config.threads),
        }
    }
}

/// An engine name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine `{0}` (known: sequential, parallel)")]
pub struct UnknownEngine(String);

impl FromStr for Engine {
    type Err = UnknownEngine;

    /// `sequential`, or `parallel` with one thread per core.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sequential" => Ok(Self::Sequential),
            "parallel" => Ok(Self::Parallel(ParallelConfig::default())),
            other => Err(UnknownEngine(other.to_owned())),
        }
    }
}
