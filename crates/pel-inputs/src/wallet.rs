//! Keys that sign the transactions of generated blocks, so loaders check real signatures.

use alloy_consensus::{
    SignableTransaction, TxEnvelope,
    crypto::{RecoveryError, secp256k1},
    transaction::Recovered,
};
use alloy_primitives::{Address, B256, keccak256};

/// A secp256k1 private key and the address it controls.
#[derive(Debug, Clone, Copy)]
pub struct Wallet {
    secret: B256,
    address: Address,
}

/// A key that cannot sign: zero or above the curve order.
#[derive(Debug, thiserror::Error)]
#[error("invalid private key: {0}")]
pub struct InvalidKey(String);

impl Wallet {
    /// The wallet of a private key.
    pub fn new(secret: B256) -> Result<Self, InvalidKey> {
        let probe = keccak256(b"pel wallet");
        let signature =
            secp256k1::sign_message(secret, probe).map_err(|e| InvalidKey(e.to_string()))?;
        let address = secp256k1::recover_signer(&signature, probe)
            .map_err(|e: RecoveryError| InvalidKey(e.to_string()))?;
        Ok(Self { secret, address })
    }

    /// A wallet derived from a seed, the same for the same seed on every machine.
    pub fn from_seed(seed: u64) -> Self {
        let mut counter = 0u64;
        loop {
            let secret = keccak256([seed.to_be_bytes(), counter.to_be_bytes()].concat());
            if let Ok(wallet) = Self::new(secret) {
                return wallet;
            }
            counter += 1;
        }
    }

    /// The address this key controls.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// Signs `tx`, returning it with this wallet as its recovered sender.
    pub fn sign<T>(&self, tx: T) -> Recovered<TxEnvelope>
    where
        T: SignableTransaction<alloy_primitives::Signature>,
        TxEnvelope: From<alloy_consensus::Signed<T>>,
    {
        #[allow(clippy::expect_used)]
        let signature = secp256k1::sign_message(self.secret, tx.signature_hash())
            .expect("the key signed once in Wallet::new, so it is a valid secp256k1 key");
        Recovered::new_unchecked(tx.into_signed(signature).into(), self.address)
    }
}
