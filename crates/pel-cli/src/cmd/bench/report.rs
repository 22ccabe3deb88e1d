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

    #[test]
    fn geomean_of_known_values() {
        assert!((geomean([2.0, 8.0].into_iter()) - 4.0).abs() < 1e-12);
        assert_eq!(geomean(std::iter::empty()), 1.0);
    }
}
