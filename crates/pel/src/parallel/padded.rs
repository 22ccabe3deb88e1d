//! Values on cache lines of their own, so that one core's writes to a value do not take the
//! line away from the other core while it reads a neighbour (false sharing).
//!
//! The scheduler's indices, its count of running tasks and the per-transaction states are
//! written by every worker for every transaction. Packed together, each write also evicts
//! what sits beside it on the other core: the transaction states' vector, the neighbouring
//! transaction's state, the flag every worker polls.

use std::ops::Deref;

/// A value alone on 128 bytes: a pair of cache lines, as Intel cores prefetch them in pairs.
/// For the few values every worker writes all the time.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A value alone on one cache line: for the entries of per-transaction vectors, where two
/// lines each would double the memory of every block.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Line<T>(pub(crate) T);

impl<T> Deref for Line<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, atomic::AtomicUsize};

    #[test]
    fn neighbours_never_share_a_line() {
        let pair = [Padded(AtomicUsize::new(0)), Padded(AtomicUsize::new(1))];
        let gap = std::ptr::from_ref(&pair[1]) as usize - std::ptr::from_ref(&pair[0]) as usize;
        assert!(gap >= 128);
        let lines: Vec<Line<Mutex<Option<Box<u8>>>>> = (0..3).map(|_| Line::default()).collect();
        let gap = std::ptr::from_ref(&lines[1]) as usize - std::ptr::from_ref(&lines[0]) as usize;
        assert_eq!(gap, 64);
    }
}
