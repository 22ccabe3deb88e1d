//! Log blooms with each worker's memo of the hashes they are made of.
//!
//! A receipt's bloom sets three bits per Keccak-256 of each log's address and of each of its
//! topics: four hashes per ERC-20 transfer, and on blocks of many logs more hashing than the
//! EVM itself does. Most of those inputs repeat across a block: a token's address, an event's
//! signature in topic 0. Each worker keeps the hashes of recent inputs in a small
//! direct-mapped table and hashes only what it has not seen; the bloom is alloy's, from the
//! same hashes, so it is the one the sequential engine computes.

use alloy_primitives::{B256, Bloom, BloomInput, Log, keccak256};

/// Entries of the table: a power of two, and small enough (18 KiB) to stay in the cache.
const ENTRIES: usize = 256;

/// One remembered input and its hash. Addresses and topics are told apart by length.
#[derive(Debug, Clone, Copy)]
struct Entry {
    input: [u8; 32],
    len: u8,
    hash: B256,
}

/// A worker's table of recent bloom inputs and their Keccak-256.
#[derive(Debug)]
pub(crate) struct BloomHasher {
    entries: Box<[Option<Entry>]>,
}

impl Default for BloomHasher {
    fn default() -> Self {
        Self {
            entries: vec![None; ENTRIES].into_boxed_slice(),
        }
    }
}

impl BloomHasher {
    /// The bloom of `logs`, equal to [`alloy_primitives::logs_bloom`]'s.
    pub(crate) fn logs_bloom(&mut self, logs: &[Log]) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for log in logs {
            bloom.accrue(BloomInput::Hash(self.hash(log.address.as_slice())));
            for topic in log.topics() {
                bloom.accrue(BloomInput::Hash(self.hash(topic.as_slice())));
            }
        }
        bloom
    }

    /// Keccak-256 of `input` (an address or a topic), from the table when it holds it.
    fn hash(&mut self, input: &[u8]) -> B256 {
        let mut key = [0u8; 32];
        let Some(prefix) = key.get_mut(..input.len()) else {
            return keccak256(input);
        };
        prefix.copy_from_slice(input);
        let len = input.len() as u8;
        // Addresses and topics are hashes or padded addresses: their last bytes are spread.
        let last = |back: usize| input.len().checked_sub(back).and_then(|at| input.get(at));
        let low = u16::from_le_bytes([*last(1).unwrap_or(&0), *last(2).unwrap_or(&0)]);
        let index = usize::from(low ^ u16::from(len).wrapping_mul(0x9e37)) % ENTRIES;
        let Some(slot) = self.entries.get_mut(index) else {
            return keccak256(input);
        };
        if let Some(entry) = slot
            && entry.len == len
            && entry.input == key
        {
            return entry.hash;
        }
        let hash = keccak256(input);
        *slot = Some(Entry {
            input: key,
            len,
            hash,
        });
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, Bytes, LogData, logs_bloom};

    fn log(address: u8, topics: &[u8]) -> Log {
        let topics = topics.iter().map(|t| B256::repeat_byte(*t)).collect();
        Log {
            address: Address::repeat_byte(address),
            data: LogData::new_unchecked(topics, Bytes::new()),
        }
    }

    #[test]
    fn blooms_equal_alloys_with_repeats_collisions_and_look_alike_inputs() {
        let mut hasher = BloomHasher::default();
        // An address and a topic with the same bytes at the end; inputs repeated across logs;
        // more distinct inputs than entries, so that entries are replaced.
        let mut logs = vec![log(1, &[1, 2]), log(2, &[1]), log(1, &[])];
        let mut padded = [0u8; 32];
        padded[12..].copy_from_slice(Address::repeat_byte(1).as_slice());
        logs.push(Log {
            address: Address::repeat_byte(1),
            data: LogData::new_unchecked(vec![B256::from(padded)], Bytes::new()),
        });
        logs.extend((0..=255).map(|t| log(t, &[t, t.wrapping_add(1)])));
        for chunk in [&logs[..1], &logs[..4], &logs[..], &logs[2..], &[][..]] {
            assert_eq!(hasher.logs_bloom(chunk), logs_bloom(chunk));
        }
    }
}
