//! Merkle-Patricia state and storage roots.
//!
//! A root is what a header commits to, so a post-state is only proven when its root matches.
//! The trie is built with `alloy-trie`'s [`HashBuilder`] from hashed keys in one sorted pass:
//! hash every key, sort once, feed the leaves in order. No node is stored, so memory is the
//! leaves plus the builder's stack. The cost is measured by the `state_root` benchmark.

use crate::InMemoryState;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Encodable;
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles, TrieAccount};

/// The root of one account's storage trie. Zero-valued slots are absent from the trie, so they
/// are skipped; an empty storage has [`EMPTY_ROOT_HASH`].
pub fn storage_root<'a>(slots: impl IntoIterator<Item = (&'a U256, &'a U256)>) -> B256 {
    let leaves: Vec<(B256, U256)> = slots
        .into_iter()
        .filter(|(_, value)| !value.is_zero())
        .map(|(slot, value)| (keccak256(slot.to_be_bytes::<32>()), *value))
        .collect();
    root_of(leaves)
}

/// The state root of accounts given with their storage roots already computed.
pub fn state_root(accounts: impl IntoIterator<Item = (Address, TrieAccount)>) -> B256 {
    let leaves: Vec<(B256, TrieAccount)> = accounts
        .into_iter()
        .map(|(address, account)| (keccak256(address), account))
        .collect();
    root_of(leaves)
}

impl InMemoryState {
    /// The state root of every account held, with its full storage.
    ///
    /// Only meaningful for a complete state (a genesis, a conformance test); a mainnet fixture's
    /// pre-state holds only the accounts its block touches.
    pub fn state_root(&self) -> B256 {
        state_root(self.accounts().iter().map(|(address, account)| {
            let info = &account.info;
            let storage = storage_root(&account.storage);
            (
                *address,
                TrieAccount::new(info.nonce, info.balance, storage, info.code_hash),
            )
        }))
    }
}

/// Sorts hashed leaves and folds them into a trie root in one pass.
fn root_of<V: Encodable>(mut leaves: Vec<(B256, V)>) -> B256 {
    if leaves.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    leaves.sort_unstable_by_key(|(key, _)| *key);
    let mut builder = HashBuilder::default();
    let mut encoded = Vec::with_capacity(128);
    for (key, value) in &leaves {
        encoded.clear();
        value.encode(&mut encoded);
        builder.add_leaf(Nibbles::unpack(key), &encoded);
    }
    builder.root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PreAccount;
    use alloy_primitives::{address, map::HashMap};
    use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
    use revm::state::AccountInfo;

    #[test]
    fn empty_tries_have_the_empty_root() {
        assert_eq!(storage_root([]), EMPTY_ROOT_HASH);
        assert_eq!(InMemoryState::default().state_root(), EMPTY_ROOT_HASH);
    }

    #[test]
    fn storage_root_skips_zero_slots_and_matches_alloy() {
        let slots: HashMap<U256, U256> = (0u64..50)
            .map(|i| (U256::from(i * 7919), U256::from(i % 5)))
            .collect();
        let expected = storage_root_unhashed(
            slots
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (B256::from(*k), *v)),
        );
        assert_eq!(storage_root(&slots), expected);
        assert_ne!(expected, EMPTY_ROOT_HASH);
    }

    #[test]
    fn state_root_matches_alloy_reference() {
        let mut state = InMemoryState::default();
        let mut expected = Vec::new();
        for i in 0u64..40 {
            let address = Address::with_last_byte(i as u8);
            let mut storage = HashMap::default();
            if i % 3 == 0 {
                storage.insert(U256::from(i), U256::from(i + 1));
            }
            let info = AccountInfo::default()
                .with_balance(U256::from(i * 1000))
                .with_nonce(i);
            let root = storage_root(&storage);
            expected.push((
                address,
                TrieAccount::new(info.nonce, info.balance, root, info.code_hash),
            ));
            state.insert_account(address, PreAccount { info, storage });
        }
        assert_eq!(state.state_root(), state_root_unhashed(expected));
    }

    /// Checked against the definition rather than another implementation: a trie with one
    /// leaf is the hash of that leaf node, `keccak(rlp([hex-prefix(key), rlp(account)]))`.
    #[test]
    fn single_account_root_is_the_hash_of_its_leaf_node() {
        let address = address!("0x00000000000000000000000000000000000000aa");
        let account = TrieAccount::new(1, U256::from(1), EMPTY_ROOT_HASH, alloy_trie::KECCAK_EMPTY);
        let mut value = Vec::new();
        account.encode(&mut value);
        // Leaf node: [0x20 ++ full 32-byte key, value], both as RLP strings, in an RLP list.
        let mut path = vec![0x20];
        path.extend_from_slice(keccak256(address).as_slice());
        let mut payload = Vec::new();
        path.as_slice().encode(&mut payload);
        value.as_slice().encode(&mut payload);
        let mut node = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut node);
        node.extend_from_slice(&payload);
        assert_eq!(state_root([(address, account)]), keccak256(&node));
    }
}
