//! What plain transfers cost their senders, known before they run, so that a sender's
//! transactions stop depending on each other (a payout batch) and a sender's write stays out
//! of the multi-version memory's shards.
//!
//! A transfer of value without calldata or access list, into an account without code, costs
//! its sender the value and 21,000 gas at the transaction's gas price, and raises its nonce by
//! one; nothing in the execution depends on the sender's balance beyond the check that it
//! suffices. So a read of the sender need not wait for such a transfer below it: it takes the
//! highest whole write of the account below the reader (or the base state) and subtracts the
//! *predicted* debits of the sender's transfers in between. The worker that executes one
//! checks that the sender changed exactly so, and then writes a [`super::mv_memory::Value::Debit`],
//! which no reader looks up, since each predicted it; otherwise it writes the sender whole,
//! which validation sees like any write. A sender's other transactions (contract calls) write
//! it whole as before. A read does not wait for one that has not run yet: it reads beneath it,
//! and is aborted when it writes (the scheduler's hints make it wait for its first execution).

use super::{lazy_recipient, mv_memory::TxIdx};
use crate::Chain;
use alloy_consensus::{Header, Transaction, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, U256, map::FbBuildHasher};
use hashbrown::HashMap;
use revm::primitives::hardfork::SpecId;
use std::{hash::BuildHasher, sync::OnceLock};

/// The gas a transfer without calldata or access list uses, on every fork so far.
const PLAIN_TRANSFER_GAS: u64 = 21_000;

/// Bits of the filter of senders per transaction: two of them per sender, so that about one
/// read in 60 of an account that sends nothing predicted finds both set by chance.
const FILTER_BITS_PER_TX: usize = 16;

/// Which transactions of a block have a predicted debit, and what it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DebitRule {
    beneficiary: Address,
    spurious_dragon: bool,
    base_fee: Option<u64>,
}

impl DebitRule {
    /// The rule for the block with this header on `chain`.
    pub(crate) fn new(chain: &Chain, header: &Header) -> Self {
        let spec = chain.spec_id(header.number, header.timestamp);
        Self {
            beneficiary: header.beneficiary,
            spurious_dragon: spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
            base_fee: header.base_fee_per_gas,
        }
    }

    /// What `tx` costs its sender if it is a plain transfer read lazily (see
    /// `lazy_recipient`) without calldata, access list or blobs; `None` for any other
    /// transaction. A sender that is the beneficiary (a mining pool's payouts) gets back the
    /// fee it pays. Only a guess until the worker that executes it compares it with what the
    /// sender paid.
    pub(crate) fn predict(&self, tx: &Recovered<TxEnvelope>) -> Option<U256> {
        let plain = tx.input().is_empty()
            && tx.access_list().is_none_or(|list| list.is_empty())
            && tx.blob_versioned_hashes().is_none();
        plain.then_some(())?;
        lazy_recipient(tx, self.beneficiary, self.spurious_dragon)?;
        let gas = U256::from(PLAIN_TRANSFER_GAS);
        let price = tx.effective_gas_price(self.base_fee);
        let paid = U256::from(price).saturating_mul(gas);
        if !self.pays_fee(tx) {
            // The beneficiary's fee, as the handler computes it: the price above the base fee
            // from London on, the whole price before.
            let tip = price.saturating_sub(u128::from(self.base_fee.unwrap_or_default()));
            let fee = U256::from(tip).saturating_mul(gas);
            return Some(tx.value().saturating_add(paid.saturating_sub(fee)));
        }
        Some(tx.value().saturating_add(paid))
    }

    /// Whether `tx` pays its fee to another account than its sender: one from the beneficiary
    /// gets it back in its own write of the account, not as a balance delta.
    pub(crate) fn pays_fee(&self, tx: &Recovered<TxEnvelope>) -> bool {
        tx.signer() != self.beneficiary
    }
}

/// A sender's predicted debits up to one of its transactions, that one included.
#[derive(Debug, Clone, Copy, Default)]
struct Running {
    sum: U256,
    count: u64,
}

/// The predicted debits of a block's senders, built by the survey in its pass over the
/// senders (see `fallback`).
#[derive(Debug, Default)]
pub(crate) struct Debits {
    /// Per transaction, the previous one of its sender.
    previous: Vec<Option<TxIdx>>,
    /// Per transaction, its sender's predicted debits up to it.
    running: Vec<Running>,
    /// The senders of predicted debits, two bits each in one word.
    senders: Box<[u64]>,
    hasher: FbBuildHasher<20>,
    /// Each such sender's transactions in order, built at the first read that needs them: a
    /// read of a sender by another sender's transaction, or beneath a write by one.
    by_sender: OnceLock<HashMap<Address, Vec<TxIdx>, FbBuildHasher<20>>>,
    /// The transactions that may owe the beneficiary a fee as a balance delta, once one from
    /// the beneficiary itself is seen (`None`: every transaction): a read of the beneficiary
    /// looks at theirs alone, not at each of a mining pool's hundreds of payouts.
    fee_payers: Option<Vec<TxIdx>>,
}

impl Debits {
    /// Room for a block of `txs` transactions, whose senders `hasher` hashes.
    pub(crate) fn with_capacity(txs: usize, hasher: FbBuildHasher<20>) -> Self {
        let words = (txs.saturating_mul(FILTER_BITS_PER_TX) / 64)
            .max(16)
            .next_power_of_two();
        Self {
            previous: Vec::with_capacity(txs),
            running: Vec::with_capacity(txs),
            senders: vec![0; words].into_boxed_slice(),
            hasher,
            by_sender: OnceLock::new(),
            fee_payers: None,
        }
    }

    /// Adds the block's next transaction: the previous one of its sender, its predicted debit,
    /// whether it `pays_fee` (see [`DebitRule::pays_fee`]), and its sender's hash by the hasher
    /// given at [`Debits::with_capacity`].
    pub(crate) fn push(
        &mut self,
        previous: Option<TxIdx>,
        debit: Option<U256>,
        pays_fee: bool,
        sender_hash: u64,
    ) {
        let index = self.running.len();
        match &mut self.fee_payers {
            Some(payers) if pays_fee => payers.push(index),
            Some(_) => {}
            None if pays_fee => {}
            None => self.fee_payers = Some((0..index).collect()),
        }
        let mut running = (previous.and_then(|previous| self.running.get(previous)))
            .copied()
            .unwrap_or_default();
        if let Some(debit) = debit {
            running.sum = running.sum.saturating_add(debit);
            running.count += 1;
            let (word, bits) = self.bits(sender_hash);
            if let Some(word) = self.senders.get_mut(word) {
                *word |= bits;
            }
        }
        self.previous.push(previous);
        self.running.push(running);
    }

    /// The transactions in `range` that may owe the beneficiary a fee, highest first.
    pub(crate) fn fee_payers_down(
        &self,
        range: std::ops::Range<TxIdx>,
    ) -> impl Iterator<Item = TxIdx> + '_ {
        let (all, listed) = match &self.fee_payers {
            None => (Some(range), None),
            Some(payers) => {
                let start = payers.partition_point(|tx| *tx < range.start);
                let end = payers.partition_point(|tx| *tx < range.end);
                (None, payers.get(start..end))
            }
        };
        let listed = listed.into_iter().flatten().copied();
        all.into_iter().flatten().chain(listed).rev()
    }

    /// Whether `tx` has a predicted debit.
    pub(crate) fn is_predicted(&self, tx: TxIdx) -> bool {
        self.predicted(tx).is_some()
    }

    /// The debit predicted for `tx`, if any.
    pub(crate) fn predicted(&self, tx: TxIdx) -> Option<U256> {
        let running = self.running.get(tx)?;
        let before = self.before(tx);
        (running.count > before.count).then(|| running.sum.saturating_sub(before.sum))
    }

    /// The sender's predicted debits below `tx`.
    fn before(&self, tx: TxIdx) -> Running {
        (self.previous.get(tx).copied().flatten())
            .and_then(|previous| self.running.get(previous))
            .copied()
            .unwrap_or_default()
    }

    /// The word and two bits of a sender's hash.
    fn bits(&self, hash: u64) -> (usize, u64) {
        let word = (hash >> 12) as usize & self.senders.len().wrapping_sub(1);
        (word, 1 << (hash % 64) | 1 << ((hash >> 6) % 64))
    }

    /// Whether `address` may send a transaction with a predicted debit.
    fn may_send(&self, address: Address) -> bool {
        let (word, bits) = self.bits(self.hasher.hash_one(address));
        self.senders
            .get(word)
            .is_some_and(|word| word & bits == bits)
    }

    /// The last transaction of `sender` below `end`, among the block's `transactions`.
    fn last_below(
        &self,
        sender: Address,
        end: TxIdx,
        transactions: &[Recovered<TxEnvelope>],
    ) -> Option<TxIdx> {
        let by_sender = self.by_sender.get_or_init(|| {
            let mut by_sender: HashMap<_, Vec<_>, _> = HashMap::default();
            for (tx, transaction) in transactions.iter().enumerate() {
                let signer = transaction.signer();
                if self.may_send(signer) {
                    by_sender.entry(signer).or_default().push(tx);
                }
            }
            by_sender
        });
        let txs = by_sender.get(&sender)?;
        let at = txs.partition_point(|tx| *tx < end);
        txs.get(at.checked_sub(1)?).copied()
    }

    /// The predicted debits of `account`'s transactions above `since` (the transaction that
    /// last wrote it whole; `None`: none did, from the block's start) and below `reader`:
    /// their sum, and their number, by which the nonce rose.
    pub(crate) fn between(
        &self,
        account: Address,
        since: Option<TxIdx>,
        reader: TxIdx,
        transactions: &[Recovered<TxEnvelope>],
    ) -> Option<(U256, u64)> {
        let sends = |tx: TxIdx| {
            transactions
                .get(tx)
                .is_some_and(|tx| tx.signer() == account)
        };
        // Mostly a transaction reads its own sender: the previous transaction is at hand.
        let top = if sends(reader) {
            self.previous.get(reader).copied().flatten()
        } else if self.may_send(account) {
            self.last_below(account, reader, transactions)
        } else {
            None
        }?;
        let top = *self.running.get(top)?;
        if top.count == 0 {
            return None;
        }
        let bottom = match since {
            None => None,
            Some(since) if sends(since) => Some(since),
            Some(since) => self.last_below(account, since + 1, transactions),
        };
        let bottom = (bottom.and_then(|bottom| self.running.get(bottom)))
            .copied()
            .unwrap_or_default();
        let count = top.count.saturating_sub(bottom.count);
        (count > 0).then(|| (top.sum.saturating_sub(bottom.sum), count))
    }
}

#[cfg(test)]
impl Debits {
    /// The debits of `block` by `rule`, as the survey finds them.
    pub(super) fn of_block(block: &[Recovered<TxEnvelope>], rule: &DebitRule) -> Self {
        let hasher = FbBuildHasher::<20>::default();
        let mut debits = Self::with_capacity(block.len(), hasher.clone());
        for (index, tx) in block.iter().enumerate() {
            let earlier = block.get(..index).unwrap_or_default();
            let previous = earlier
                .iter()
                .rposition(|other| other.signer() == tx.signer());
            let hash = hasher.hash_one(tx.signer());
            debits.push(previous, rule.predict(tx), rule.pays_fee(tx), hash);
        }
        debits
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::parallel::test_txs::signed;
    use alloy_consensus::TxLegacy;
    use alloy_primitives::TxKind;

    pub(crate) const BENEFICIARY: Address = Address::repeat_byte(0xfe);
    const PAYER: Address = Address::repeat_byte(0x5e);
    const OTHER: Address = Address::repeat_byte(0x6f);
    const PAYEE: Address = Address::repeat_byte(0xd0);

    /// A London block's rule: a base fee of 7.
    pub(crate) fn london() -> DebitRule {
        DebitRule {
            beneficiary: BENEFICIARY,
            spurious_dragon: true,
            base_fee: Some(7),
        }
    }

    /// A transfer of `value` wei at a gas price of 10 with `input_len` bytes of calldata.
    pub(crate) fn send(
        sender: Address,
        to: Address,
        value: u64,
        input_len: usize,
    ) -> Recovered<TxEnvelope> {
        let tx = TxLegacy {
            to: TxKind::Call(to),
            value: U256::from(value),
            gas_price: 10,
            gas_limit: 50_000,
            input: vec![1; input_len].into(),
            ..TxLegacy::default()
        };
        signed(sender, tx)
    }

    #[test]
    fn a_plain_transfer_costs_its_value_and_its_gas_and_a_payout_gets_its_fee_back() {
        let rule = london();
        let predict = |rule: &DebitRule, sender, to, value, input_len| {
            rule.predict(&send(sender, to, value, input_len))
        };
        let wei = |n: u64| Some(U256::from(n));
        assert_eq!(predict(&rule, PAYER, PAYEE, 5, 0), wei(5 + 21_000 * 10));
        // From the beneficiary: the price above the base fee comes back as its fee; before
        // London, the whole price does.
        assert_eq!(
            predict(&rule, BENEFICIARY, PAYEE, 5, 0),
            wei(5 + 21_000 * 7)
        );
        let before_london = DebitRule {
            base_fee: None,
            ..rule
        };
        assert_eq!(predict(&before_london, BENEFICIARY, PAYEE, 5, 0), wei(5));
        // Not with calldata, into a precompile's range, without value, or before Spurious
        // Dragon.
        assert_eq!(predict(&rule, PAYER, PAYEE, 5, 1), None);
        assert_eq!(
            predict(&rule, PAYER, Address::with_last_byte(9), 5, 0),
            None
        );
        assert_eq!(predict(&rule, PAYER, PAYEE, 0, 0), None);
        let homestead = DebitRule {
            spurious_dragon: false,
            ..rule
        };
        assert_eq!(predict(&homestead, PAYER, PAYEE, 5, 0), None);
    }

    #[test]
    fn a_read_subtracts_the_predicted_debits_above_the_last_whole_write() {
        let cost = 5 + 21_000 * 10;
        // The payer's transfers, but for 2, a call with calldata; 4 is another sender's.
        let block = [
            send(PAYER, PAYEE, 5, 0),
            send(PAYER, PAYEE, 5, 0),
            send(PAYER, PAYEE, 5, 4),
            send(PAYER, PAYEE, 5, 0),
            send(OTHER, PAYEE, 5, 0),
            send(PAYER, PAYEE, 5, 0),
        ];
        let debits = Debits::of_block(&block, &london());
        let predicted: Vec<_> = (0..6).map(|tx| debits.predicted(tx)).collect();
        let one = Some(U256::from(cost));
        assert_eq!(predicted, [one, one, None, one, one, one]);
        let debited = |n: u64| Some((U256::from(n * cost), n));
        let between = |account, since, reader| debits.between(account, since, reader, &block);
        // The payer's own reads: its transfers below, down to the block's start or to the
        // last write of the account whole (by its own call, or by another's transaction).
        assert_eq!(between(PAYER, None, 0), None);
        assert_eq!(between(PAYER, None, 2), debited(2));
        assert_eq!(between(PAYER, None, 5), debited(3));
        assert_eq!(between(PAYER, Some(2), 5), debited(1));
        assert_eq!(between(PAYER, Some(1), 5), debited(1));
        assert_eq!(between(PAYER, Some(3), 5), None);
        assert_eq!(between(PAYER, Some(4), 5), None);
        // Another sender's reads find them too.
        assert_eq!(between(PAYER, None, 4), debited(3));
        assert_eq!(between(PAYER, Some(2), 4), debited(1));
        assert_eq!(between(OTHER, None, 5), debited(1));
        assert_eq!(between(OTHER, None, 4), None);
        // An account that sends nothing has nothing predicted.
        assert_eq!(between(PAYEE, None, 6), None);
    }

    #[test]
    fn a_read_of_the_beneficiary_looks_at_the_fees_of_other_senders_only() {
        let from = |senders: &[Address]| {
            let block: Vec<_> = (senders.iter())
                .map(|&sender| send(sender, PAYEE, 5, 0))
                .collect();
            Debits::of_block(&block, &london())
        };
        let down = |debits: &Debits, range| debits.fee_payers_down(range).collect::<Vec<_>>();
        let payouts = from(&[BENEFICIARY, PAYER, BENEFICIARY, BENEFICIARY, OTHER]);
        assert_eq!(down(&payouts, 0..5), [4, 1]);
        assert_eq!(down(&payouts, 0..4), [1]);
        assert!(down(&payouts, 2..4).is_empty());
        // Without a transaction from the beneficiary, every one.
        assert_eq!(down(&from(&[PAYER, OTHER, PAYER]), 1..3), [2, 1]);
    }
}
