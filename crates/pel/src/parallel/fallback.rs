//! The cheap look at a block, before executing it, that decides whether threads can pay.
//!
//! Three signs that they cannot, each measured on the mainnet fixtures and the synthetic
//! workloads (BENCHMARKS.md):
//! - little work: below [`MIN_PARALLEL_GAS`] the cost of starting workers and committing
//!   results in order is as large as the execution itself;
//! - a few hundred plain value transfers: each executes in a few microseconds, so Block-STM's
//!   costs per transaction and per block are as large as the block (thousands of them do pay,
//!   since the commit keeps merely changed accounts out of revm's `State`, see
//!   [`super::deferred`]). A block of as many transactions as cheap on average but of other
//!   kinds too does pay (mainnet 4330482, BENCHMARKS.md, fourteenth session);
//! - a long dependency chain: when one sender (a payout batch) or one recipient of plain
//!   transfers ties together most of the block's transactions and most of its gas, they must
//!   run one after another anyway. A recipient without code ties nothing together when the
//!   transfers into it are read lazily (see `lazy_recipient` in the parent module), and a
//!   sender ties nothing together through plain transfers, whose debits are predicted (see
//!   [`super::debits`]): only a sender's other transactions (contract calls) chain.

use super::{
    MIN_PARALLEL_TXS, codeless,
    debits::{DebitRule, Debits},
    lazy_recipient,
    mv_memory::TxIdx,
};
use crate::{BlockInput, StateProvider};
use alloy_consensus::{Transaction, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, map::FbBuildHasher};
use hashbrown::HashTable;
use revm::primitives::hardfork::SpecId;
use std::hash::BuildHasher;

/// Blocks expected to use less gas than this run sequentially.
pub const MIN_PARALLEL_GAS: u64 = 4_000_000;

/// Blocks where at least this share of transactions (in percent) are plain value transfers
/// run sequentially when they hold fewer than [`MIN_PARALLEL_TRANSFERS`] of them.
const MAX_PLAIN_TRANSFER_PERCENT: usize = 90;

/// The fewest plain transfers that pay for Block-STM in a block of little else: 8,000 run
/// 1.25x faster on two threads, mainnet block 6196166's 103 ran at 0.8x, 600 synthetic ones
/// at 1.0x.
const MIN_PARALLEL_TRANSFERS: usize = 1_000;

/// Blocks whose longest sender/recipient chain holds more than this share (in percent) of the
/// transactions and of the block's gas run sequentially. Gas as well as transactions: a
/// payout batch of a thousand cheap transfers beside a few hundred contract calls still leaves
/// the threads half the work (mainnet 15274915: 81% of the transactions, 54% of the gas, runs
/// 1.2x faster on two threads), while one of 99% of the gas did not pay (13287210, before its
/// plain transfers' debits were predicted and its chain went away). And one transaction with a
/// large gas limit is no chain (15537394).
const MAX_CHAIN_PERCENT: u128 = 60;

/// Why a block is better run sequentially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unprofitable {
    /// Too few transactions or too little gas.
    Small,
    /// Mostly plain value transfers, too few to pay for the threads.
    Transfers,
    /// Most of the block's transactions, holding most of its gas, depend on each other
    /// through one sender or recipient.
    Chained,
}

/// Whether `block` is better run sequentially on `chain` from the state `db`, and why. The
/// state tells whether the recipients of plain transfers have code.
pub fn unprofitable<DB: StateProvider>(
    chain: &crate::Chain,
    block: &BlockInput,
    db: &DB,
) -> Option<Unprofitable> {
    let rule = DebitRule::new(chain, &block.header);
    Survey::of(block, &rule, Some(&Recipients::new(chain, block, db))).unprofitable
}

/// What the chain judgement asks about the recipients of plain transfers: whether transfers
/// into one of them depend on each other. Not when they are read lazily (a balance delta
/// each) and the recipient has no code: mainnet 14396881's 1,197 deposits into one exchange
/// account ran 0.90x-1.89x as fast on two threads as sequentially in nine processes (1.18x or
/// more in eight), against 0.93x-1.01x in order.
pub(crate) struct Recipients<'a, DB> {
    beneficiary: Address,
    spurious_dragon: bool,
    /// The state before the block, asked once per recipient of several transfers.
    db: &'a DB,
}

impl<'a, DB: StateProvider> Recipients<'a, DB> {
    pub(crate) fn new(chain: &crate::Chain, block: &BlockInput, db: &'a DB) -> Self {
        let header = &block.header;
        let spec = chain.spec_id(header.number, header.timestamp);
        Self {
            beneficiary: header.beneficiary,
            spurious_dragon: spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
            db,
        }
    }

    /// Whether `tx`, a plain transfer, is read lazily when its recipient has no code.
    fn lazy(&self, tx: &Recovered<TxEnvelope>) -> bool {
        lazy_recipient(tx, self.beneficiary, self.spurious_dragon).is_some()
    }

    /// Whether the account at `address` has code before the block; one that cannot be read
    /// counts as having it, so that the transfers into it count as a chain.
    fn has_code(&self, address: Address) -> bool {
        (self.db.basic_ref(address)).map_or(true, |info| !codeless(info.as_ref()))
    }
}

/// What a look at a block's transactions shows before any of them runs: a pass without a map
/// (the cheap signs), then one pass with the tables of senders and recipients. Only one with
/// tables, since on blocks of thousands of cheap transactions each costs a few percent of
/// executing them (8,000 transfers: an address map of their senders took 0.25 ms on an Intel
/// host, 0.5-1.4 ms on an AMD one, where the pass with both tables now takes 1.2 ms).
#[derive(Debug)]
pub(crate) struct Survey {
    /// Whether and why the block is better run sequentially, if it was judged.
    pub(crate) unprofitable: Option<Unprofitable>,
    /// For each transaction, the last one below it from the same sender without a predicted
    /// debit (see [`super::debits`]): it reads the nonce and balance that one writes, so
    /// running it earlier would only be aborted. Empty when the block is unprofitable.
    pub(crate) sender_hints: Vec<Option<TxIdx>>,
    /// The senders' predicted debits; empty when the block is unprofitable.
    pub(crate) debits: Debits,
}

impl Survey {
    /// The survey of `block`, whose debits `rule` predicts; given `judge` (what it asks of
    /// the recipients), it judges whether the block is profitable, else it gives only the
    /// hints and the debits.
    pub(crate) fn of<DB: StateProvider>(
        block: &BlockInput,
        rule: &DebitRule,
        judge: Option<&Recipients<'_, DB>>,
    ) -> Self {
        let totals = judge.map(|_| Totals::of(block));
        if let Some(why) = totals
            .as_ref()
            .and_then(|totals| cheap_signs(block, totals))
        {
            return Self {
                unprofitable: Some(why),
                sender_hints: Vec::new(),
                debits: Debits::default(),
            };
        }
        let judged =
            (totals.zip(judge)).map(|(totals, recipients)| (totals.gas_limits, recipients));
        let (sender_hints, debits, chained) = chains(block, rule, judged);
        if chained {
            return Self {
                unprofitable: Some(Unprofitable::Chained),
                sender_hints: Vec::new(),
                debits: Debits::default(),
            };
        }
        Self {
            unprofitable: None,
            sender_hints,
            debits,
        }
    }
}

/// What the judgement needs of every transaction, counted in one pass without a map.
#[derive(Debug, Clone, Copy)]
struct Totals {
    /// Plain value transfers.
    plain: usize,
    /// The sum of the gas limits.
    gas_limits: u64,
}

impl Totals {
    fn of(block: &BlockInput) -> Self {
        (block.transactions.iter()).fold(
            Self {
                plain: 0,
                gas_limits: 0,
            },
            |totals, tx| Self {
                plain: totals.plain + usize::from(is_plain(tx)),
                gas_limits: totals.gas_limits.saturating_add(tx.gas_limit()),
            },
        )
    }
}

/// The signs that need no map of accounts: a small block, or one of a few hundred plain
/// transfers.
fn cheap_signs(block: &BlockInput, totals: &Totals) -> Option<Unprofitable> {
    let txs = &block.transactions;
    let gas = if block.header.gas_used > 0 {
        block.header.gas_used
    } else {
        totals.gas_limits.min(block.header.gas_limit)
    };
    if txs.len() < MIN_PARALLEL_TXS || gas < MIN_PARALLEL_GAS {
        return Some(Unprofitable::Small);
    }
    let plain = totals.plain;
    (plain * 100 >= txs.len() * MAX_PLAIN_TRANSFER_PERCENT && plain < MIN_PARALLEL_TRANSFERS)
        .then_some(Unprofitable::Transfers)
}

/// Each transaction's hint (the last one below it from the same sender without a predicted
/// debit) and the senders' predicted debits by `rule`, and, given the sum of the block's gas
/// limits and what to ask of recipients (`None`: the hints and debits alone), whether one
/// chain of transactions through senders and plain transfers' recipients holds most of the
/// block's transactions and most of its gas. A transaction with a predicted debit neither
/// extends its sender's chain nor is extended by it: the sender's transactions read it
/// without it.
/// A chain that does is found as soon as it does, and the pass stops there: a block that runs
/// sequentially needs no hints (on 13287210's payout batch of 1,408 transactions the whole
/// pass took 56 us, 1.5% of the block; stopped, 39 us). The judgement ends as soon as no chain
/// can reach that share any more, and the hints go on alone.
///
/// The senders are found through a table of transaction indices (a sender stands for its
/// first transaction, whose index keys the sender's values), 8 bytes per entry instead of an
/// address map's 56, and so are the recipients. With address maps and no early end, this pass
/// took 4.2 ms of a 46 ms block of 8,000 transfers on two threads; now 1.2 ms (15274915: 310
/// -> 112 us).
pub(super) fn chains<DB: StateProvider>(
    block: &BlockInput,
    rule: &DebitRule,
    judged: Option<(u64, &Recipients<'_, DB>)>,
) -> (Vec<Option<TxIdx>>, Debits, bool) {
    let txs = &block.transactions;
    let signers: Vec<Address> = txs.iter().map(|tx| tx.signer()).collect();
    let signer = |index: TxIdx| signers.get(index).copied().unwrap_or_default();
    let hasher = FbBuildHasher::<20>::default();
    let mut senders: HashTable<TxIdx> = HashTable::with_capacity(txs.len());
    // At a sender's first transaction: the sender's last transaction so far.
    let mut last: Vec<TxIdx> = vec![0; txs.len()];
    let mut hints: Vec<Option<TxIdx>> = Vec::with_capacity(txs.len());
    let mut debits = Debits::with_capacity(txs.len(), hasher.clone());
    let mut judge = judged.map(|(total_gas, recipients)| Judge::new(block, total_gas, recipients));
    for (index, tx) in txs.iter().enumerate() {
        let hash = hasher.hash_one(signer(index));
        let first = position(&mut senders, &hasher, hash, signer(index), signer, index);
        let previous = (last.get_mut(first))
            .map(|last| std::mem::replace(last, index))
            .filter(|_| first != index);
        let hint = previous.and_then(|previous| match debits.is_predicted(previous) {
            true => hints.get(previous).copied().flatten(),
            false => Some(previous),
        });
        hints.push(hint);
        let debit = rule.predict(tx);
        debits.push(previous, debit, rule.pays_fee(tx), hash);
        if let Some(open) = &mut judge {
            match open.add(first, tx, debit.is_some()) {
                Verdict::Chained => return (hints, debits, true),
                Verdict::NoChain => judge = None,
                Verdict::Open => {}
            }
        }
    }
    (hints, debits, false)
}

/// Where `address`, whose hash by `hasher` is `hash`, is in `table`, a table of positions
/// whose addresses `address_at` gives; `new` (inserted) if it is not there yet.
fn position(
    table: &mut HashTable<usize>,
    hasher: &FbBuildHasher<20>,
    hash: u64,
    address: Address,
    address_at: impl Fn(usize) -> Address,
    new: usize,
) -> usize {
    *(table.entry(
        hash,
        |&at| address_at(at) == address,
        |&at| hasher.hash_one(address_at(at)),
    ))
    .or_insert(new)
    .get()
}

/// The heaviest chains so far, while one may still hold most of the block.
struct Judge<'a, 'db, DB> {
    /// At a sender's first transaction: the heaviest chain through the sender.
    through_sender: Vec<Chain>,
    /// Plain transfers' recipients, each with the heaviest chain through it, found through
    /// `recipients`, a table of their positions here.
    through_recipient: Vec<Recipient>,
    recipients: HashTable<usize>,
    /// Whether the transfers into a recipient depend on each other.
    ask: &'a Recipients<'db, DB>,
    /// The hasher of `recipients`: one instance, since each is seeded at random.
    hasher: FbBuildHasher<20>,
    heaviest: Chain,
    /// The transactions and gas limits not yet added: at most what any chain can still gain.
    left: Chain,
    total: Chain,
}

/// A plain transfer's recipient, as the judgement knows it.
struct Recipient {
    address: Address,
    /// The heaviest chain through it.
    chain: Chain,
    /// Whether it has code, once a second transfer into it asked.
    has_code: Option<bool>,
}

/// What [`Judge::add`] knows after one more transaction.
enum Verdict {
    /// One chain holds most of the block's transactions and gas, whatever follows.
    Chained,
    /// No chain can reach that share any more.
    NoChain,
    /// Either may still be.
    Open,
}

impl<'a, 'db, DB: StateProvider> Judge<'a, 'db, DB> {
    fn new(block: &BlockInput, total_gas: u64, ask: &'a Recipients<'db, DB>) -> Self {
        let txs = block.transactions.len();
        let total = Chain {
            txs: txs as u64,
            gas: total_gas,
        };
        Self {
            through_sender: vec![Chain::default(); txs],
            // The judgement of a block of independent transactions ends after 40% of them.
            through_recipient: Vec::with_capacity(txs / 2),
            recipients: HashTable::with_capacity(txs / 2),
            ask,
            hasher: FbBuildHasher::default(),
            heaviest: Chain::default(),
            left: total,
            total,
        }
    }

    /// Adds `tx`, from the sender whose first transaction is `first`; `debited` if its debit
    /// is predicted, so that its sender's chain does not run through it.
    fn add(&mut self, first: TxIdx, tx: &Recovered<TxEnvelope>, debited: bool) -> Verdict {
        let share =
            |part: u64, whole: u64| u128::from(part) * 100 > u128::from(whole) * MAX_CHAIN_PERCENT;
        let Some(sender) = self.through_sender.get_mut(first) else {
            return Verdict::NoChain;
        };
        let mut chain = *sender;
        let recipient = match tx.to().filter(|_| is_plain(tx)) {
            Some(to) => {
                let through = &mut self.through_recipient;
                let address = |at: usize| through.get(at).map(|r| r.address).unwrap_or_default();
                let hash = self.hasher.hash_one(to);
                let at = position(
                    &mut self.recipients,
                    &self.hasher,
                    hash,
                    to,
                    address,
                    through.len(),
                );
                let first = at == through.len();
                if first {
                    through.push(Recipient {
                        address: to,
                        chain: Chain::default(),
                        has_code: None,
                    });
                }
                // A first transfer extends no chain through its recipient: whether it has code
                // is asked only of recipients of several.
                let ask = self.ask;
                (through.get_mut(at)).and_then(|recipient| {
                    let links = first
                        || !ask.lazy(tx)
                        || *(recipient.has_code).get_or_insert_with(|| ask.has_code(to));
                    if links {
                        chain = chain.longest(recipient.chain);
                    }
                    links.then_some(&mut recipient.chain)
                })
            }
            None => None,
        };
        let chain = Chain {
            txs: chain.txs + 1,
            gas: chain.gas.saturating_add(tx.gas_limit()),
        };
        if let Some(recipient) = recipient {
            *recipient = chain;
        }
        if !debited {
            *sender = chain;
        }
        self.heaviest = self.heaviest.longest(chain);
        self.left = Chain {
            txs: self.left.txs.saturating_sub(1),
            gas: self.left.gas.saturating_sub(tx.gas_limit()),
        };
        // Both measures only grow, each transaction adding to a chain one transaction and its
        // gas limit at most.
        let (heaviest, total) = (self.heaviest, self.total);
        if share(heaviest.txs, total.txs) && share(heaviest.gas, total.gas) {
            Verdict::Chained
        } else if !share(heaviest.txs + self.left.txs, total.txs)
            || !share(heaviest.gas.saturating_add(self.left.gas), total.gas)
        {
            Verdict::NoChain
        } else {
            Verdict::Open
        }
    }
}

/// Whether `tx` is a plain value transfer: a call without calldata.
fn is_plain(tx: &Recovered<TxEnvelope>) -> bool {
    tx.input().is_empty() && tx.to().is_some()
}

/// The transactions of a dependency chain known before execution, and their gas limits.
#[derive(Debug, Clone, Copy, Default)]
struct Chain {
    txs: u64,
    gas: u64,
}

impl Chain {
    /// Each measure's larger value: of the chains through a transaction's sender and its
    /// recipient, the one it extends is the longer, by either measure.
    fn longest(self, other: Self) -> Self {
        Self {
            txs: self.txs.max(other.txs),
            gas: self.gas.max(other.gas),
        }
    }
}
