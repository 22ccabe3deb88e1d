//! What a transaction owes outside the multi-version memory's shards: the fee it pays the
//! beneficiary and the credit a plain transfer pays its lazily read recipient, one slot per
//! transaction (see [`super::mv_memory`]), and the transfers that say who may be credited.

use super::locks::lock;
use super::mv_memory::{Incarnation, TxIdx};
use super::padded::Line;
use alloy_consensus::{Transaction, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, U256, map::FbBuildHasher};
use hashbrown::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The fee a transaction's latest incarnation owes the beneficiary as a balance delta.
#[derive(Debug, Clone, Copy)]
pub(super) enum Fee {
    Owed(Incarnation, U256),
    Estimate,
}

/// Whether a transaction's latest incarnation credited its lazily read recipient (with the
/// transaction's value, which the transaction itself says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Credit {
    Paid(Incarnation),
    Estimate,
}

/// What one transaction's latest incarnation owes outside the shards.
#[derive(Debug, Default)]
pub(super) struct Owed {
    pub(super) fee: Option<Fee>,
    pub(super) credit: Option<Credit>,
}

/// One transaction's fee and credit, on a cache line of its own: neighbouring transactions
/// run on different workers.
#[derive(Debug, Default)]
pub(super) struct DeltaSlot(Line<Mutex<Owed>>);

impl DeltaSlot {
    pub(super) fn lock(&self) -> MutexGuard<'_, Owed> {
        lock(&self.0)
    }
}

/// The block's value transfers by recipient: for each, the transactions that may credit it
/// lazily, in order, with the value. Built for a block at the first whole read of an account
/// that the filter of credited recipients holds: on the mainnet fixtures for 8 or 9 of the 27
/// blocks that run Block-STM, in 4-47 us each (a map of lists measured faster than one sorted
/// vector on the blocks of 1,000 transactions and more: 41-47 us against 85-96 us).
#[derive(Debug)]
pub(super) struct TransfersTo(HashMap<Address, Vec<(TxIdx, U256)>, FbBuildHasher<20>>);

impl TransfersTo {
    /// The transfers among `transactions`.
    pub(super) fn of(transactions: &[Recovered<TxEnvelope>]) -> Self {
        let mut transfers: HashMap<_, Vec<_>, _> = HashMap::default();
        for (tx, transaction) in transactions.iter().enumerate() {
            if let Some(to) = transaction.to()
                && !transaction.value().is_zero()
            {
                transfers
                    .entry(to)
                    .or_default()
                    .push((tx, transaction.value()));
            }
        }
        Self(transfers)
    }

    /// The transfers into `recipient` by the transactions in `range`, in order: each
    /// transaction and its value.
    pub(super) fn to(
        &self,
        recipient: Address,
        range: std::ops::Range<TxIdx>,
    ) -> impl Iterator<Item = (TxIdx, U256)> + '_ {
        let into = self.0.get(&recipient).map_or(&[][..], |into| &into[..]);
        let start = into.partition_point(|(tx, _)| *tx < range.start);
        let end = into.partition_point(|(tx, _)| *tx < range.end);
        into.get(start..end).unwrap_or_default().iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::test_txs::signed;
    use alloy_consensus::TxLegacy;
    use alloy_primitives::TxKind;

    fn transfer(to: TxKind, value: u64) -> Recovered<TxEnvelope> {
        let tx = TxLegacy {
            to,
            value: U256::from(value),
            gas_limit: 21_000,
            ..TxLegacy::default()
        };
        signed(Address::with_last_byte(1), tx)
    }

    #[test]
    fn the_transfers_into_a_recipient_are_those_with_a_value_in_order() {
        let (a, b) = (Address::with_last_byte(0xa), Address::with_last_byte(0xb));
        let block = [
            transfer(TxKind::Call(a), 3),
            transfer(TxKind::Call(b), 0),
            transfer(TxKind::Create, 9),
            transfer(TxKind::Call(a), 5),
            transfer(TxKind::Call(b), 1),
        ];
        let transfers = TransfersTo::of(&block);
        let into = |recipient, range| transfers.to(recipient, range).collect::<Vec<_>>();
        assert_eq!(into(a, 0..5), vec![(0, U256::from(3)), (3, U256::from(5))]);
        assert_eq!(into(a, 1..5), vec![(3, U256::from(5))]);
        assert_eq!(into(a, 0..3), vec![(0, U256::from(3))]);
        assert_eq!(into(b, 0..5), vec![(4, U256::from(1))]);
        assert!(into(b, 0..4).is_empty() && into(Address::ZERO, 0..5).is_empty());
    }
}
