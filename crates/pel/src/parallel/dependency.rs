//! The dependency graph a block actually has, as Block-STM observed it, and the speedup it
//! allows: how fast the block could run on N threads with no overhead at all.
//!
//! Transaction `i` depends on `j < i` when its final execution read a value `j` wrote (or a
//! balance delta of `j` it had to sum). Nothing else orders transactions: the beneficiary's
//! fee and lazily credited transfers are not reads. With each transaction's own execution
//! time, the critical path is the longest chain of dependent executions; no schedule can beat
//! it, nor the total work divided by the threads.

use std::time::Duration;

/// Each transaction's execution time and the lower transactions whose writes it read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DependencyGraph {
    /// Execution time of each transaction's final incarnation, by index.
    pub durations: Vec<Duration>,
    /// For each transaction, the lower transactions it read from, ascending, without repeats.
    pub dependencies: Vec<Vec<usize>>,
}

impl DependencyGraph {
    /// The sum of all execution times: the time of a sequential run without overhead.
    pub fn total(&self) -> Duration {
        self.durations.iter().sum()
    }

    /// The longest chain of dependent transactions, in time: the time of a run on unlimited
    /// threads without overhead. Dependencies on higher transactions (which a sequential
    /// execution cannot have) and out-of-range indices are ignored.
    pub fn critical_path(&self) -> Duration {
        self.longest_path(self.durations.iter().copied())
    }

    /// The longest chain of dependent transactions, in transactions: how many must run one
    /// after another whatever their times. Unlike [`Self::critical_path`] it does not depend
    /// on measured times, so a thread preempted mid-transaction cannot change it.
    pub fn depth(&self) -> usize {
        self.longest_path(std::iter::repeat_n(1, self.dependencies.len()))
    }

    /// The heaviest chain of dependent transactions, each weighing what `weights` gives it in
    /// order, ignoring dependencies on higher transactions and out-of-range indices.
    fn longest_path<W>(&self, weights: impl Iterator<Item = W>) -> W
    where
        W: Copy + Ord + Default + std::ops::Add<Output = W>,
    {
        let mut finish: Vec<W> = Vec::with_capacity(self.dependencies.len());
        for (index, weight) in weights.enumerate() {
            let ready = (self.dependencies.get(index).into_iter().flatten())
                .filter(|&&dependency| dependency < index)
                .filter_map(|&dependency| finish.get(dependency))
                .max()
                .copied()
                .unwrap_or_default();
            finish.push(ready + weight);
        }
        finish.into_iter().max().unwrap_or_default()
    }

    /// The speedup an overhead-free executor could reach on `threads` threads: the total work
    /// over whichever is longer, the critical path or the work shared evenly by the threads.
    /// 1.0 for an empty block.
    pub fn ideal_speedup(&self, threads: usize) -> f64 {
        let total = self.total().as_secs_f64();
        let bound = self
            .critical_path()
            .as_secs_f64()
            .max(total / threads.max(1) as f64);
        if bound > 0.0 { total / bound } else { 1.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(micros: &[u64], dependencies: &[&[usize]]) -> DependencyGraph {
        DependencyGraph {
            durations: micros.iter().map(|&us| Duration::from_micros(us)).collect(),
            dependencies: dependencies.iter().map(|d| d.to_vec()).collect(),
        }
    }

    #[test]
    fn independent_transactions_are_bounded_by_the_threads() {
        let none: &[usize] = &[];
        let g = graph(&[10; 8], &[none; 8]);
        assert_eq!(g.critical_path(), Duration::from_micros(10));
        assert_eq!(g.depth(), 1);
        assert_eq!(g.ideal_speedup(1), 1.0);
        assert_eq!(g.ideal_speedup(2), 2.0);
        assert_eq!(g.ideal_speedup(4), 4.0);
        assert_eq!(g.ideal_speedup(8), 8.0);
        assert_eq!(g.ideal_speedup(16), 8.0);
    }

    #[test]
    fn a_chain_cannot_be_sped_up() {
        let g = graph(&[10, 20, 30, 40], &[&[], &[0], &[1], &[2]]);
        assert_eq!(g.critical_path(), Duration::from_micros(100));
        assert_eq!(g.depth(), 4);
        assert_eq!(g.ideal_speedup(2), 1.0);
        assert_eq!(g.ideal_speedup(64), 1.0);
    }

    #[test]
    fn the_longest_path_counts_not_the_longest_chain_of_edges() {
        // 0 -> 2 -> 3 is 10 + 10 + 10 = 30; 1 -> 3 is 50 + 10 = 60.
        let g = graph(&[10, 50, 10, 10], &[&[], &[], &[0], &[1, 2]]);
        assert_eq!(g.total(), Duration::from_micros(80));
        assert_eq!(g.critical_path(), Duration::from_micros(60));
        // In transactions the longer chain is 0 -> 2 -> 3.
        assert_eq!(g.depth(), 3);
        assert!((g.ideal_speedup(8) - 80.0 / 60.0).abs() < 1e-12);
        // On 2 threads 40 us of even sharing is shorter than the 60 us path.
        assert!((g.ideal_speedup(2) - 80.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn two_chains_of_equal_length_double_the_speed() {
        let g = graph(&[5, 5, 5, 5, 5, 5], &[&[], &[], &[0], &[1], &[2], &[3]]);
        assert_eq!(g.critical_path(), Duration::from_micros(15));
        assert_eq!(g.ideal_speedup(2), 2.0);
        assert_eq!(g.ideal_speedup(4), 2.0);
    }

    #[test]
    fn a_diamond_waits_for_its_slower_side() {
        let g = graph(&[10, 40, 20, 10], &[&[], &[0], &[0], &[1, 2]]);
        assert_eq!(g.critical_path(), Duration::from_micros(60));
        assert!((g.ideal_speedup(4) - 80.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn impossible_edges_and_empty_blocks_are_harmless() {
        let g = graph(&[10, 10], &[&[1, 7], &[]]);
        assert_eq!(g.critical_path(), Duration::from_micros(10));
        assert_eq!(DependencyGraph::default().ideal_speedup(2), 1.0);
        assert_eq!(DependencyGraph::default().critical_path(), Duration::ZERO);
        assert_eq!(g.depth(), 1);
        assert_eq!(DependencyGraph::default().depth(), 0);
    }
}
