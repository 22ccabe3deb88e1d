//! `pel exec`: execute block fixtures with an engine and verify each against its header.

use super::engine_args::EngineArgs;
use crate::output;
use clap::Args;
use pel::{Chain, parallel::ParallelStats, verify::verify_header};
use pel_inputs::{find_fixtures, load_fixture};
use serde::Serialize;
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

/// Arguments of `pel exec`.
#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Write one JSON object per block instead of a line of text; the summary goes to stderr.
    #[arg(long)]
    json: bool,
    /// Block fixture folders, or folders holding them [default: the shared mainnet fixtures,
    /// `$PEL_SHARED/fixtures/mainnet`].
    paths: Vec<PathBuf>,
}

/// What happened to one block, as printed.
#[derive(Debug, Serialize)]
struct BlockReport {
    path: PathBuf,
    block: Option<u64>,
    fork: Option<String>,
    txs: usize,
    gas_used: u64,
    time_ms: f64,
    engine: String,
    passed: bool,
    mismatches: Vec<MismatchReport>,
    unchecked: Vec<UncheckedReport>,
    notes: Vec<String>,
    error: Option<String>,
    /// The parallel engine's statistics; absent for the sequential engine.
    stats: Option<StatsReport>,
}

/// What the parallel engine did on a block.
#[derive(Debug, Serialize)]
struct StatsReport {
    mode: String,
    #[serde(skip)]
    description: String,
    threads: usize,
    executions: usize,
    re_executions: usize,
    validations: usize,
    validation_aborts: usize,
    suspensions: usize,
    parallel_ms: f64,
    commit_ms: f64,
}

impl From<ParallelStats> for StatsReport {
    fn from(stats: ParallelStats) -> Self {
        Self {
            mode: stats.mode.name().to_owned(),
            description: stats.mode.to_string(),
            threads: stats.threads,
            executions: stats.executions,
            re_executions: stats.re_executions,
            validations: stats.validations,
            validation_aborts: stats.validation_aborts,
            suspensions: stats.suspensions,
            parallel_ms: stats.parallel_time.as_secs_f64() * 1e3,
            commit_ms: stats.commit_time.as_secs_f64() * 1e3,
        }
    }
}

#[derive(Debug, Serialize)]
struct MismatchReport {
    field: &'static str,
    expected: String,
    actual: String,
}

#[derive(Debug, Serialize)]
struct UncheckedReport {
    field: &'static str,
    reason: &'static str,
}

impl ExecArgs {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let chain = Chain::mainnet();
        pel::warm_up();
        let (mut passed, mut failed) = (0usize, 0usize);
        let paths = if self.paths.is_empty() {
            vec![pel_inputs::shared::shared_dir().join("fixtures/mainnet")]
        } else {
            self.paths.clone()
        };
        for path in &paths {
            let dirs = match find_fixtures(path) {
                Ok(dirs) => dirs,
                Err(err) => {
                    failed += 1;
                    self.print(&BlockReport::failed(path, None, err_chain(&err)))?;
                    continue;
                }
            };
            for dir in dirs {
                let report = self.exec_one(&chain, &dir);
                if report.passed {
                    passed += 1;
                } else {
                    failed += 1;
                }
                self.print(&report)?;
            }
        }
        let summary = format!("{passed} passed, {failed} failed");
        if self.json {
            eprintln!("{summary}");
        } else {
            output::line(&summary)?;
        }
        Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }

    fn exec_one(&self, chain: &Chain, dir: &Path) -> BlockReport {
        let fixture = match load_fixture(dir) {
            Ok(fixture) => fixture,
            Err(err) => return BlockReport::failed(dir, err.block, err_chain(&err)),
        };
        let header = &fixture.block.header;
        let fork = chain.spec_id(header.number, header.timestamp).to_string();
        let started = Instant::now();
        let engine = self.engine.engine();
        let result = engine.execute_with_stats(chain, &fixture.block, &fixture.state);
        let time_ms = started.elapsed().as_secs_f64() * 1e3;
        let mut report = BlockReport {
            path: dir.to_path_buf(),
            block: Some(header.number),
            fork: Some(fork),
            txs: fixture.block.transactions.len(),
            gas_used: 0,
            time_ms,
            engine: engine.to_string(),
            passed: false,
            mismatches: Vec::new(),
            unchecked: Vec::new(),
            notes: Vec::new(),
            error: None,
            stats: None,
        };
        if fixture.ommers_without_header > 0 {
            report.notes.push(format!(
                "{} ommer header(s) not in the fixture: ommer rewards left out of the post-state",
                fixture.ommers_without_header
            ));
        }
        match result {
            Ok((output, stats)) => {
                report.stats = stats.map(StatsReport::from);
                let verification = verify_header(chain, header, &output);
                report.gas_used = output.gas_used;
                report.passed = verification.passed();
                report.mismatches = verification
                    .mismatches
                    .into_iter()
                    .map(|m| MismatchReport {
                        field: m.field,
                        expected: m.expected,
                        actual: m.actual,
                    })
                    .collect();
                report.unchecked = verification
                    .unchecked
                    .into_iter()
                    .map(|u| UncheckedReport {
                        field: u.field,
                        reason: u.reason,
                    })
                    .collect();
            }
            Err(err) => report.error = Some(err_chain(&err)),
        }
        report
    }

    fn print(&self, report: &BlockReport) -> anyhow::Result<()> {
        let text = if self.json {
            serde_json::to_string(report)?
        } else {
            report.to_line()
        };
        Ok(output::line(&text)?)
    }
}

impl BlockReport {
    fn failed(path: &Path, block: Option<u64>, error: String) -> Self {
        Self {
            path: path.to_path_buf(),
            block,
            fork: None,
            txs: 0,
            gas_used: 0,
            time_ms: 0.0,
            engine: String::new(),
            passed: false,
            mismatches: Vec::new(),
            unchecked: Vec::new(),
            notes: Vec::new(),
            error: Some(error),
            stats: None,
        }
    }

    fn to_line(&self) -> String {
        let block = self
            .block
            .map_or_else(|| self.path.display().to_string(), |n| n.to_string());
        let Some(fork) = &self.fork else {
            return format!(
                "block {block}  FAILED  {}",
                self.error.as_deref().unwrap_or("?")
            );
        };
        let mut line = format!(
            "block {block:>9}  {fork:<10} {:>5} txs {:>11} gas {:>9.2} ms  ",
            self.txs, self.gas_used, self.time_ms
        );
        if let Some(error) = &self.error {
            line.push_str("FAILED  ");
            line.push_str(error);
        } else if self.passed {
            line.push_str("ok");
        } else {
            line.push_str("FAILED");
            for m in &self.mismatches {
                line.push_str(&format!(
                    "  {}: header {} != executed {}",
                    m.field, m.expected, m.actual
                ));
            }
        }
        for u in &self.unchecked {
            line.push_str(&format!("  ({} unchecked: {})", u.field, u.reason));
        }
        match &self.stats {
            Some(stats) if stats.mode == "parallel" => line.push_str(&format!(
                "  [parallel on {} threads: {} executions, {} aborts, {} suspensions]",
                stats.threads, stats.executions, stats.validation_aborts, stats.suspensions
            )),
            Some(stats) => line.push_str(&format!("  [{}]", stats.description)),
            None => {}
        }
        for note in &self.notes {
            line.push_str(&format!("  (note: {note})"));
        }
        line
    }
}

/// An error with its chain of causes on one line.
fn err_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
