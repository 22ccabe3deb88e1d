//! The cheap look at a block, before executing it, that decides whether threads can pay.
//!
//! Three signs that they cannot, each measured on the mainnet fixtures and the synthetic
//! workloads (BENCHMARKS.md):
//! - little work: below [`MIN_PARALLEL_GAS`] the cost of starting workers and committing
//!   results in order is as large as the execution itself;
//! - a few hundred plain value transfers: each executes in a few microseconds, so Block-STM's
//!   fixed costs are as large as the block (thousands of them do pay, since the commit keeps
//!   merely changed accounts out of revm's `State`, see [`super::deferred`]);
//! - a long dependency chain: when one sender (a payout batch) or one recipient of plain
//!   transfers ties together most transactions, they must run one after another anyway.

use super::MIN_PARALLEL_TXS;
use crate::BlockInput;
use alloy_consensus::Transaction;
use alloy_primitives::{Address, map::HashMap};

/// Blocks expected to use less gas than this run sequentially.
pub const MIN_PARALLEL_GAS: u64 = 4_000_000;

/// Blocks where at least this share of transactions (in percent) are plain value transfers
/// run sequentially when they hold fewer than [`MIN_PARALLEL_TRANSFERS`] of them.
const MAX_PLAIN_TRANSFER_PERCENT: usize = 90;

/// The fewest plain transfers that pay for Block-STM in a block of little else: 8,000 run
/// 1.25x faster on two threads, mainnet block 6196166's 103 ran at 0.8x.
const MIN_PARALLEL_TRANSFERS: usize = 1_000;

/// Blocks whose longest sender/recipient chain holds more than this share (in percent) of
/// the transactions run sequentially.
const MAX_CHAIN_PERCENT: usize = 60;

/// Why a block is better run sequentially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unprofitable {
    /// Too few transactions or too little gas.
    Small,
    /// Mostly plain value transfers, too few to pay for the threads.
    Transfers,
    /// Most transactions depend on each other through one sender or recipient.
    Chained,
}

/// Whether `block` is better run sequentially, and why.
pub fn unprofitable(block: &BlockInput) -> Option<Unprofitable> {
    let txs = &block.transactions;
    let gas = if block.header.gas_used > 0 {
        block.header.gas_used
    } else {
        txs.iter()
            .map(|tx| tx.gas_limit())
            .fold(0u64, u64::saturating_add)
            .min(block.header.gas_limit)
    };
    if txs.len() < MIN_PARALLEL_TXS || gas < MIN_PARALLEL_GAS {
        return Some(Unprofitable::Small);
    }
    let is_plain = |tx: &alloy_consensus::transaction::Recovered<alloy_consensus::TxEnvelope>| {
        tx.input().is_empty() && tx.to().is_some()
    };
    let plain = txs.iter().filter(|tx| is_plain(tx)).count();
    if plain * 100 >= txs.len() * MAX_PLAIN_TRANSFER_PERCENT && plain < MIN_PARALLEL_TRANSFERS {
        return Some(Unprofitable::Transfers);
    }
    // Depth of each transaction in the chains through its sender and, for a plain transfer,
    // its recipient.
    let mut depth_of: HashMap<(bool, Address), usize> = HashMap::default();
    let mut longest = 0;
    for tx in txs {
        let recipient = tx.to().filter(|_| is_plain(tx));
        let mut depth = 1 + depth_of.get(&(false, tx.signer())).copied().unwrap_or(0);
        if let Some(to) = recipient {
            depth = depth.max(1 + depth_of.get(&(true, to)).copied().unwrap_or(0));
            depth_of.insert((true, to), depth);
        }
        depth_of.insert((false, tx.signer()), depth);
        longest = longest.max(depth);
    }
    (longest * 100 > txs.len() * MAX_CHAIN_PERCENT).then_some(Unprofitable::Chained)
}
