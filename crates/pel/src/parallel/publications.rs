//! The log of changes to the multi-version memory, so that a validation can look at what
//! changed since the execution read instead of reading every location again.
//!
//! Every change is numbered when it is published: an incarnation's write set once it is
//! recorded, a transaction's writes once they are turned into estimates. The log keeps, for
//! the last [`LOG_SIZE`] numbers, the transaction that changed the memory and a bloom filter of
//! the locations it changed. A read set is still valid if no change published since it was
//! read came from a lower transaction and hit one of its locations; when the log cannot say
//! (the entry was overwritten or is still being written, or the filters meet), the validation
//! reads every location again.

use std::sync::atomic::{AtomicU64, Ordering, fence};

/// How many changes the log keeps: far more than are published between an execution's reads
/// and its validation, even with every worker busy.
const LOG_SIZE: usize = 1024;

/// Words of a filter (64 bits each): six, so that a log entry with its number and
/// transaction fills one cache line.
const BLOOM_WORDS: usize = 6;

/// Bits of a filter.
const BLOOM_BITS: u64 = BLOOM_WORDS as u64 * 64;

/// The sequence number of an entry a publisher is writing.
const WRITING: u64 = u64::MAX;

/// A set of locations, by their hashes in the multi-version memory: two bits of 384 each, so
/// that the few locations of a transaction's writes rarely hold a read's by chance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LocationBloom([u64; BLOOM_WORDS]);

impl LocationBloom {
    /// The two bits of a location. The memory's hasher need not mix every bit of its output
    /// well: a multiplication carries the low bits into the high ones used here.
    fn bits(hash: u64) -> [(usize, u64); 2] {
        let mixed = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        [mixed >> 48, (mixed >> 32) & 0xffff]
            .map(|bits| bits % BLOOM_BITS)
            .map(|bit| ((bit / 64) as usize, 1 << (bit % 64)))
    }

    /// Adds the location with this hash.
    pub(crate) fn add(&mut self, hash: u64) {
        for (word, bit) in Self::bits(hash) {
            if let Some(word) = self.0.get_mut(word) {
                *word |= bit;
            }
        }
    }

    /// Whether the location with this hash may be in the set.
    pub(crate) fn may_hold(&self, hash: u64) -> bool {
        (Self::bits(hash).iter())
            .all(|(word, bit)| self.0.get(*word).is_some_and(|word| word & bit != 0))
    }

    /// Whether no location is in the set.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|word| *word == 0)
    }
}

/// One published change. Written under a sequence number (a seqlock): a reader trusts the
/// fields only if the number is the one it looks for before and after reading them. One
/// cache line: the validation that reads it runs on another core than the publisher, and
/// each line is a transfer between them.
#[derive(Debug, Default)]
#[repr(align(64))]
struct LogEntry {
    number: AtomicU64,
    tx: AtomicU64,
    bloom: [AtomicU64; BLOOM_WORDS],
}

/// The numbered changes of one block's multi-version memory.
#[derive(Debug)]
pub(crate) struct Publications {
    published: AtomicU64,
    log: Box<[LogEntry]>,
}

impl Default for Publications {
    fn default() -> Self {
        Self {
            published: AtomicU64::new(0),
            log: (0..LOG_SIZE).map(|_| LogEntry::default()).collect(),
        }
    }
}

impl Publications {
    /// Numbers a change that transaction `tx` just made to the locations in `bloom`. A reader
    /// that starts at [`Publications::published`] `>= n` sees every change numbered `n` or
    /// lower.
    pub(crate) fn publish(&self, tx: usize, bloom: &LocationBloom) -> u64 {
        let number = self.published.fetch_add(1, Ordering::SeqCst) + 1;
        let Some(entry) = self.log.get(number as usize % LOG_SIZE) else {
            return number;
        };
        // Claim the entry unless a later change already did (this publisher was held up for
        // a whole turn of the log): readers looking for `number` then find another one.
        let mut current = entry.number.load(Ordering::Relaxed);
        loop {
            if current == WRITING {
                std::hint::spin_loop();
                current = entry.number.load(Ordering::Relaxed);
                continue;
            }
            if current > number {
                return number;
            }
            match (entry.number).compare_exchange_weak(
                current,
                WRITING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        fence(Ordering::Release);
        entry.tx.store(tx as u64, Ordering::Relaxed);
        for (word, value) in entry.bloom.iter().zip(bloom.0) {
            word.store(value, Ordering::Relaxed);
        }
        entry.number.store(number, Ordering::Release);
        number
    }

    /// The number of the last change published: read before reading the memory.
    pub(crate) fn published(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    /// The locations that changes numbered after `since` and up to `until` by transactions
    /// below `reader` touched: what a read set read at `since` must avoid to read the same at
    /// `until`. `None` when the log cannot tell.
    pub(crate) fn changed_below(
        &self,
        since: u64,
        until: u64,
        reader: usize,
    ) -> Option<LocationBloom> {
        if until.saturating_sub(since) >= LOG_SIZE as u64 {
            return None;
        }
        let mut changed = LocationBloom::default();
        for number in since + 1..=until {
            let (tx, bloom) = self.entry(number)?;
            if tx < reader as u64 {
                for (word, other) in changed.0.iter_mut().zip(bloom.0) {
                    *word |= other;
                }
            }
        }
        Some(changed)
    }

    /// The transaction and locations of change `number`, if the log still holds it whole.
    fn entry(&self, number: u64) -> Option<(u64, LocationBloom)> {
        let entry = self.log.get(number as usize % LOG_SIZE)?;
        if entry.number.load(Ordering::Acquire) != number {
            return None;
        }
        let tx = entry.tx.load(Ordering::Relaxed);
        let mut bloom = LocationBloom::default();
        for (value, word) in bloom.0.iter_mut().zip(&entry.bloom) {
            *value = word.load(Ordering::Relaxed);
        }
        fence(Ordering::Acquire);
        (entry.number.load(Ordering::Relaxed) == number).then_some((tx, bloom))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bloom(hashes: &[u64]) -> LocationBloom {
        let mut bloom = LocationBloom::default();
        for hash in hashes {
            bloom.add(*hash);
        }
        bloom
    }

    #[test]
    fn a_log_entry_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<LogEntry>(), 64);
    }

    #[test]
    fn a_filter_holds_what_was_added_and_rarely_anything_else() {
        let added: Vec<u64> = (0..8u64)
            .map(|n| n.wrapping_mul(0x1234_5678_9abc_def1))
            .collect();
        let set = bloom(&added);
        assert!(added.iter().all(|hash| set.may_hold(*hash)));
        let strangers = (1000..11_000u64).filter(|n| set.may_hold(*n)).count();
        assert!(strangers < 100, "{strangers} of 10,000 false positives");
        assert!(LocationBloom::default().is_empty() && !set.is_empty());
    }

    #[test]
    fn only_changes_of_lower_transactions_after_the_reads_count() {
        let log = Publications::default();
        assert_eq!(log.publish(7, &bloom(&[1])), 1);
        assert_eq!(log.publish(3, &bloom(&[2])), 2);
        let changed = |since, reader| log.changed_below(since, 2, reader).unwrap();
        // Transaction 5 sees only 3's change; 9 sees both, unless it read after the first.
        assert!(changed(0, 5).may_hold(2) && !changed(0, 5).may_hold(1));
        assert!(changed(0, 9).may_hold(1) && changed(0, 9).may_hold(2));
        assert!(!changed(1, 9).may_hold(1));
        assert!(changed(0, 2).is_empty() && changed(2, 9).is_empty());
    }

    #[test]
    fn the_log_cannot_answer_for_changes_it_no_longer_holds_or_has_not_written() {
        let log = Publications::default();
        for _ in 0..LOG_SIZE + 1 {
            log.publish(100, &bloom(&[2]));
        }
        let last = log.published();
        // The first change was overwritten, and the range is too long besides.
        assert_eq!(log.changed_below(0, last, 5), None);
        assert_eq!(log.entry(1), None);
        assert!(log.changed_below(last - 10, last, 5).is_some());
        // A change counted but not yet in the log.
        assert_eq!(log.changed_below(last, last + 1, 5), None);
    }

    #[test]
    fn a_publisher_overtaken_by_a_whole_turn_of_the_log_leaves_the_later_entry() {
        let log = Publications::default();
        let later = 1 + LOG_SIZE as u64;
        let entry = log.log.get(1).unwrap();
        entry.number.store(later, Ordering::Relaxed);
        assert_eq!(log.publish(4, &bloom(&[9])), 1);
        assert_eq!(entry.number.load(Ordering::Relaxed), later);
        assert_eq!(log.entry(1), None);
    }
}
