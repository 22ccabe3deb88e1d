//! `pel blocktest`: run ethereum/tests BlockchainTests through an engine.

use super::conformance;
use super::engine_args::EngineArgs;
use clap::Args;
use pel_inputs::ethtests::blockchain_test;
use std::{path::PathBuf, process::ExitCode};

/// Arguments of `pel blocktest`.
#[derive(Debug, Args)]
pub(crate) struct BlockTestArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Also print, for every block a test expects to be invalid, why pel rejected it next to
    /// the exception the test expects.
    #[arg(long, short)]
    verbose: bool,
    /// Test files or folders of them [default:
    /// `$PEL_SHARED/fixtures/ethereum-tests/BlockchainTests`].
    paths: Vec<PathBuf>,
}

impl BlockTestArgs {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        pel::warm_up();
        let paths = if self.paths.is_empty() {
            vec![pel_inputs::shared::shared_dir().join("fixtures/ethereum-tests/BlockchainTests")]
        } else {
            self.paths.clone()
        };
        conformance::run(&paths, self.verbose, |file| {
            blockchain_test::run_file(self.engine.engine(), file)
        })
    }
}
