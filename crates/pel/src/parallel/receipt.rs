//! Receipts whose bloom the workers computed.
//!
//! A receipt's bloom hashes every log's address and topics: four Keccak-256 per ERC-20
//! transfer, more than the EVM itself hashes for it. The bloom is a function of the logs alone,
//! so the worker that executed the transaction computes it, in parallel and with its memo of
//! recent hashes ([`super::bloom`]), and the in-order commit only assembles the receipt
//! around it.

use alloy_consensus::{
    Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxEnvelope, TxType,
};
use alloy_evm::{
    Evm,
    eth::receipt_builder::{ReceiptBuilder, ReceiptBuilderCtx},
};
use alloy_primitives::Bloom;
use std::cell::Cell;

/// `alloy-evm`'s receipt builder for Alloy's receipt types, except that it takes the bloom of
/// the next receipt from [`PrecomputedBloom::set_next`] when one was given.
#[derive(Debug, Default)]
pub(crate) struct PrecomputedBloom {
    next: Cell<Option<Bloom>>,
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
        let receipt = match self.next.take() {
            Some(logs_bloom) => ReceiptWithBloom {
                receipt,
                logs_bloom,
            },
            None => receipt.with_bloom(),
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
