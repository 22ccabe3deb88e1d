//! Receipts whose bloom the workers computed.
//!
//! A receipt's bloom hashes every log's address and topics: four Keccak-256 per ERC-20
//! transfer, more than the EVM itself hashes for it. The bloom is a function of the logs alone,
//! so the worker that executed the transaction computes it, in parallel and with its memo of
//! recent hashes ([`super::bloom`]), and the in-order commit only assembles the receipt
//! around it. Transactions executed in order on the calling thread (a block run sequentially,
//! or the rest of one where Block-STM gave up) get their bloom from the same kind of memo
//! here: on blocks of many token transfers the plain bloom is a tenth of the sequential
//! engine's time (mainnet 6196166, perf).

use super::bloom::BloomHasher;
use alloy_consensus::{
    Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxEnvelope, TxType,
};
use alloy_evm::{
    Evm,
    eth::receipt_builder::{ReceiptBuilder, ReceiptBuilderCtx},
};
use alloy_primitives::Bloom;
use std::cell::{Cell, RefCell};

/// `alloy-evm`'s receipt builder for Alloy's receipt types, except that it takes the bloom of
/// the next receipt from [`PrecomputedBloom::set_next`] when one was given, and otherwise
/// computes it with a memo of recent hashes, made at the first receipt with logs.
#[derive(Debug, Default)]
pub(crate) struct PrecomputedBloom {
    next: Cell<Option<Bloom>>,
    hasher: RefCell<Option<BloomHasher>>,
}

impl PrecomputedBloom {
    /// The bloom of the receipt built next: that of the logs of the transaction committed next.
    pub(crate) fn set_next(&self, bloom: Bloom) {
        self.next.set(Some(bloom));
    }
}

impl ReceiptBuilder for PrecomputedBloom {
    type Transaction = TxEnvelope;
    type Receipt = ReceiptEnvelope;

    fn build_receipt<E: Evm>(&self, ctx: ReceiptBuilderCtx<'_, TxType, E>) -> ReceiptEnvelope {
        let receipt = Receipt {
            status: Eip658Value::Eip658(ctx.result.is_success()),
            cumulative_gas_used: ctx.cumulative_gas_used,
            logs: ctx.result.into_logs(),
        };
        let logs_bloom = match self.next.take() {
            Some(bloom) => bloom,
            None if receipt.logs.is_empty() => Bloom::ZERO,
            None => (self.hasher.borrow_mut())
                .get_or_insert_with(BloomHasher::default)
                .logs_bloom(&receipt.logs),
        };
        let receipt = ReceiptWithBloom {
            receipt,
            logs_bloom,
        };
        match ctx.tx_type {
            TxType::Legacy => ReceiptEnvelope::Legacy(receipt),
            TxType::Eip2930 => ReceiptEnvelope::Eip2930(receipt),
            TxType::Eip1559 => ReceiptEnvelope::Eip1559(receipt),
            TxType::Eip4844 => ReceiptEnvelope::Eip4844(receipt),
            TxType::Eip7702 => ReceiptEnvelope::Eip7702(receipt),
        }
    }
}
