//! `pel gen`: writes a synthetic workload's block as a fixture folder that `pel exec` and
//! `pel bench` replay like a mainnet block.

use super::workload_arg::parse_workload;
use crate::output;
use anyhow::Context;
use clap::Args;
use pel::Chain;
use pel_inputs::{synthetic, synthetic::Workload, write_fixture};
use std::{path::PathBuf, process::ExitCode, time::Instant};

/// Arguments of `pel gen`.
#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Workload: transfers, transfers-hot, erc20, amm, hot-contract or mixed.
    #[arg(long, value_parser = parse_workload)]
    workload: Workload,
    /// Transactions in the block [default: the workload's size in `pel bench`, about 170 Mgas].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    txs: Option<u32>,
    /// Seed of the block's keys, amounts and choices: the same seed gives the same block.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder to write `block.json` and `pre_state.json` into (created if absent).
    #[arg(long)]
    out: PathBuf,
}

impl GenArgs {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let started = Instant::now();
        let chain = Chain::mainnet();
        let txs = self
            .txs
            .map_or(self.workload.default_txs(), |txs| txs as usize);
        let (block, state) = synthetic::generate(&chain, self.workload, txs, self.seed)
            .with_context(|| format!("sealing the generated {} block", self.workload))?;
        write_fixture(&self.out, &block, &state)
            .with_context(|| format!("writing {}", self.out.display()))?;
        output::line(&format!(
            "wrote {}: {} with {} txs, {} gas, {} accounts, in {:.1} s",
            self.out.display(),
            self.workload,
            block.transactions.len(),
            block.header.gas_used,
            state.accounts().len(),
            started.elapsed().as_secs_f64()
        ))?;
        Ok(ExitCode::SUCCESS)
    }
}
