//! The multi-version memory: for every location, the value each transaction's latest
//! incarnation wrote there, or an ESTIMATE while that transaction re-executes.
//!
//! A read by transaction `j` is served by the highest transaction below `j` that wrote the
//! location, else by the block's base state. Locations are full keys (an address, or an
//! address and a slot), sharded over mutexes so that two workers rarely wait on each other,
//! with a filter of the locations ever written so that most reads lock nothing.
//!
//! Two kinds of entries are not plain values. A transaction that creates or destroys an
//! account writes a *storage wipe* for it: a storage read sees zero if the wipe is more recent
//! than the slot's last write. And the fee every transaction owes the block's beneficiary is a
//! *balance delta* on the beneficiary's account rather than a write, so that transactions stop
//! conflicting on it; only a transaction that reads the beneficiary sums the deltas below it.
//! So is what a plain transfer sends a recipient it reads lazily (a *credit*), summed only by
//! a transaction that reads the recipient whole. Fees and credits are kept beside the
//! locations, one slot per transaction, so that the workers do not all write to a busy
//! account's one list of versions under one lock: a transaction's credit is found through the
//! transfers into the recipient that the block's transactions name, with their values. What a
//! plain transfer costs its sender is kept nowhere: it is predicted before the block, and a
//! read of the sender subtracts the predictions above the sender's last whole write (see
//! [`super::debits`]).

use super::debits::Debits;
use super::owed::{Credit, DeltaSlot, Fee, TransfersTo};
use super::publications::{LocationBloom, Publications};
use super::{locks::lock, padded::Line};
use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, U256};
use hashbrown::HashTable;
use revm::state::AccountInfo;
use smallvec::SmallVec;
use std::{
    hash::{BuildHasher, Hash, Hasher},
    sync::{
        Mutex, MutexGuard, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

/// Position of a transaction in the block.
pub(crate) type TxIdx = usize;

/// How many times a transaction has been re-executed before the current execution.
pub(crate) type Incarnation = u32;

/// One execution of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) tx: TxIdx,
    pub(crate) incarnation: Incarnation,
}

/// A memory location, identified by its full key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// Balance, nonce and code of an account, or its absence.
    Account(Address),
    /// One storage slot.
    Storage(Address, U256),
    /// The moment an account's whole storage was reset (by its creation or destruction).
    StorageWipe(Address),
}

/// What a transaction wrote to a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// The account after the transaction; `None` if it does not exist.
    Account(Option<AccountInfo>),
    /// A balance increase of an account the transaction did not otherwise write: the fee it
    /// pays the beneficiary, or a credit to a contract read for its code alone.
    BalanceDelta(U256),
    /// What a plain transfer sends its lazily read recipient: always the transaction's value,
    /// so readers take the amount from the transaction. Kept in the transaction's own slot,
    /// not in the recipient's list of versions, which the transfers into a busy recipient
    /// would otherwise all append to from every worker.
    Credit,
    /// What a plain transfer cost its sender, exactly as predicted before the block (see
    /// [`super::debits`]): readers subtract the prediction, so it is kept nowhere, and only
    /// marks in the write set that the sender was written this way.
    Debit,
    /// A storage slot's new value.
    Storage(U256),
    /// The account's storage was reset.
    StorageWipe,
}

impl Hash for Location {
    /// Whole machine words instead of the derived byte-wise hash of the address: a location
    /// is hashed on every read and write of the block.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (kind, address, slot) = match self {
            Self::Account(address) => (0, address, None),
            Self::Storage(address, slot) => (1, address, Some(slot)),
            Self::StorageWipe(address) => (2, address, None),
        };
        let bytes = address.as_slice();
        let word = |at: usize| {
            let mut word = [0u8; 8];
            if let Some(part) = bytes.get(at..at + 8) {
                word.copy_from_slice(part);
            }
            u64::from_le_bytes(word)
        };
        // Bytes 0..8, 8..16 and 12..20: every byte of the address.
        state.write_u64(word(0) ^ kind);
        state.write_u64(word(8));
        state.write_u64(word(12));
        if let Some(slot) = slot {
            for limb in slot.as_limbs() {
                state.write_u64(*limb);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Data(Incarnation, Value),
    Estimate,
}

/// Where a read found its value: the versions it depends on, compared at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadOrigin {
    /// The block's base state.
    Base,
    /// A transaction's write.
    Version(Version),
    /// Balance deltas (highest first), then a write or the base state beneath them.
    Deltas(Vec<Version>, Option<Version>),
    /// Only that an account has no code, as the write beneath any balance deltas (or the base
    /// state, `None`) says: what a plain transfer needs of its recipient.
    Codeless(Option<Version>),
    /// Only a contract account's code, first read from the base state (`base`) or a lower
    /// write (see `observed`): valid while the account beneath any deltas has the same code.
    Code { code_hash: B256, base: bool },
}

/// A read that cannot complete until the transaction it names finishes re-executing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked(pub(crate) TxIdx);

/// The result of resolving a location for a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Nothing below the reader wrote here: read the base state.
    Base,
    /// A lower transaction's write.
    Value(Version, Value),
    /// Balance deltas, summed, over an account value (`None` = read the base state), and the
    /// predicted debits of the account's plain transfers above that value: their sum and
    /// number.
    Deltas {
        sum: U256,
        versions: Vec<Version>,
        below: Option<(Version, Option<AccountInfo>)>,
        debited: Option<(U256, u64)>,
    },
}

impl ReadOrigin {
    /// The transactions whose writes this read returned: what the reader depends on.
    pub(crate) fn writers(&self) -> impl Iterator<Item = TxIdx> + '_ {
        let (deltas, beneath): (&[Version], Option<&Version>) = match self {
            Self::Base => (&[], None),
            Self::Version(version) => (&[], Some(version)),
            Self::Deltas(deltas, beneath) => (deltas, beneath.as_ref()),
            Self::Codeless(beneath) => (&[], beneath.as_ref()),
            Self::Code { .. } => (&[], None),
        };
        deltas.iter().chain(beneath).map(|version| version.tx)
    }
}

impl Resolved {
    /// The origin to record in the read set.
    pub(crate) fn into_origin(self) -> ReadOrigin {
        match self {
            Self::Base => ReadOrigin::Base,
            Self::Value(version, _) => ReadOrigin::Version(version),
            Self::Deltas {
                versions, below, ..
            } => ReadOrigin::Deltas(versions, below.map(|(version, _)| version)),
        }
    }
}

const SHARDS: usize = 64;

/// Locations a transaction typically writes in the shards (its sender and a recipient or a
/// couple of slots; the beneficiary's fee and a lazily read recipient's credit have their own
/// slot), to size the memory up front instead of growing it while workers wait on a shard.
const LOCATIONS_PER_TX: usize = 3;

/// Bits of the filter of written locations per location the memory is sized for: with
/// [`LOCATIONS_PER_TX`] writes per transaction, about one read in 16 of an unwritten location
/// finds its bit set by another and takes the shard's lock after all.
const FILTER_BITS_PER_LOCATION: usize = 16;

/// The least words of the filter of written locations (64 bits each).
const MIN_FILTER_WORDS: usize = 16;

/// The writes to one location, sorted by transaction. Most locations have one writer, so a
/// sorted vector beats a tree, and the first write is kept inline: a location written once
/// allocates nothing (on one thread, the allocations of a block of 1,226 transfers' first
/// writes took a tenth of Block-STM's time; perf, mainnet 15274915). Beside it, once
/// a balance delta was written here, the transactions whose entry is not a delta, so that the
/// write beneath a run of deltas (all a read of a contract's code needs) is found without
/// walking them; `None` while every entry is a plain write (storage slots, most accounts),
/// which saves a second allocation per location.
#[derive(Debug, Default)]
struct Versions {
    entries: SmallVec<[(TxIdx, Entry); 1]>,
    not_deltas: Option<Vec<TxIdx>>,
}

impl Entry {
    fn is_delta(&self) -> bool {
        matches!(self, Self::Data(_, Value::BalanceDelta(_)))
    }
}

impl Versions {
    fn insert(&mut self, tx: TxIdx, entry: Entry) {
        let delta = entry.is_delta();
        if delta && self.not_deltas.is_none() {
            self.not_deltas = Some(self.entries.iter().map(|(tx, _)| *tx).collect());
        }
        // Transactions mostly finish in order: appending needs no search through a long list
        // (the transfers into one busy recipient).
        if self.entries.last().is_none_or(|(last, _)| *last < tx) {
            self.entries.push((tx, entry));
            if let Some(not_deltas) = &mut self.not_deltas
                && !delta
            {
                not_deltas.push(tx);
            }
            return;
        }
        match self.entries.binary_search_by_key(&tx, |(t, _)| *t) {
            Ok(at) => {
                if let Some(slot) = self.entries.get_mut(at) {
                    slot.1 = entry;
                }
            }
            Err(at) => self.entries.insert(at, (tx, entry)),
        }
        let Some(not_deltas) = &mut self.not_deltas else {
            return;
        };
        match (not_deltas.binary_search(&tx), delta) {
            (Ok(at), true) => {
                not_deltas.remove(at);
            }
            (Err(at), false) => not_deltas.insert(at, tx),
            _ => {}
        }
    }

    fn mark_estimate(&mut self, tx: TxIdx) {
        if let Ok(at) = self.entries.binary_search_by_key(&tx, |(t, _)| *t)
            && let Some(slot) = self.entries.get_mut(at)
        {
            slot.1 = Entry::Estimate;
            if let Some(not_deltas) = &mut self.not_deltas
                && let Err(at) = not_deltas.binary_search(&tx)
            {
                not_deltas.insert(at, tx);
            }
        }
    }

    fn remove(&mut self, tx: TxIdx) {
        if let Ok(at) = self.entries.binary_search_by_key(&tx, |(t, _)| *t) {
            self.entries.remove(at);
        }
        if let Some(not_deltas) = &mut self.not_deltas
            && let Ok(at) = not_deltas.binary_search(&tx)
        {
            not_deltas.remove(at);
        }
    }

    /// Entries of transactions below `reader`, highest first.
    fn below(&self, reader: TxIdx) -> impl Iterator<Item = &(TxIdx, Entry)> {
        let end = self.entries.partition_point(|(t, _)| *t < reader);
        self.entries.iter().take(end).rev()
    }

    /// The highest entry below `reader` that is not a balance delta.
    fn highest_not_delta_below(&self, reader: TxIdx) -> Option<&(TxIdx, Entry)> {
        let Some(not_deltas) = &self.not_deltas else {
            return self.below(reader).next();
        };
        let end = not_deltas.partition_point(|t| *t < reader);
        let tx = *not_deltas.get(end.checked_sub(1)?)?;
        let at = self.entries.binary_search_by_key(&tx, |(t, _)| *t).ok()?;
        self.entries.get(at)
    }
}

/// One shard: locations with the writes to them, found by the hash that also chose the
/// shard, so a location is hashed once per access.
#[derive(Debug, Default)]
struct Shard {
    table: HashTable<(Location, Versions)>,
}

impl Shard {
    fn get(&self, hash: u64, location: &Location) -> Option<&Versions> {
        (self.table.find(hash, |(key, _)| key == location)).map(|(_, versions)| versions)
    }

    fn get_mut(&mut self, hash: u64, location: &Location) -> Option<&mut Versions> {
        (self.table.find_mut(hash, |(key, _)| key == location)).map(|(_, versions)| versions)
    }

    fn get_or_default(
        &mut self,
        hash: u64,
        location: &Location,
        hasher: &impl BuildHasher,
    ) -> &mut Versions {
        let entry = self.table.entry(
            hash,
            |(key, _)| key == location,
            |(key, _)| hasher.hash_one(key),
        );
        &mut entry
            .or_insert_with(|| (*location, Versions::default()))
            .into_mut()
            .1
    }
}

/// The filter's words for a block of `tx_count` transactions: a power of two, so that the
/// bit of a hash is a mask of it.
fn filter_words(tx_count: usize) -> usize {
    (tx_count.saturating_mul(LOCATIONS_PER_TX * FILTER_BITS_PER_LOCATION) / 64)
        .max(MIN_FILTER_WORDS)
        .next_power_of_two()
}

/// A bit per hash bucket of locations, set by writers and never cleared during the block, so
/// that readers of a location whose bit is clear need no lock: a plain load answers them.
/// Sound against a racing writer, which sets the bit before its write enters its shard and
/// before its write set is published: a read that misses the bit is a read from before that
/// write set, which validation catches.
struct Filter(Box<[AtomicU64]>);

impl Filter {
    fn new(tx_count: usize) -> Self {
        Self(
            (0..filter_words(tx_count))
                .map(|_| AtomicU64::new(0))
                .collect(),
        )
    }

    /// The word and bit of a location's hash, from bits above the low ones a shard's table
    /// places it by.
    fn bit(&self, hash: u64) -> (Option<&AtomicU64>, u64) {
        // A power of two of words (see `filter_words`): the mask keeps the bit in range.
        let bit = (hash >> 16) as usize & (self.0.len() * 64).wrapping_sub(1);
        (self.0.get(bit / 64), 1 << (bit % 64))
    }

    /// Whether the bit of this hash was ever set.
    fn may_hold(&self, hash: u64) -> bool {
        let (word, bit) = self.bit(hash);
        word.is_some_and(|word| word.load(Ordering::SeqCst) & bit != 0)
    }

    /// Sets the bit of this hash; a plain load when it is set already, as it mostly is for
    /// locations written again.
    fn mark(&self, hash: u64) {
        if let (Some(word), bit) = self.bit(hash)
            && word.load(Ordering::SeqCst) & bit == 0
        {
            word.fetch_or(bit, Ordering::SeqCst);
        }
    }

    /// The word of a hash and two bits in it, for a filter that must rarely say yes by
    /// chance: a test is still one load.
    fn pair(&self, hash: u64) -> (Option<&AtomicU64>, u64) {
        let (word, _) = self.bit(hash);
        (word, 1 << ((hash >> 40) % 64) | 1 << ((hash >> 52) % 64))
    }

    /// Whether both bits of this hash were ever set.
    fn may_hold_pair(&self, hash: u64) -> bool {
        let (word, bits) = self.pair(hash);
        word.is_some_and(|word| word.load(Ordering::SeqCst) & bits == bits)
    }

    /// Sets both bits of this hash.
    fn mark_pair(&self, hash: u64) {
        if let (Some(word), bits) = self.pair(hash)
            && word.load(Ordering::SeqCst) & bits != bits
        {
            word.fetch_or(bits, Ordering::SeqCst);
        }
    }
}

/// The multi-version memory of one block.
pub(crate) struct MvMemory {
    /// Each on a cache line of its own: a lock packed beside another would move between the
    /// cores with its neighbour's.
    shards: [Line<Mutex<Shard>>; SHARDS],
    /// The beneficiary's account: its balance deltas are in `owed`, its other writes in the
    /// shards.
    beneficiary: Location,
    /// Per transaction, the fee it owes the beneficiary as a balance delta and whether it
    /// credited its lazily read recipient.
    owed: Box<[DeltaSlot]>,
    /// The transfers into each recipient, found once a read first needs them: only a
    /// recipient read whole, not lazily, sums its credits.
    transfers: OnceLock<TransfersTo>,
    hasher: alloy_primitives::map::DefaultHashBuilder,
    /// The numbered changes, for validations (see [`super::publications`]).
    publications: Publications,
    /// The locations some write set put in the shards. Most reads are of locations no
    /// transaction writes (a contract's storage, a sender's first transaction, the wipe every
    /// storage read also reads): a clear bit answers them without locking the shard, which
    /// would move the lock's cache line from the other core, whose reads and writes lock the
    /// same 64 shards all the time.
    written: Filter,
    /// The locations that ever held an entry other than a balance delta (a write of a whole
    /// account, or an estimate). A lazily read recipient and a read of a contract's code ask
    /// only for such an entry: a clear bit answers them without the shard's lock, also for a
    /// contract that holds only the deltas it was credited while read for its code.
    whole: Filter,
    /// The senders' predicted debits.
    debits: Debits,
    /// The recipients some transfer credited lazily (see [`Value::Credit`]): a read of any
    /// other account needs no look at the credits. Two bits per recipient, so that the many
    /// whole reads of other accounts (contracts, senders) rarely build the transfers for
    /// nothing: with one, most looks on the mainnet fixtures were false positives (61 of 79
    /// in one run).
    credited: Filter,
}

impl std::fmt::Debug for MvMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MvMemory")
            .field("shards", &SHARDS)
            .finish_non_exhaustive()
    }
}

impl MvMemory {
    /// A memory for a block of `tx_count` transactions paying fees to `beneficiary`, whose
    /// senders' `debits` are predicted, sized for a few locations each.
    pub(crate) fn new(tx_count: usize, beneficiary: Address, debits: Debits) -> Self {
        let per_shard = tx_count.saturating_mul(LOCATIONS_PER_TX) / SHARDS;
        Self {
            shards: std::array::from_fn(|_| {
                Line(Mutex::new(Shard {
                    table: HashTable::with_capacity(per_shard),
                }))
            }),
            beneficiary: Location::Account(beneficiary),
            owed: (0..tx_count).map(|_| DeltaSlot::default()).collect(),
            transfers: OnceLock::new(),
            hasher: Default::default(),
            publications: Publications::default(),
            debits,
            written: Filter::new(tx_count),
            whole: Filter::new(tx_count),
            credited: Filter::new(tx_count),
        }
    }

    /// The number of the last change published: read before reading the memory, it says which
    /// changes the reads will see (every one numbered up to it).
    pub(crate) fn published(&self) -> u64 {
        self.publications.published()
    }

    /// Whether no change numbered after `since` and up to `until` came from a transaction below
    /// `reader` and may have touched a location of `reads`: then a read set read at `since`
    /// still reads the same at `until`. `false` when the log cannot tell, and for a set with
    /// a read that changes unpublished (see [`MvMemory::changes_unpublished`]).
    pub(crate) fn untouched(
        &self,
        since: u64,
        until: u64,
        reader: TxIdx,
        reads: &[(Location, ReadOrigin)],
    ) -> bool {
        let changed = match since >= until {
            true => LocationBloom::default(),
            false => match self.publications.changed_below(since, until, reader) {
                Some(changed) => changed,
                None => return false,
            },
        };
        (reads.iter()).all(|(location, origin)| {
            let whole_account = matches!(location, Location::Account(_))
                && !matches!(origin, ReadOrigin::Codeless(_) | ReadOrigin::Code { .. });
            if !whole_account && changed.is_empty() {
                return true;
            }
            let hash = self.hasher.hash_one(location);
            if whole_account && self.changes_unpublished(location, hash) {
                return false;
            }
            !changed.may_hold(hash)
        })
    }

    /// Whether a whole read of the account at `location` (with this hash) can change without a
    /// published change: the beneficiary's fees and a lazily credited recipient's credits are
    /// kept beside the shards and not published, so validations read them again. The credits'
    /// filter is set before a credit is kept, and a commit's validation comes after every
    /// lower transaction's final write set: it sees the bit of any credit below.
    fn changes_unpublished(&self, location: &Location, hash: u64) -> bool {
        *location == self.beneficiary || self.credited.may_hold_pair(hash)
    }

    /// The location's hash and its locked shard. The shard comes from bits of the hash above
    /// those a shard's table uses for buckets and tags.
    fn shard(&self, location: &Location) -> (u64, MutexGuard<'_, Shard>) {
        let hash = self.hasher.hash_one(location);
        (hash, self.shard_of(hash))
    }

    fn shard_of(&self, hash: u64) -> MutexGuard<'_, Shard> {
        let index = ((hash >> 32) as usize) % SHARDS;
        // In range by the modulo above.
        #[allow(clippy::indexing_slicing)]
        lock(&self.shards[index])
    }

    /// The location's hash and its locked shard, if `filter` says it may hold what the caller
    /// looks for; `None` (no lock taken) when it says it does not.
    fn shard_if(
        &self,
        filter: &Filter,
        location: &Location,
    ) -> Option<(u64, MutexGuard<'_, Shard>)> {
        let hash = self.hasher.hash_one(location);
        (filter.may_hold(hash)).then(|| (hash, self.shard_of(hash)))
    }

    /// Installs `writes` as `version`'s writes, removing those of its previous incarnation that
    /// it no longer writes, and publishes the change. Returns whether it wrote a location the
    /// previous one did not, and the number it was published under.
    pub(crate) fn record(
        &self,
        version: Version,
        previous: &[(Location, Value)],
        writes: &[(Location, Value)],
    ) -> (bool, u64) {
        let mut wrote_new = false;
        let mut changed = LocationBloom::default();
        let credits = |writes: &[(Location, Value)]| {
            (writes.iter()).any(|(_, value)| matches!(value, Value::Credit))
        };
        if credits(previous) && !credits(writes) {
            self.set_credit(version.tx, None);
        }
        // Whether the shards changed: only then is the change published (see `untouched`).
        let mut visible = false;
        for (location, value) in writes {
            let hash = self.hasher.hash_one(location);
            let whole_before = (previous.iter())
                .any(|(old, value)| old == location && !matches!(value, Value::Debit));
            // The previous incarnation's write here, if the shards hold it.
            let in_shards_before =
                (previous.iter()).any(|(old, value)| old == location && self.in_shards(old, value));
            if let Value::Debit = value {
                // Every reader predicted it: only a whole write of the previous incarnation,
                // which leaves the shards, changes what they read. A beneficiary's payout
                // includes its fee.
                if *location == self.beneficiary {
                    self.set_fee(version.tx, None);
                }
                if whole_before {
                    changed.add(hash);
                    if let Some(versions) = self.shard_of(hash).get_mut(hash, location) {
                        versions.remove(version.tx);
                    }
                }
                visible |= in_shards_before;
                continue;
            }
            changed.add(hash);
            if !whole_before {
                wrote_new = true;
            }
            if *location == self.beneficiary {
                visible |= self.record_beneficiary(version, previous, value, hash);
                continue;
            }
            if let Value::Credit = value {
                self.credited.mark_pair(hash);
                self.set_credit(version.tx, Some(Credit::Paid(version.incarnation)));
                // A whole write of the previous incarnation here leaves the shards.
                if (previous.iter())
                    .any(|(old, value)| old == location && !matches!(value, Value::Credit))
                    && let Some(versions) = self.shard_of(hash).get_mut(hash, location)
                {
                    versions.remove(version.tx);
                }
                visible |= in_shards_before;
                continue;
            }
            self.mark(hash, value);
            let mut shard = self.shard_of(hash);
            shard
                .get_or_default(hash, location, &self.hasher)
                .insert(version.tx, Entry::Data(version.incarnation, value.clone()));
            visible = true;
        }
        for (location, value) in previous {
            if !writes.iter().any(|(written, _)| written == location) {
                let (hash, mut shard) = self.shard(location);
                changed.add(hash);
                if let Some(versions) = shard.get_mut(hash, location) {
                    versions.remove(version.tx);
                }
                if *location == self.beneficiary {
                    self.set_fee(version.tx, None);
                }
                visible |= self.in_shards(location, value);
            }
        }
        let published_as = match visible {
            true => self.publications.publish(version.tx, &changed),
            false => 0,
        };
        (wrote_new, published_as)
    }

    /// Whether a write of `value` at `location` is kept in the shards. Fees, credits and
    /// debits are not: their changes are not published, and a validation reads again every
    /// read they can change instead (see [`MvMemory::untouched`]).
    fn in_shards(&self, location: &Location, value: &Value) -> bool {
        match value {
            Value::Credit | Value::Debit => false,
            Value::BalanceDelta(_) => *location != self.beneficiary,
            _ => true,
        }
    }

    /// Records a write to the beneficiary: a fee into the transaction's slot, anything else
    /// into the shards, where a write of the previous incarnation of the other kind is removed.
    /// Returns whether the shards changed.
    fn record_beneficiary(
        &self,
        version: Version,
        previous: &[(Location, Value)],
        value: &Value,
        hash: u64,
    ) -> bool {
        let location = &self.beneficiary;
        let fee = match value {
            Value::BalanceDelta(fee) => Some(Fee::Owed(version.incarnation, *fee)),
            _ => None,
        };
        self.set_fee(version.tx, fee);
        if fee.is_some() {
            let previous_write = (previous.iter()).find(|(old, _)| old == location);
            if previous_write.is_some_and(|(_, old)| !matches!(old, Value::BalanceDelta(_))) {
                let mut shard = self.shard_of(hash);
                if let Some(versions) = shard.get_mut(hash, location) {
                    versions.remove(version.tx);
                }
                return true;
            }
            return false;
        }
        self.mark(hash, value);
        let mut shard = self.shard_of(hash);
        shard
            .get_or_default(hash, location, &self.hasher)
            .insert(version.tx, Entry::Data(version.incarnation, value.clone()));
        true
    }

    /// Sets the filters' bits for a write of `value` about to enter its shard.
    fn mark(&self, hash: u64, value: &Value) {
        self.written.mark(hash);
        if !matches!(value, Value::BalanceDelta(_)) {
            self.whole.mark(hash);
        }
    }

    fn set_fee(&self, tx: TxIdx, fee: Option<Fee>) {
        if let Some(slot) = self.owed.get(tx) {
            slot.lock().fee = fee;
        }
    }

    fn set_credit(&self, tx: TxIdx, credit: Option<Credit>) {
        if let Some(slot) = self.owed.get(tx) {
            slot.lock().credit = credit;
        }
    }

    /// Marks `tx`'s writes as estimates, so that readers above wait for its next incarnation,
    /// and publishes the change.
    pub(crate) fn convert_writes_to_estimates(&self, tx: TxIdx, writes: &[(Location, Value)]) {
        let mut changed = LocationBloom::default();
        for (location, value) in writes {
            let hash = self.hasher.hash_one(location);
            changed.add(hash);
            if *location == self.beneficiary && matches!(value, Value::BalanceDelta(_)) {
                self.set_fee(tx, Some(Fee::Estimate));
            } else if let Value::Credit = value {
                // Only whole reads of the recipient wait; a lazy one reads beneath the credits.
                self.set_credit(tx, Some(Credit::Estimate));
            } else if let Value::Debit = value {
                // Readers take the prediction, which the next incarnation confirms or replaces
                // with a whole write.
            } else {
                self.whole.mark(hash);
                if let Some(versions) = self.shard_of(hash).get_mut(hash, location) {
                    versions.mark_estimate(tx);
                }
            }
        }
        self.publications.publish(tx, &changed);
    }

    /// What transaction `reader` sees at `location`. `transactions` are the block's: a whole
    /// read of a lazily credited recipient finds the transfers that may have credited it.
    pub(crate) fn read(
        &self,
        location: &Location,
        reader: TxIdx,
        transactions: &[Recovered<TxEnvelope>],
    ) -> Result<Resolved, Blocked> {
        if *location == self.beneficiary {
            return self.read_beneficiary(reader, transactions);
        }
        let hash = self.hasher.hash_one(location);
        let mut deltas: Vec<(Version, U256)> = Vec::new();
        let mut below = None;
        if self.written.may_hold(hash)
            && let Some(versions) = self.shard_of(hash).get(hash, location)
        {
            for (tx, entry) in versions.below(reader) {
                let Entry::Data(incarnation, value) = entry else {
                    return Err(Blocked(*tx));
                };
                let version = Version {
                    tx: *tx,
                    incarnation: *incarnation,
                };
                if let Value::BalanceDelta(delta) = value {
                    deltas.push((version, *delta));
                } else {
                    below = Some((version, value.clone()));
                    break;
                }
            }
        }
        let mut debited = None;
        if let Location::Account(address) = location {
            let since = below.as_ref().map(|(version, _)| version.tx);
            if self.credited.may_hold_pair(hash) {
                let from = since.map_or(0, |since| since + 1);
                let before = deltas.len();
                self.add_credits(*address, from..reader, transactions, &mut deltas)?;
                if deltas.len() > before {
                    deltas.sort_unstable_by_key(|(version, _)| std::cmp::Reverse(version.tx));
                }
            }
            debited = self.debits.between(*address, since, reader, transactions);
        }
        if deltas.is_empty() && debited.is_none() {
            return Ok(match below {
                Some((version, value)) => Resolved::Value(version, value),
                None => Resolved::Base,
            });
        }
        let sum = (deltas.iter()).fold(U256::ZERO, |sum, (_, delta)| sum.saturating_add(*delta));
        Ok(Resolved::Deltas {
            sum,
            versions: deltas.into_iter().map(|(version, _)| version).collect(),
            below: match below {
                Some((version, Value::Account(info))) => Some((version, info)),
                // Only account locations hold deltas, and accounts beneath them.
                _ => None,
            },
            debited,
        })
    }

    /// The debit predicted for transaction `tx`'s sender, if any (see [`super::debits`]).
    pub(crate) fn predicted_debit(&self, tx: TxIdx) -> Option<U256> {
        self.debits.predicted(tx)
    }

    /// Adds to `deltas` the credits to `recipient` of the transactions in `range`: those
    /// whose latest incarnation credited it lazily.
    fn add_credits(
        &self,
        recipient: Address,
        range: std::ops::Range<TxIdx>,
        transactions: &[Recovered<TxEnvelope>],
        deltas: &mut Vec<(Version, U256)>,
    ) -> Result<(), Blocked> {
        let transfers = self.transfers.get_or_init(|| TransfersTo::of(transactions));
        for (tx, value) in transfers.to(recipient, range) {
            let credit = self.owed.get(tx).and_then(|slot| slot.lock().credit);
            match credit {
                Some(Credit::Paid(incarnation)) => {
                    deltas.push((Version { tx, incarnation }, value))
                }
                Some(Credit::Estimate) => return Err(Blocked(tx)),
                None => {}
            }
        }
        Ok(())
    }

    /// What transaction `reader` sees at the beneficiary: the fees of the transactions above
    /// its highest write below `reader`, summed over that write (or the base state).
    fn read_beneficiary(
        &self,
        reader: TxIdx,
        transactions: &[Recovered<TxEnvelope>],
    ) -> Result<Resolved, Blocked> {
        let location = &self.beneficiary;
        let below = {
            let (hash, shard) = self.shard(location);
            (shard.get(hash, location))
                .and_then(|versions| versions.below(reader).next())
                .cloned()
        };
        let from = below.as_ref().map_or(0, |(tx, _)| tx + 1);
        let mut sum = U256::ZERO;
        let mut versions = Vec::new();
        for tx in self.debits.fee_payers_down(from..reader) {
            let Some(slot) = self.owed.get(tx) else {
                continue;
            };
            let fee = slot.lock().fee;
            match fee {
                Some(Fee::Owed(incarnation, fee)) => {
                    sum = sum.saturating_add(fee);
                    versions.push(Version { tx, incarnation });
                }
                Some(Fee::Estimate) => return Err(Blocked(tx)),
                None => {}
            }
        }
        let below = match below {
            Some((tx, Entry::Estimate)) => return Err(Blocked(tx)),
            Some((tx, Entry::Data(incarnation, value))) => {
                Some((Version { tx, incarnation }, value))
            }
            None => None,
        };
        let since = below.as_ref().map(|(version, _)| version.tx);
        let Location::Account(address) = *location else {
            return Ok(Resolved::Base);
        };
        let debited = self.debits.between(address, since, reader, transactions);
        Ok(match (below, versions.is_empty() && debited.is_none()) {
            (None, true) => Resolved::Base,
            (Some((version, value)), true) => Resolved::Value(version, value),
            (below, false) => Resolved::Deltas {
                sum,
                versions,
                below: match below {
                    Some((version, Value::Account(info))) => Some((version, info)),
                    _ => None,
                },
                debited,
            },
        })
    }

    /// The account write beneath any balance deltas that `reader` sees at `location`, without
    /// summing the deltas: `None` for the base state. What a lazily read recipient depends on.
    pub(crate) fn read_underlying(
        &self,
        location: &Location,
        reader: TxIdx,
    ) -> Result<Option<(Version, Option<AccountInfo>)>, Blocked> {
        let Some((hash, shard)) = self.shard_if(&self.whole, location) else {
            return Ok(None);
        };
        let Some((tx, entry)) = shard
            .get(hash, location)
            .and_then(|versions| versions.highest_not_delta_below(reader))
        else {
            return Ok(None);
        };
        match entry {
            Entry::Estimate => Err(Blocked(*tx)),
            Entry::Data(incarnation, Value::Account(info)) => Ok(Some((
                Version {
                    tx: *tx,
                    incarnation: *incarnation,
                },
                info.clone(),
            ))),
            // Account locations hold only accounts and deltas.
            Entry::Data(..) => Ok(None),
        }
    }

    /// Whether `reader` would read `location` from the same versions as `origin` records, in
    /// the block of `transactions`.
    pub(crate) fn still_reads(
        &self,
        location: &Location,
        reader: TxIdx,
        origin: &ReadOrigin,
        transactions: &[Recovered<TxEnvelope>],
    ) -> bool {
        if let ReadOrigin::Code { code_hash, base } = origin {
            return match self.read_underlying(location, reader) {
                Ok(None) => *base,
                Ok(Some((_, info))) => info.is_some_and(|info| info.code_hash == *code_hash),
                Err(Blocked(_)) => false,
            };
        }
        if let ReadOrigin::Codeless(underlying) = origin {
            return match self.read_underlying(location, reader) {
                Ok(now) => now.map(|(version, _)| version) == *underlying,
                Err(Blocked(_)) => false,
            };
        }
        match self.read(location, reader, transactions) {
            Ok(resolved) => resolved.into_origin() == *origin,
            Err(Blocked(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Address = Address::with_last_byte(0xaa);

    fn v(tx: TxIdx, incarnation: Incarnation) -> Version {
        Version { tx, incarnation }
    }

    #[test]
    fn reads_the_highest_lower_write() {
        let mv = MvMemory::new(8, Address::ZERO, Debits::default());
        let slot = Location::Storage(A, U256::from(1));
        mv.record(v(1, 0), &[], &[(slot, Value::Storage(U256::from(10)))]);
        mv.record(v(3, 0), &[], &[(slot, Value::Storage(U256::from(30)))]);
        assert_eq!(mv.read(&slot, 0, &[]), Ok(Resolved::Base));
        assert_eq!(mv.read(&slot, 1, &[]), Ok(Resolved::Base));
        assert_eq!(
            mv.read(&slot, 3, &[]),
            Ok(Resolved::Value(v(1, 0), Value::Storage(U256::from(10))))
        );
        assert_eq!(
            mv.read(&slot, 9, &[]),
            Ok(Resolved::Value(v(3, 0), Value::Storage(U256::from(30))))
        );
    }

    #[test]
    fn estimates_block_readers_above_and_new_writes_are_reported() {
        let mv = MvMemory::new(8, Address::ZERO, Debits::default());
        let slot = Location::Storage(A, U256::ZERO);
        assert!(
            mv.record(v(2, 0), &[], &[(slot, Value::Storage(U256::from(1)))])
                .0
        );
        mv.convert_writes_to_estimates(2, &[(slot, Value::Storage(U256::from(1)))]);
        assert_eq!(mv.read(&slot, 5, &[]), Err(Blocked(2)));
        assert_eq!(mv.read(&slot, 2, &[]), Ok(Resolved::Base));
        // The next incarnation writes the same location: nothing new.
        let one = [(slot, Value::Storage(U256::from(1)))];
        assert!(
            !mv.record(v(2, 1), &one, &[(slot, Value::Storage(U256::from(2)))])
                .0
        );
        // An incarnation that stops writing it removes the entry.
        assert!(!mv.record(v(2, 2), &one, &[]).0);
        assert_eq!(mv.read(&slot, 5, &[]), Ok(Resolved::Base));
    }

    #[test]
    fn wipes_are_seen_through_the_filter_and_their_removal_too() {
        let mv = MvMemory::new(8, Address::ZERO, Debits::default());
        let wipe = Location::StorageWipe(A);
        let other = Location::StorageWipe(Address::with_last_byte(0xbb));
        assert_eq!(mv.read(&wipe, 5, &[]), Ok(Resolved::Base));
        mv.record(v(2, 0), &[], &[(wipe, Value::StorageWipe)]);
        assert_eq!(
            mv.read(&wipe, 5, &[]),
            Ok(Resolved::Value(v(2, 0), Value::StorageWipe))
        );
        assert_eq!(mv.read(&wipe, 2, &[]), Ok(Resolved::Base));
        assert_eq!(mv.read(&other, 5, &[]), Ok(Resolved::Base));
        // The next incarnation no longer wipes: the bit stays set, the read finds no entry.
        mv.record(v(2, 1), &[(wipe, Value::StorageWipe)], &[]);
        assert_eq!(mv.read(&wipe, 5, &[]), Ok(Resolved::Base));
        assert!(mv.still_reads(&wipe, 5, &ReadOrigin::Base, &[]));
    }

    #[test]
    fn an_account_of_deltas_alone_reads_the_base_beneath_until_an_estimate_or_a_write() {
        let mv = MvMemory::new(8, Address::ZERO, Debits::default());
        let account = Location::Account(A);
        let delta = [(account, Value::BalanceDelta(U256::from(5)))];
        mv.record(v(1, 0), &[], &delta);
        mv.record(v(2, 0), &[], &delta);
        // Only deltas: the filter of whole writes answers, the deltas are still summed.
        assert_eq!(mv.read_underlying(&account, 4), Ok(None));
        assert!(mv.still_reads(&account, 4, &ReadOrigin::Codeless(None), &[]));
        assert!(matches!(
            mv.read(&account, 4, &[]),
            Ok(Resolved::Deltas { sum, .. }) if sum == U256::from(10)
        ));
        // A delta turned into an estimate is seen beneath the recipient.
        mv.convert_writes_to_estimates(2, &delta);
        assert_eq!(mv.read_underlying(&account, 4), Err(Blocked(2)));
        assert!(!mv.still_reads(&account, 4, &ReadOrigin::Codeless(None), &[]));
        assert_eq!(mv.read_underlying(&account, 2), Ok(None));
        // So is a whole write, once the estimate is a delta again.
        mv.record(v(2, 1), &delta, &delta);
        let info = AccountInfo::default().with_balance(U256::from(1));
        mv.record(v(3, 0), &[], &[(account, Value::Account(Some(info)))]);
        assert_eq!(
            mv.read_underlying(&account, 4)
                .unwrap()
                .map(|(version, _)| version),
            Some(v(3, 0))
        );
        assert_eq!(mv.read_underlying(&account, 3), Ok(None));
    }

    #[test]
    fn balance_deltas_sum_down_to_a_write_or_the_base() {
        // Balance deltas in the shards (contracts credited while read for their code alone).
        balance_deltas_of(MvMemory::new(8, Address::ZERO, Debits::default()));
    }

    #[test]
    fn the_beneficiarys_fees_sum_down_to_a_write_or_the_base() {
        // The beneficiary's fees, in their slots beside the shards.
        balance_deltas_of(MvMemory::new(8, A, Debits::default()));
    }

    fn balance_deltas_of(mv: MvMemory) {
        let account = Location::Account(A);
        let delta = |n: u64| Value::BalanceDelta(U256::from(n));
        mv.record(v(0, 0), &[], &[(account, delta(1))]);
        mv.record(v(1, 0), &[], &[(account, delta(2))]);
        let info = AccountInfo::default().with_balance(U256::from(100));
        mv.record(
            v(2, 0),
            &[],
            &[(account, Value::Account(Some(info.clone())))],
        );
        mv.record(v(3, 0), &[], &[(account, delta(4))]);
        assert_eq!(
            mv.read(&account, 2, &[]),
            Ok(Resolved::Deltas {
                sum: U256::from(3),
                versions: vec![v(1, 0), v(0, 0)],
                below: None,
                debited: None
            })
        );
        assert_eq!(
            mv.read(&account, 4, &[]),
            Ok(Resolved::Deltas {
                sum: U256::from(4),
                versions: vec![v(3, 0)],
                below: Some((v(2, 0), Some(info.clone()))),
                debited: None
            })
        );
        assert_eq!(
            mv.read_underlying(&account, 4)
                .unwrap()
                .map(|(version, _)| version),
            Some(v(2, 0))
        );
        assert_eq!(mv.read_underlying(&account, 2), Ok(None));
        let wrote = [(account, Value::Account(Some(info.clone())))];
        mv.convert_writes_to_estimates(2, &wrote);
        assert_eq!(mv.read_underlying(&account, 4), Err(Blocked(2)));
        assert_eq!(mv.read(&account, 4, &[]), Err(Blocked(2)));
        mv.record(v(2, 1), &wrote, &[(account, delta(9))]);
        assert_eq!(mv.read_underlying(&account, 4), Ok(None));
        assert_eq!(
            mv.read(&account, 3, &[]),
            Ok(Resolved::Deltas {
                sum: U256::from(12),
                versions: vec![v(2, 1), v(1, 0), v(0, 0)],
                below: None,
                debited: None
            })
        );
        let info = AccountInfo::default().with_balance(U256::from(100));
        mv.record(
            v(2, 2),
            &[(account, delta(9))],
            &[(account, Value::Account(Some(info)))],
        );
        let origin = mv.read(&account, 4, &[]).unwrap().into_origin();
        assert!(mv.still_reads(&account, 4, &origin, &[]));
        mv.record(v(3, 1), &[(account, delta(4))], &[(account, delta(5))]);
        assert!(!mv.still_reads(&account, 4, &origin, &[]));
        // A delta turned into an estimate blocks the readers above.
        mv.convert_writes_to_estimates(3, &[(account, delta(5))]);
        assert_eq!(mv.read(&account, 4, &[]), Err(Blocked(3)));
        assert_eq!(mv.read(&account, 3, &[]).map(|_| ()), Ok(()));
    }

    /// A plain transfer of `value` wei from `sender` to `to`, at a gas price of 10.
    fn send(sender: Address, to: Address, value: u64) -> Recovered<TxEnvelope> {
        let tx = alloy_consensus::TxLegacy {
            to: alloy_primitives::TxKind::Call(to),
            value: U256::from(value),
            gas_price: 10,
            gas_limit: 21_000,
            ..Default::default()
        };
        crate::parallel::test_txs::signed(sender, tx)
    }

    /// A block whose transaction `i` sends `values[i]` wei to `A` (none for zero).
    fn transfers_into_a(values: &[u64]) -> Vec<Recovered<TxEnvelope>> {
        let sender = Address::with_last_byte(1);
        (values.iter())
            .map(|&value| send(sender, A, value))
            .collect()
    }

    #[test]
    fn credits_stay_out_of_the_shards_and_sum_for_whole_reads_only() {
        let block = transfers_into_a(&[0, 5, 7, 0, 0, 0]);
        let mv = MvMemory::new(block.len(), Address::ZERO, Debits::default());
        let account = Location::Account(A);
        let credit = [(account, Value::Credit)];
        mv.record(v(1, 0), &[], &credit);
        mv.record(v(2, 0), &[], &credit);
        let (hash, shard) = mv.shard(&account);
        assert!(shard.get(hash, &account).is_none());
        drop(shard);
        assert_eq!(mv.read(&account, 1, &block), Ok(Resolved::Base));
        assert_eq!(
            mv.read(&account, 4, &block),
            Ok(Resolved::Deltas {
                sum: U256::from(12),
                versions: vec![v(2, 0), v(1, 0)],
                below: None,
                debited: None
            })
        );
        // A lazy read looks beneath the credits, even while one is an estimate.
        assert_eq!(mv.read_underlying(&account, 4), Ok(None));
        mv.convert_writes_to_estimates(2, &credit);
        assert_eq!(mv.read(&account, 4, &block), Err(Blocked(2)));
        assert_eq!(mv.read(&account, 2, &block).map(|_| ()), Ok(()));
        assert!(mv.still_reads(&account, 4, &ReadOrigin::Codeless(None), &block));
        // A whole write above the credits hides them; one beneath, only those below it.
        mv.record(v(2, 1), &credit, &credit);
        let info = AccountInfo::default().with_balance(U256::from(100));
        let whole = [(account, Value::Account(Some(info.clone())))];
        mv.record(v(3, 0), &[], &whole);
        assert_eq!(
            mv.read(&account, 5, &block),
            Ok(Resolved::Value(v(3, 0), Value::Account(Some(info.clone()))))
        );
        mv.record(v(3, 1), &whole, &[]);
        mv.record(v(0, 0), &[], &whole);
        let origin = mv.read(&account, 5, &block).unwrap().into_origin();
        assert_eq!(
            origin,
            ReadOrigin::Deltas(vec![v(2, 1), v(1, 0)], Some(v(0, 0)))
        );
        assert!(mv.still_reads(&account, 5, &origin, &block));
        // An incarnation that writes the account whole instead drops its credit, and one that
        // credits it again drops the whole write.
        mv.record(v(1, 1), &credit, &whole);
        assert!(!mv.still_reads(&account, 5, &origin, &block));
        assert_eq!(
            mv.read(&account, 5, &block),
            Ok(Resolved::Deltas {
                sum: U256::from(7),
                versions: vec![v(2, 1)],
                below: Some((v(1, 1), Some(info))),
                debited: None
            })
        );
        mv.record(v(1, 2), &whole, &credit);
        assert_eq!(
            mv.read(&account, 5, &block).unwrap().into_origin(),
            ReadOrigin::Deltas(vec![v(2, 1), v(1, 2)], Some(v(0, 0)))
        );
        // No credit at all once the incarnation writes nothing there.
        mv.record(v(1, 3), &credit, &[]);
        assert_eq!(
            mv.read(&account, 5, &block).unwrap().into_origin(),
            ReadOrigin::Deltas(vec![v(2, 1)], Some(v(0, 0)))
        );
    }

    #[test]
    fn predicted_debits_stay_out_of_the_shards_and_readers_subtract_them_unless_written_whole() {
        use crate::parallel::debits::tests::{BENEFICIARY, london};
        let (payer, other, payee) = (A, Address::repeat_byte(0x6f), Address::repeat_byte(0xd0));
        let block = [
            send(payer, payee, 5),
            send(payer, payee, 5),
            send(payer, payee, 5),
            send(other, payee, 5),
        ];
        let cost = U256::from(5 + 21_000 * 10);
        let mv = MvMemory::new(4, BENEFICIARY, Debits::of_block(&block, &london()));
        assert_eq!(mv.predicted_debit(1), Some(cost));
        let account = Location::Account(payer);
        let debit = [(account, Value::Debit)];
        // Whether or not a transfer below has run, its reader subtracts its debit.
        assert!(!mv.record(v(0, 0), &[], &debit).0);
        let (hash, shard) = mv.shard(&account);
        assert!(shard.get(hash, &account).is_none());
        drop(shard);
        assert_eq!(mv.read(&account, 0, &block), Ok(Resolved::Base));
        let debited = |n: u64| Some((cost * U256::from(n), n));
        let deltas = |below, debited| Resolved::Deltas {
            sum: U256::ZERO,
            versions: Vec::new(),
            below,
            debited,
        };
        assert_eq!(mv.read(&account, 2, &block), Ok(deltas(None, debited(2))));
        // A transfer that turned out otherwise writes the account whole, beneath the rest.
        let info = AccountInfo::default().with_balance(U256::from(100));
        let whole = [(account, Value::Account(Some(info.clone())))];
        assert!(mv.record(v(1, 0), &[], &whole).0);
        let below = Some((v(1, 0), Some(info)));
        assert_eq!(mv.read(&account, 3, &block), Ok(deltas(below, debited(1))));
        let origin = mv.read(&account, 3, &block).unwrap().into_origin();
        assert!(mv.still_reads(&account, 3, &origin, &block));
        // Its next incarnation debits as predicted: the whole write leaves the shards, and an
        // estimate changes nothing a reader sees.
        assert!(!mv.record(v(1, 1), &whole, &debit).0);
        assert!(!mv.still_reads(&account, 3, &origin, &block));
        mv.convert_writes_to_estimates(1, &debit);
        assert_eq!(mv.read(&account, 3, &block), Ok(deltas(None, debited(3))));
        // Turned back into a whole write, it is new to readers again.
        assert!(mv.record(v(1, 2), &debit, &whole).0);
    }

    #[test]
    fn fees_credits_and_debits_go_unpublished_and_the_whole_reads_they_change_are_read_again() {
        let beneficiary = Address::repeat_byte(0xfe);
        let mv = MvMemory::new(4, beneficiary, Debits::default());
        let fee = (
            Location::Account(beneficiary),
            Value::BalanceDelta(U256::from(3)),
        );
        let credit = || (Location::Account(A), Value::Credit);
        let debit = (Location::Account(Address::with_last_byte(1)), Value::Debit);
        assert_eq!(mv.record(v(1, 0), &[], &[fee, credit(), debit]).1, 0);
        assert_eq!(mv.published(), 0);
        // Whole reads of the beneficiary and of the credited account are read again; a lazy
        // read of the recipient, or a read of another account, trusts the log.
        let untouched = |location, origin| mv.untouched(0, 0, 3, &[(location, origin)]);
        assert!(!untouched(Location::Account(beneficiary), ReadOrigin::Base));
        assert!(!untouched(Location::Account(A), ReadOrigin::Base));
        assert!(untouched(Location::Account(A), ReadOrigin::Codeless(None)));
        let other = Location::Account(Address::repeat_byte(0x77));
        assert!(untouched(other, ReadOrigin::Base));
        // A write into the shards is published, and seen by a read of its location only.
        let slot = Location::Storage(A, U256::ZERO);
        let (_, number) = mv.record(v(2, 0), &[], &[(slot, Value::Storage(U256::from(1)))]);
        assert_eq!(number, 1);
        assert!(!mv.untouched(0, number, 3, &[(slot, ReadOrigin::Base)]));
        assert!(mv.untouched(0, number, 3, &[(other, ReadOrigin::Base)]));
        // So is the removal of a whole write by an incarnation that only credits.
        let whole = [(Location::Account(A), Value::Account(None))];
        assert_eq!(mv.record(v(0, 0), &[], &whole).1, 2);
        assert_eq!(mv.record(v(0, 1), &whole, &[credit()]).1, 3);
    }
}
