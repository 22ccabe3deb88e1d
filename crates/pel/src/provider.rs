//! What the engines read state through: revm's [`DatabaseRef`], plus the one question about an
//! account that revm never asks, whether it has storage, which EIP-7610 needs.

use alloy_primitives::{Address, U256};
use revm::DatabaseRef;
use std::sync::Arc;

/// A block's pre-state as pel's engines read it.
///
/// EIP-7610 makes a contract creation fail when its address already has storage, even with no
/// code and a zero nonce (an account no mainnet state holds, but the ethereum/tests suites
/// build). revm checks only code and nonce, so pel asks the provider about storage. The
/// defaults say that no such account exists: a provider that only implements
/// [`DatabaseRef`] (`impl StateProvider for MyDb {}`) pays nothing and creates exactly as reth
/// and revm do. [`crate::InMemoryState`] answers both questions from what it holds.
pub trait StateProvider: DatabaseRef {
    /// Whether some account may have storage while it has no code and a zero nonce. When
    /// `false`, the engines skip the storage check on creations altogether.
    fn may_hold_storage_only_accounts(&self) -> bool {
        false
    }

    /// Whether the account at `address` has storage in this state (a non-empty storage trie).
    /// Asked only when [`StateProvider::may_hold_storage_only_accounts`] is `true`, for an
    /// address a creation targets that has no code and a zero nonce.
    fn has_storage(&self, address: Address) -> Result<bool, Self::Error> {
        let _ = address;
        Ok(false)
    }
}

/// Whether slots with these values make a non-empty storage: a slot that holds zero is not in
/// the storage trie.
pub(crate) fn holds_storage<'a>(values: impl IntoIterator<Item = &'a U256>) -> bool {
    values.into_iter().any(|value| !value.is_zero())
}

/// Forwards the provider of a reference or a smart pointer to the provider it points to.
macro_rules! forward_state_provider {
    ($($pointer:ty),*) => {$(
        impl<T: StateProvider> StateProvider for $pointer {
            fn may_hold_storage_only_accounts(&self) -> bool {
                (**self).may_hold_storage_only_accounts()
            }

            fn has_storage(&self, address: Address) -> Result<bool, Self::Error> {
                (**self).has_storage(address)
            }
        }
    )*};
}

forward_state_provider!(&T, Box<T>, Arc<T>);
