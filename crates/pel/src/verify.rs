//! Checks an execution's output against the block header, the ground truth of mainnet.

use crate::{
    BlockOutput, Chain,
    receipts::{logs_bloom, receipts_root},
};
use alloy_consensus::Header;
use std::fmt;

/// A header field whose value the execution did not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The header field, by its JSON-RPC name.
    pub field: &'static str,
    /// The header's value.
    pub expected: String,
    /// The value execution produced.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: header {} != executed {}",
            self.field, self.expected, self.actual
        )
    }
}

/// A header field that could not be checked, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unchecked {
    /// The header field, by its JSON-RPC name.
    pub field: &'static str,
    /// Why it was not checked.
    pub reason: &'static str,
}

/// The outcome of comparing an output with its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Fields checked and found different; empty when the block verified.
    pub mismatches: Vec<Mismatch>,
    /// Fields left unchecked, with the reason.
    pub unchecked: Vec<Unchecked>,
}

impl Verification {
    /// Whether every checked field matched.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Compares `gasUsed`, `logsBloom`, `blobGasUsed` (Cancun on) and `receiptsRoot` (Byzantium on)
/// of `header` with `output`.
pub fn verify_header(chain: &Chain, header: &Header, output: &BlockOutput) -> Verification {
    let mut verification = Verification::default();
    let mut check = |field, expected: String, actual: String| {
        if expected != actual {
            verification.mismatches.push(Mismatch {
                field,
                expected,
                actual,
            });
        }
    };
    check(
        "gasUsed",
        header.gas_used.to_string(),
        output.gas_used.to_string(),
    );
    check(
        "logsBloom",
        header.logs_bloom.to_string(),
        logs_bloom(&output.receipts).to_string(),
    );
    if let Some(blob_gas_used) = header.blob_gas_used {
        check(
            "blobGasUsed",
            blob_gas_used.to_string(),
            output.blob_gas_used.to_string(),
        );
    }
    if chain.has_receipt_status(header.number) {
        check(
            "receiptsRoot",
            header.receipts_root.to_string(),
            receipts_root(&output.receipts).to_string(),
        );
    } else {
        verification.unchecked.push(Unchecked {
            field: "receiptsRoot",
            reason: "pre-Byzantium receipts commit to intermediate state roots",
        });
    }
    verification
}
