//! The `--engine` and `--threads` options every executing subcommand takes.

use clap::Args;
use pel::{
    Engine,
    parallel::{Fallback, ParallelConfig},
};

/// Which engine runs the blocks, and on how many threads.
#[derive(Debug, Clone, Args)]
pub(crate) struct EngineArgs {
    /// Engine that executes the blocks: `sequential` or `parallel`.
    #[arg(long, default_value = "sequential")]
    engine: Engine,
    /// Worker threads of the parallel engine [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Let the parallel engine run small blocks sequentially (`auto`), or always run Block-STM
    /// (`never`: for testing and measuring the machinery itself).
    #[arg(long, default_value = "auto")]
    fallback: FallbackArg,
}

/// The values of `--fallback`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum FallbackArg {
    Auto,
    Never,
}

impl From<FallbackArg> for Fallback {
    fn from(arg: FallbackArg) -> Self {
        match arg {
            FallbackArg::Auto => Self::Auto,
            FallbackArg::Never => Self::Never,
        }
    }
}

impl EngineArgs {
    /// The engine the options select.
    pub(crate) fn engine(&self) -> Engine {
        let engine = match self.threads {
            Some(threads) => self.engine.with_threads(usize::from(threads)),
            None => self.engine,
        };
        match (engine, self.fallback) {
            (Engine::Parallel(config), fallback) => Engine::Parallel(ParallelConfig {
                fallback: fallback.into(),
                ..config
            }),
            _ => engine,
        }
    }
}
