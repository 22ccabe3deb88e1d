//! The input of every engine: one block, already decoded and with its senders recovered.

use alloy_consensus::{Header, TxEnvelope, transaction::Recovered};
use alloy_eips::eip4895::Withdrawal;

/// Everything a block contributes to execution besides the state it runs on.
///
/// Engines take this type rather than RPC or RLP forms, so any client that can decode a block
/// and recover its senders can execute it.
#[derive(Debug, Clone)]
pub struct BlockInput {
    /// The block's header; its number and timestamp choose the fork.
    pub header: Header,
    /// The transactions in block order, each with its recovered sender.
    pub transactions: Vec<Recovered<TxEnvelope>>,
    /// Headers of the block's ommers, for ommer rewards before the Merge.
    pub ommers: Vec<Header>,
    /// Withdrawals (Shanghai on); `None` before Shanghai.
    pub withdrawals: Option<Vec<Withdrawal>>,
}
