//! Command-line arguments: one clap enum, one module per subcommand.

use crate::cmd;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// pel: a parallel execution layer for the EVM.
#[derive(Debug, Parser)]
#[command(name = "pel", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Benchmark the parallel engine against sequential: synthetic workloads or fixtures.
    Bench(cmd::bench::BenchArgs),
    /// Execute block fixtures and verify them against their headers.
    Exec(cmd::exec::ExecArgs),
    /// Generate a synthetic workload's block as a fixture folder.
    Gen(cmd::generate::GenArgs),
    /// Run ethereum/tests GeneralStateTests: post-state root and logs of every fork and variant.
    Statetest(cmd::statetest::StateTestArgs),
    /// Run ethereum/tests BlockchainTests: import each chain, reject the invalid blocks.
    Blocktest(cmd::blocktest::BlockTestArgs),
}

impl Command {
    /// Runs the subcommand; the exit code says whether everything passed.
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Self::Bench(args) => args.run(),
            Self::Exec(args) => args.run(),
            Self::Gen(args) => args.run(),
            Self::Statetest(args) => args.run(),
            Self::Blocktest(args) => args.run(),
        }
    }
}
