//! Block-level commitments derived from receipts: the logs bloom and the receipts root.

use alloy_consensus::{ReceiptEnvelope, TxReceipt, proofs::calculate_receipt_root};
use alloy_primitives::{B256, Bloom};

/// The block's logs bloom: the union of every receipt's bloom.
pub fn logs_bloom(receipts: &[ReceiptEnvelope]) -> Bloom {
    receipts
        .iter()
        .fold(Bloom::ZERO, |acc, receipt| acc | receipt.bloom())
}

/// The Merkle-Patricia root of the receipts, as the header's `receiptsRoot` commits to it
/// (Byzantium on; earlier receipts hold intermediate state roots instead of a status).
pub fn receipts_root(receipts: &[ReceiptEnvelope]) -> B256 {
    calculate_receipt_root(receipts)
}
