//! An in-memory state provider: the pre-state of a block held in hash maps.
//!
//! Engines read state through [`StateProvider`] (revm's [`DatabaseRef`] and one question
//! more), so a client plugs in its own database; this type serves fixtures, tests and
//! benchmarks. Unlike revm's `CacheDB` over `EmptyDB`, it answers a block hash or code it does
//! not hold with an error, never with a made-up value, and it says whether an account has
//! storage.

use crate::{StateProvider, provider::holds_storage};
use alloy_primitives::{
    Address, B256, U256,
    map::{AddressMap, B256Map, HashMap},
};
use revm::{
    DatabaseRef,
    bytecode::Bytecode,
    database::BundleState,
    database_interface::DBErrorMarker,
    primitives::{KECCAK_EMPTY, StorageKey, StorageValue},
    state::AccountInfo,
};
use std::collections::BTreeMap;

/// Why the state provider could not answer a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// An account names code by hash, and the provider has no code with that hash.
    #[error("code with hash {0} is missing from the state")]
    MissingCode(B256),
    /// `BLOCKHASH` asked for a block the provider holds no hash for.
    #[error("hash of block {0} is missing from the state")]
    MissingBlockHash(u64),
}

impl DBErrorMarker for StateError {}

/// One account of the pre-state with the storage slots that are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreAccount {
    /// Balance, nonce and code hash; the code itself lives in the state's code table.
    pub info: AccountInfo,
    /// Known storage slots; a slot not listed holds zero.
    pub storage: HashMap<U256, U256>,
}

/// A block's pre-state in memory: accounts, storage, code by hash and ancestor block hashes.
#[derive(Debug, Clone, Default)]
pub struct InMemoryState {
    accounts: AddressMap<PreAccount>,
    code: B256Map<Bytecode>,
    block_hashes: BTreeMap<u64, B256>,
    /// Whether an account with storage but no code and a zero nonce was ever held (EIP-7610).
    storage_only_accounts: bool,
}

impl InMemoryState {
    /// Adds (or replaces) an account. Its code, if any, is registered by hash; an account whose
    /// code hash is set but whose code is `None` refers to code that must come from
    /// [`InMemoryState::insert_code`], or reading it fails with [`StateError::MissingCode`].
    pub fn insert_account(&mut self, address: Address, mut account: PreAccount) {
        if let Some(code) = account.info.code.take()
            && account.info.code_hash != KECCAK_EMPTY
        {
            self.code.insert(account.info.code_hash, code);
        }
        self.storage_only_accounts |= is_storage_only(&account);
        self.accounts.insert(address, account);
    }

    /// Registers code under its hash.
    pub fn insert_code(&mut self, code: Bytecode) {
        self.code.insert(code.hash_slow(), code);
    }

    /// Records the hash of an ancestor block for `BLOCKHASH`.
    pub fn insert_block_hash(&mut self, number: u64, hash: B256) {
        self.block_hashes.insert(number, hash);
    }

    /// Commits a block's state changes, so the state becomes the next block's pre-state.
    ///
    /// An account the bundle deletes is removed with its storage; one it destroyed and
    /// recreated loses its old storage before the new slots apply; a slot set to zero is
    /// removed. New code is registered by hash.
    pub fn apply(&mut self, bundle: &BundleState) {
        for (address, change) in &bundle.state {
            let Some(info) = &change.info else {
                self.accounts.remove(address);
                continue;
            };
            let account = self.accounts.entry(*address).or_default();
            if change.was_destroyed() {
                account.storage.clear();
            }
            if let Some(code) = &info.code
                && info.code_hash != KECCAK_EMPTY
            {
                self.code.insert(info.code_hash, code.clone());
            }
            account.info = info.clone().without_code();
            for (slot, value) in &change.storage {
                if value.present_value.is_zero() {
                    account.storage.remove(slot);
                } else {
                    account.storage.insert(*slot, value.present_value);
                }
            }
            self.storage_only_accounts |= is_storage_only(account);
        }
        for (hash, code) in &bundle.contracts {
            self.code.insert(*hash, code.clone());
        }
    }

    /// The code held under `hash`, if any.
    pub fn code(&self, hash: &B256) -> Option<&Bytecode> {
        self.code.get(hash)
    }

    /// The accounts held, for inspection and for writing the state out.
    pub fn accounts(&self) -> &AddressMap<PreAccount> {
        &self.accounts
    }

    /// The ancestor block hashes held, by block number.
    pub fn block_hashes(&self) -> &BTreeMap<u64, B256> {
        &self.block_hashes
    }
}

/// Whether `account` has storage but neither code nor a nonce.
fn is_storage_only(account: &PreAccount) -> bool {
    account.info.nonce == 0
        && account.info.code_hash == KECCAK_EMPTY
        && holds_storage(account.storage.values())
}

impl StateProvider for InMemoryState {
    fn may_hold_storage_only_accounts(&self) -> bool {
        self.storage_only_accounts
    }

    fn has_storage(&self, address: Address) -> Result<bool, StateError> {
        Ok(self
            .accounts
            .get(&address)
            .is_some_and(|account| holds_storage(account.storage.values())))
    }
}

impl DatabaseRef for InMemoryState {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        let Some(account) = self.accounts.get(&address) else {
            return Ok(None);
        };
        let mut info = account.info.clone();
        if info.code_hash != KECCAK_EMPTY {
            info.code = Some(self.code_by_hash_ref(info.code_hash)?);
        }
        Ok(Some(info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        self.code
            .get(&code_hash)
            .cloned()
            .ok_or(StateError::MissingCode(code_hash))
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<StorageValue, StateError> {
        Ok(self
            .accounts
            .get(&address)
            .and_then(|account| account.storage.get(&index))
            .copied()
            .unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        self.block_hashes
            .get(&number)
            .copied()
            .ok_or(StateError::MissingBlockHash(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, address, keccak256};

    #[test]
    fn serves_accounts_code_storage_and_hashes() {
        let mut state = InMemoryState::default();
        let code = Bytecode::new_raw(Bytes::from_static(&[0x60, 0x00]));
        let hash = keccak256([0x60, 0x00]);
        let mut storage = HashMap::default();
        storage.insert(U256::from(1), U256::from(42));
        let who = address!("0x00000000000000000000000000000000000000aa");
        state.insert_account(
            who,
            PreAccount {
                info: AccountInfo::new(U256::from(5), 1, hash, code.clone()),
                storage,
            },
        );
        state.insert_block_hash(9, B256::repeat_byte(9));

        let info = state.basic_ref(who).unwrap().unwrap();
        assert_eq!(info.balance, U256::from(5));
        assert_eq!(info.code, Some(code.clone()));
        assert_eq!(state.code_by_hash_ref(hash).unwrap(), code);
        assert_eq!(
            state.storage_ref(who, U256::from(1)).unwrap(),
            U256::from(42)
        );
        assert_eq!(state.storage_ref(who, U256::from(2)).unwrap(), U256::ZERO);
        assert_eq!(state.basic_ref(Address::ZERO).unwrap(), None);
        assert_eq!(state.block_hash_ref(9).unwrap(), B256::repeat_byte(9));
    }

    #[test]
    fn missing_code_and_block_hash_are_errors() {
        let mut state = InMemoryState::default();
        let who = address!("0x00000000000000000000000000000000000000bb");
        let hash = B256::repeat_byte(1);
        state.insert_account(
            who,
            PreAccount {
                info: AccountInfo::default().with_code_hash(hash),
                storage: HashMap::default(),
            },
        );
        assert_eq!(state.basic_ref(who), Err(StateError::MissingCode(hash)));
        assert_eq!(
            state.block_hash_ref(3),
            Err(StateError::MissingBlockHash(3))
        );
    }
}
