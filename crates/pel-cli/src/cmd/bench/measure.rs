//! Measuring one block: sequential and parallel on the same block in the same process,
//! interleaved run by run, after a warm-up that also checks that they agree.
//!
//! Each timed run follows an untimed run of the same engine, as blocks follow each other in a
//! node: what a run leaves behind (the parallel engine frees its multi-version memory on a
//! helper thread, while the caller goes on) then weighs on a run of the same engine.
//! Timed right after a parallel run, the sequential engine ran up to three times slower on the
//! synthetic transfers (34 to 114 ms against 30 to 37 ms alone), which made the parallel
//! engine look faster than it is.
//!
//! A block of a few milliseconds runs more than the asked number of times, until each engine
//! has about [`MIN_SAMPLED`] of timed runs: the median of a dozen such short runs moved by
//! 5-10% from one process to the next on the project's VM, enough to put blocks that both
//! engines run with the same code at 0.89x.

use super::{host::CpuTimes, memory};
use anyhow::bail;
use indicatif::ProgressBar;
use pel::{
    BlockInput, Chain, Engine, InMemoryState,
    parallel::{Fallback, ParallelConfig},
};
use std::time::{Duration, Instant};

/// The least total time of each engine's timed runs on a block, as far as
/// [`MAX_RUNS`] allows: short blocks run more times than asked. At 40 ms, mainnet
/// blocks that the parallel engine runs with the sequential engine's code (15537393's one
/// transaction, 12300570's payout batch, 3-4 ms each) read 0.89x-0.93x; with 100 runs each,
/// 0.98x-1.01x.
const MIN_SAMPLED: Duration = Duration::from_millis(250);

/// At most this many timed runs per engine and block, unless more are asked: blocks of a few
/// microseconds (mainnet 46147's one transfer) stop here, after a quarter of a second.
const MAX_RUNS: usize = 5_000;

/// A block to measure, under the name reports give it.
#[derive(Debug)]
pub(crate) struct BenchBlock {
    pub(crate) name: String,
    pub(crate) block: BlockInput,
    pub(crate) state: InMemoryState,
}

/// How to measure.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) threads: Vec<usize>,
    pub(crate) runs: usize,
    pub(crate) fallback: Fallback,
}

impl Plan {
    /// Executions per block at the least: a warm-up and `runs` timed runs of each engine,
    /// each after an untimed one, and one profile. Short blocks run more (see
    /// [`MIN_SAMPLED`]).
    pub(crate) fn executions_per_block(&self) -> u64 {
        self.executions_with(self.runs)
    }

    fn executions_with(&self, runs: usize) -> u64 {
        ((2 * runs + 1) * (self.threads.len() + 1) + 1) as u64
    }

    /// The timed runs for a block whose sequential run took `once`.
    fn runs_for(&self, once: Duration) -> usize {
        let wanted = MIN_SAMPLED.as_nanos() / once.as_nanos().max(1);
        usize::try_from(wanted)
            .unwrap_or(usize::MAX)
            .clamp(self.runs, self.runs.max(MAX_RUNS))
    }
}

/// What one block measured.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    pub(crate) name: String,
    pub(crate) txs: usize,
    pub(crate) gas: u64,
    /// Median sequential time.
    pub(crate) sequential: Duration,
    pub(crate) sequential_peak_rss: Option<u64>,
    pub(crate) parallel: Vec<ParallelMeasurement>,
    /// The share of the CPU time asked for while the block was timed (its timed runs and the
    /// untimed run before each) that the host withheld (see [`super::host`]); `None` where
    /// unknown.
    pub(crate) host_steal: Option<f64>,
}

/// The parallel engine on one thread count.
#[derive(Debug, Clone)]
pub(crate) struct ParallelMeasurement {
    pub(crate) threads: usize,
    /// Median time.
    pub(crate) time: Duration,
    /// How the block ran (`parallel`, or the reason it ran sequentially).
    pub(crate) mode: &'static str,
    /// Median re-executions over the runs.
    pub(crate) re_executions: usize,
    /// The speedup the block's dependency graph allows on this many threads.
    pub(crate) ideal_speedup: f64,
    /// The lower and upper quartiles of the speedups of single rounds (a sequential run over
    /// the parallel run that followed it): how far one measurement moves on this machine.
    pub(crate) quartiles: (f64, f64),
    pub(crate) peak_rss: Option<u64>,
}

impl ParallelMeasurement {
    /// Sequential time over parallel time.
    pub(crate) fn speedup(&self, sequential: Duration) -> f64 {
        sequential.as_secs_f64() / self.time.as_secs_f64().max(1e-12)
    }
}

/// Measures `block` as `plan` says, advancing `progress` by one per execution.
pub(crate) fn measure(
    chain: &Chain,
    block: &BenchBlock,
    plan: &Plan,
    progress: &ProgressBar,
) -> anyhow::Result<Measurement> {
    let engines: Vec<(usize, Engine)> = plan
        .threads
        .iter()
        .map(|&threads| {
            let config = ParallelConfig {
                threads,
                fallback: plan.fallback,
            };
            (threads, Engine::Parallel(config))
        })
        .collect();
    // Warm-up, and the check that matters more than any number: the outputs are identical.
    let started = Instant::now();
    let reference = Engine::Sequential.execute(chain, &block.block, &block.state)?;
    let runs = plan.runs_for(started.elapsed());
    progress.inc_length(plan.executions_with(runs) - plan.executions_per_block());
    progress.inc(1);
    for (threads, engine) in &engines {
        let output = engine.execute(chain, &block.block, &block.state)?;
        if output != reference {
            bail!(
                "{}: the parallel engine on {threads} threads differs from sequential",
                block.name
            );
        }
        progress.inc(1);
    }
    // The dependency graph, from Block-STM in order on one thread: each transaction's own
    // execution time, undisturbed by another thread.
    let profile = Engine::Parallel(ParallelConfig {
        threads: 1,
        fallback: Fallback::Never,
    });
    let (_, stats) = profile.execute_with_stats(chain, &block.block, &block.state)?;
    let graph = stats.and_then(|stats| stats.graph).unwrap_or_default();
    progress.inc(1);

    let mut sequential = Samples::default();
    let mut parallel: Vec<Samples> = vec![Samples::default(); engines.len()];
    let cpu_before = CpuTimes::now();
    for _ in 0..runs {
        drop(Engine::Sequential.execute(chain, &block.block, &block.state)?);
        progress.inc(1);
        sequential.run(|| {
            let output = Engine::Sequential.execute(chain, &block.block, &block.state)?;
            Ok((output, 0, "sequential"))
        })?;
        progress.inc(1);
        for ((_, engine), samples) in engines.iter().zip(&mut parallel) {
            drop(engine.execute(chain, &block.block, &block.state)?);
            progress.inc(1);
            samples.run(|| {
                let (output, stats) =
                    engine.execute_with_stats(chain, &block.block, &block.state)?;
                let stats = stats.unwrap_or_default();
                Ok((output, stats.re_executions, stats.mode.name()))
            })?;
            progress.inc(1);
        }
    }
    let host_steal = cpu_before
        .zip(CpuTimes::now())
        .and_then(|(before, after)| before.stolen_share_until(&after));
    // The rounds' speedups pair runs taken next to each other, before the medians sort them.
    let sequential_median = median(&mut sequential.times.clone());
    Ok(Measurement {
        name: block.name.clone(),
        txs: block.block.transactions.len(),
        gas: reference.gas_used,
        sequential: sequential_median,
        sequential_peak_rss: sequential.peak_rss,
        host_steal,
        parallel: engines
            .iter()
            .zip(parallel)
            .map(|((threads, _), mut samples)| {
                let quartiles = quartiles(&round_speedups(&sequential.times, &samples.times));
                ParallelMeasurement {
                    threads: *threads,
                    quartiles,
                    time: median(&mut samples.times),
                    mode: samples.mode,
                    re_executions: median(&mut samples.re_executions),
                    ideal_speedup: graph.ideal_speedup(*threads),
                    peak_rss: samples.peak_rss,
                }
            })
            .collect(),
    })
}

/// The runs of one engine on one block.
#[derive(Debug, Clone, Default)]
struct Samples {
    times: Vec<Duration>,
    re_executions: Vec<usize>,
    peak_rss: Option<u64>,
    mode: &'static str,
}

impl Samples {
    /// Times one run; its output is dropped after the clock stops.
    fn run<T>(
        &mut self,
        f: impl FnOnce() -> anyhow::Result<(T, usize, &'static str)>,
    ) -> anyhow::Result<()> {
        memory::reset_peak();
        let started = Instant::now();
        let (output, re_executions, mode) = f()?;
        self.times.push(started.elapsed());
        drop(output);
        self.re_executions.push(re_executions);
        self.mode = mode;
        self.peak_rss = self.peak_rss.max(memory::peak_rss());
        Ok(())
    }
}

/// Each round's sequential time over its parallel time, in the order the rounds ran.
fn round_speedups(sequential: &[Duration], parallel: &[Duration]) -> Vec<f64> {
    sequential
        .iter()
        .zip(parallel)
        .map(|(s, p)| s.as_secs_f64() / p.as_secs_f64().max(1e-12))
        .collect()
}

/// The lower and upper quartiles (nearest rank); `(0, 0)` of nothing.
fn quartiles(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    // The value of rank ceil(p * n), counted from 1.
    let at = |rank: usize| {
        sorted
            .get(rank.saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    (at(n.div_ceil(4)), at((3 * n).div_ceil(4)))
}

fn median<T: Ord + Copy + Default>(values: &mut [T]) -> T {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_by_nearest_rank() {
        assert_eq!(quartiles(&[]), (0.0, 0.0));
        assert_eq!(quartiles(&[1.5]), (1.5, 1.5));
        // Unsorted on purpose: the rounds come in the order they ran.
        assert_eq!(quartiles(&[5.0, 1.0, 4.0, 2.0, 3.0]), (2.0, 4.0));
        assert_eq!(quartiles(&[4.0, 1.0, 3.0, 2.0]), (1.0, 3.0));
    }

    #[test]
    fn short_blocks_run_until_each_engine_has_a_quarter_second_of_runs() {
        let plan = |runs| Plan {
            threads: vec![2],
            runs,
            fallback: Fallback::Auto,
        };
        let us = Duration::from_micros;
        // A 3 ms block: 83 runs instead of the 7 asked; one of 100 ms keeps the 7.
        assert_eq!(plan(7).runs_for(us(3_000)), 83);
        assert_eq!(plan(7).runs_for(us(100_000)), 7);
        // A block of microseconds stops at the cap, unless more were asked.
        assert_eq!(plan(7).runs_for(us(2)), MAX_RUNS);
        assert_eq!(plan(9_000).runs_for(us(2)), 9_000);
    }

    #[test]
    fn a_round_pairs_each_sequential_run_with_the_parallel_run_after_it() {
        let ms = Duration::from_millis;
        let speedups = round_speedups(&[ms(10), ms(20), ms(30)], &[ms(5), ms(20), ms(10)]);
        assert_eq!(speedups, vec![2.0, 1.0, 3.0]);
    }
}
