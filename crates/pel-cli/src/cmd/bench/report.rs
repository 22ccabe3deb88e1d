//! The results as a table for people and as JSON records for tools.

use super::measure::Measurement;
use serde::Serialize;

/// One block on one thread count, as `--json` writes it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Record {
    pub(crate) name: String,
    pub(crate) source: String,
    pub(crate) txs: usize,
    pub(crate) gas: u64,
    pub(crate) threads: usize,
    pub(crate) sequential_ms: f64,
    pub(crate) parallel_ms: f64,
    pub(crate) speedup: f64,
    /// The quartiles of the speedups of single rounds, each a sequential run and the parallel
    /// run after it: the spread one measurement has on this machine.
    pub(crate) speedup_q1: f64,
    pub(crate) speedup_q3: f64,
    pub(crate) ideal_speedup: f64,
    pub(crate) efficiency: f64,
    pub(crate) mgas_per_s: f64,
    pub(crate) re_executions: usize,
    /// How the parallel engine ran the block: `parallel`, or why it ran it sequentially.
    pub(crate) mode: String,
    pub(crate) peak_rss_mb: Option<f64>,
    pub(crate) sequential_peak_rss_mb: Option<f64>,
    /// The percentage of the CPU time the block's timed runs asked for that the host (a
    /// hypervisor) withheld; `null` where unknown.
    pub(crate) host_steal_pct: Option<f64>,
}

/// The records of one measured block.
pub(crate) fn records(source: &str, m: &Measurement) -> Vec<Record> {
    m.parallel
        .iter()
        .map(|p| {
            let speedup = p.speedup(m.sequential);
            Record {
                name: m.name.clone(),
                source: source.to_owned(),
                txs: m.txs,
                gas: m.gas,
                threads: p.threads,
                sequential_ms: m.sequential.as_secs_f64() * 1e3,
                parallel_ms: p.time.as_secs_f64() * 1e3,
                speedup,
                speedup_q1: p.quartiles.0,
                speedup_q3: p.quartiles.1,
                ideal_speedup: p.ideal_speedup,
                efficiency: speedup / p.ideal_speedup,
                mgas_per_s: m.gas as f64 / 1e6 / p.time.as_secs_f64().max(1e-12),
                re_executions: p.re_executions,
                mode: p.mode.to_owned(),
                peak_rss_mb: p.peak_rss.map(mib),
                sequential_peak_rss_mb: m.sequential_peak_rss.map(mib),
                host_steal_pct: m.host_steal.map(|share| share * 100.0),
            }
        })
        .collect()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The table's header line.
pub(crate) fn header() -> String {
    format!(
        "{:<16} {:>6} {:>8} {:>9} {:>3} {:>9} {:>8} {:>11} {:>6} {:>5} {:>7} {:>6} {:>11} {:>11}",
        "block",
        "txs",
        "Mgas",
        "seq ms",
        "thr",
        "par ms",
        "speedup",
        "rounds IQR",
        "ideal",
        "eff",
        "Mgas/s",
        "re-ex",
        "mode",
        "peak MB s/p"
    )
}

/// One table row.
pub(crate) fn row(r: &Record) -> String {
    let memory = match (r.sequential_peak_rss_mb, r.peak_rss_mb) {
        (Some(s), Some(p)) => format!("{s:.0}/{p:.0}"),
        _ => "-".to_owned(),
    };
    format!(
        "{:<16} {:>6} {:>8.1} {:>9.2} {:>3} {:>9.2} {:>7.2}x {:>11} {:>6.2} {:>5.2} {:>7.0} {:>6} {:>11} {:>11}",
        truncate(&r.name, 16),
        r.txs,
        r.gas as f64 / 1e6,
        r.sequential_ms,
        r.threads,
        r.parallel_ms,
        r.speedup,
        format!("{:.2}-{:.2}", r.speedup_q1, r.speedup_q3),
        r.ideal_speedup,
        r.efficiency,
        r.mgas_per_s,
        r.re_executions,
        r.mode,
        memory
    )
}

/// The closing lines: geometric means of speedup, ideal speedup and efficiency per thread
/// count.
pub(crate) fn geomeans(records: &[Record]) -> Vec<String> {
    let mut threads: Vec<usize> = records.iter().map(|r| r.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    threads
        .into_iter()
        .map(|t| {
            let of = |f: fn(&Record) -> f64| {
                geomean(records.iter().filter(|r| r.threads == t).map(f))
            };
            format!(
                "geomean on {t} thread{}: speedup {:.2}x, ideal {:.2}, efficiency {:.2} ({} blocks)",
                if t == 1 { "" } else { "s" },
                of(|r| r.speedup),
                of(|r| r.ideal_speedup),
                of(|r| r.efficiency),
                records.iter().filter(|r| r.threads == t).count()
            )
        })
        .collect()
}

/// Above this percentage of CPU time withheld by the host, a block's numbers say more about
/// the host than about the engines.
const NOISY_STEAL_PCT: f64 = 5.0;

/// The line on the host's steal time under a table: over all its blocks, and the most any
/// one block saw, with a warning when that is past [`NOISY_STEAL_PCT`]; `None` where the
/// machine does not tell.
pub(crate) fn host_steal(records: &[Record]) -> Option<String> {
    // Each block's share once: its records on several thread counts share one measurement.
    let mut blocks: Vec<(&str, f64)> = Vec::new();
    for record in records {
        if let Some(pct) = record.host_steal_pct
            && blocks.last().is_none_or(|(name, _)| *name != record.name)
        {
            blocks.push((&record.name, pct));
        }
    }
    let (worst, worst_pct) = blocks.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let noisy = blocks
        .iter()
        .filter(|(_, pct)| *pct > NOISY_STEAL_PCT)
        .count();
    let mean = blocks.iter().map(|(_, pct)| pct).sum::<f64>() / blocks.len() as f64;
    let mut line = format!(
        "host steal: {mean:.1}% of the CPU time asked for was withheld by the host on average, \
         at most {worst_pct:.1}% ({worst})"
    );
    if noisy > 0 {
        line.push_str(&format!(
            "; {noisy} block{} above {NOISY_STEAL_PCT:.0}%, whose times are unreliable",
            if noisy == 1 { "" } else { "s" }
        ));
    }
    Some(line)
}

/// The geometric mean; 1.0 of nothing.
pub(crate) fn geomean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v.ln(), count + 1));
    if count == 0 {
        1.0
    } else {
        (sum / count as f64).exp()
    }
}

fn truncate(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        name.to_owned()
    } else {
        name.chars().take(width - 1).chain(['…']).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, threads: usize, host_steal_pct: Option<f64>) -> Record {
        Record {
            name: name.to_owned(),
            source: "synthetic".to_owned(),
            txs: 1,
            gas: 21_000,
            threads,
            sequential_ms: 1.0,
            parallel_ms: 1.0,
            speedup: 1.0,
            speedup_q1: 1.0,
            speedup_q3: 1.0,
            ideal_speedup: 1.0,
            efficiency: 1.0,
            mgas_per_s: 21.0,
            re_executions: 0,
            mode: "parallel".to_owned(),
            peak_rss_mb: None,
            sequential_peak_rss_mb: None,
            host_steal_pct,
        }
    }

    #[test]
    fn the_steal_line_counts_each_block_once_and_names_the_worst() {
        let records = [
            record("transfers", 1, Some(2.0)),
            record("transfers", 2, Some(2.0)),
            record("erc20", 2, Some(12.5)),
            record("amm", 2, Some(0.5)),
        ];
        assert_eq!(
            host_steal(&records).as_deref(),
            Some(
                "host steal: 5.0% of the CPU time asked for was withheld by the host on \
                 average, at most 12.5% (erc20); 1 block above 5%, whose times are unreliable"
            )
        );
        let quiet = [record("amm", 2, Some(0.5))];
        assert_eq!(
            host_steal(&quiet).as_deref(),
            Some(
                "host steal: 0.5% of the CPU time asked for was withheld by the host on \
                 average, at most 0.5% (amm)"
            )
        );
        assert_eq!(host_steal(&[record("amm", 2, None)]), None);
    }

    #[test]
    fn geomean_of_known_values() {
        assert!((geomean([2.0, 8.0].into_iter()) - 4.0).abs() < 1e-12);
        assert_eq!(geomean(std::iter::empty()), 1.0);
    }
}
