//! `pel bench`: the parallel engine against sequential on the same blocks in the same run,
//! with the speedup each block's dependency graph allows, as tables, JSON and plots.
//!
//! Without paths it runs the built-in synthetic suite (about a gigagas, every workload of
//! `pel gen`); with paths it measures fixture folders such as the shared mainnet blocks.

mod host;
mod measure;
mod memory;
mod plot;
mod report;

use super::{engine_args::FallbackArg, workload_arg::parse_workload};
use crate::output;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use measure::{BenchBlock, Plan, measure};
use pel::Chain;
use pel_inputs::{find_fixtures, load_fixture, synthetic, synthetic::Workload};
use report::Record;
use std::{path::PathBuf, process::ExitCode};

/// Arguments of `pel bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Synthetic workloads to generate and measure [default: all, unless paths are given].
    #[arg(long, value_parser = parse_workload, num_args = 1.., value_delimiter = ',')]
    workload: Vec<Workload>,
    /// Transactions per synthetic block [default: each workload's, about 170 Mgas].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    txs: Option<u32>,
    /// Seed of the synthetic blocks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Thread counts of the parallel engine, comma-separated [default: 1, 2 and one per core].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..))]
    threads: Vec<u16>,
    /// Timed runs of each engine per block, each after an untimed run of the same engine; the
    /// median is reported. Blocks of a few milliseconds or less run more (up to 5,000 times),
    /// until each engine has 250 ms of timed runs.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// `auto`: the parallel engine runs blocks sequentially where threads cannot pay, as in
    /// production; `never`: always Block-STM.
    #[arg(long, default_value = "auto")]
    fallback: FallbackArg,
    /// Write the results as a JSON array, one object per block and thread count.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an SVG plot of speedups against their ideal and against thread counts.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Block fixture folders, or folders holding them, to measure instead of (or besides,
    /// with --workload) the synthetic suite.
    paths: Vec<PathBuf>,
}

/// A set of blocks measured into one table.
#[derive(Debug)]
enum Source {
    Synthetic(Vec<Workload>),
    Fixtures(PathBuf),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Self::Synthetic(_) => "synthetic".to_owned(),
            Self::Fixtures(path) => path.display().to_string(),
        }
    }
}

impl BenchArgs {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        pel::warm_up();
        let chain = Chain::mainnet();
        let plan = self.plan();
        let mut sources = Vec::new();
        if !self.workload.is_empty() || self.paths.is_empty() {
            let workloads = if self.workload.is_empty() {
                Workload::ALL.to_vec()
            } else {
                self.workload.clone()
            };
            sources.push(Source::Synthetic(workloads));
        }
        sources.extend(self.paths.iter().cloned().map(Source::Fixtures));

        let mut all: Vec<Record> = Vec::new();
        let mut failures = 0usize;
        for source in &sources {
            let blocks = match self.load(&chain, source) {
                Ok(blocks) => blocks,
                Err(err) => {
                    failures += 1;
                    eprintln!("error: {err:#}");
                    continue;
                }
            };
            let progress = progress_bar(blocks.len() as u64 * plan.executions_per_block());
            let mut records = Vec::new();
            for block in &blocks {
                progress.set_message(block.name.clone());
                match measure(&chain, block, &plan, &progress) {
                    Ok(measurement) => {
                        records.extend(report::records(&source.name(), &measurement));
                    }
                    Err(err) => {
                        failures += 1;
                        progress.suspend(|| eprintln!("error: {}: {err:#}", block.name));
                    }
                }
            }
            progress.finish_and_clear();
            print_table(source, &records)?;
            all.extend(records);
        }
        if let Some(path) = &self.json {
            write_json(path, &all)?;
        }
        if let Some(path) = &self.plot {
            plot::write_svg(path, &all)?;
        }
        Ok(if failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }

    fn plan(&self) -> Plan {
        let mut threads: Vec<usize> = self.threads.iter().map(|&t| usize::from(t)).collect();
        if threads.is_empty() {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            threads = vec![1, 2, cores];
        }
        threads.sort_unstable();
        threads.dedup();
        Plan {
            threads,
            runs: usize::from(self.runs),
            fallback: self.fallback.into(),
        }
    }

    fn load(&self, chain: &Chain, source: &Source) -> anyhow::Result<Vec<BenchBlock>> {
        match source {
            Source::Synthetic(workloads) => workloads
                .iter()
                .map(|&workload| {
                    let txs = self.txs.map_or(workload.default_txs(), |t| t as usize);
                    let (block, state) = synthetic::generate(chain, workload, txs, self.seed)
                        .with_context(|| format!("generating {workload}"))?;
                    Ok(BenchBlock {
                        name: workload.name().to_owned(),
                        block,
                        state,
                    })
                })
                .collect(),
            Source::Fixtures(path) => find_fixtures(path)?
                .into_iter()
                .map(|dir| {
                    let fixture = load_fixture(&dir)?;
                    let name = dir.file_name().map_or_else(
                        || fixture.block.header.number.to_string(),
                        |name| name.to_string_lossy().into_owned(),
                    );
                    Ok(BenchBlock {
                        name,
                        block: fixture.block,
                        state: fixture.state,
                    })
                })
                .collect(),
        }
    }
}

/// A bar on a terminal; hidden when standard error is not one.
fn progress_bar(total: u64) -> ProgressBar {
    let progress = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
    {
        progress.set_style(style);
    }
    progress
}

fn print_table(source: &Source, records: &[Record]) -> anyhow::Result<()> {
    output::line(&format!("== {}", source.name()))?;
    output::line(&report::header())?;
    for record in records {
        output::line(&report::row(record))?;
    }
    for line in report::geomeans(records) {
        output::line(&line)?;
    }
    if let Some(line) = report::host_steal(records) {
        output::line(&line)?;
    }
    output::line("")?;
    Ok(())
}

/// Writes the records whole beside `path`, then renames: never a half-written file.
fn write_json(path: &std::path::Path, records: &[Record]) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(records)?;
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}
