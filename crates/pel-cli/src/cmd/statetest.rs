//! `pel statetest`: run ethereum/tests GeneralStateTests through an engine.

use super::conformance;
use super::engine_args::EngineArgs;
use clap::Args;
use pel_inputs::ethtests::state_test;
use std::{path::PathBuf, process::ExitCode};

/// Arguments of `pel statetest`.
#[derive(Debug, Args)]
pub(crate) struct StateTestArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Run only this fork's cases (a name as the tests write it: Frontier, EIP150, Cancun...).
    #[arg(long)]
    fork: Option<String>,
    /// Test files or folders of them [default:
    /// `$PEL_SHARED/fixtures/ethereum-tests/GeneralStateTests`].
    paths: Vec<PathBuf>,
}

impl StateTestArgs {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        if let Some(fork) = &self.fork
            && pel_inputs::ethtests::fork::spec_for(fork).is_none()
        {
            anyhow::bail!(
                "unknown fork `{fork}` (known: {})",
                pel_inputs::ethtests::fork::FORKS
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        pel::warm_up();
        let paths = if self.paths.is_empty() {
            vec![pel_inputs::shared::shared_dir().join("fixtures/ethereum-tests/GeneralStateTests")]
        } else {
            self.paths.clone()
        };
        conformance::run(&paths, false, |file| {
            state_test::run_file(self.engine.engine(), file, self.fork.as_deref())
        })
    }
}
