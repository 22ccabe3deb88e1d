//! Signed transactions for the engine's unit tests: a legacy transaction from any sender,
//! with a test signature that nothing checks.

use alloy_consensus::{Signed, TxEnvelope, TxLegacy, transaction::Recovered};
use alloy_primitives::{Address, Signature};

/// `tx` as `sender` sent it.
pub(super) fn signed(sender: Address, tx: TxLegacy) -> Recovered<TxEnvelope> {
    let signed = Signed::new_unhashed(tx, Signature::test_signature());
    Recovered::new_unchecked(TxEnvelope::Legacy(signed), sender)
}
