//! Accounts whose changes skip revm's `State`: the commit keeps their bundle entries itself.
//!
//! Committing a transaction through `State` costs about a microsecond per account it touched
//! (a cache entry, a transition, then a bundle entry), on the one thread that commits: on
//! blocks of cheap transactions, more than executing them. Yet for most accounts the bundle
//! entry follows from the changes alone. An account that every transaction touching it merely
//! changes (touched, neither created nor destroyed, not empty afterwards, its code unchanged)
//! ends the block with its value before the block as original, its last value as present,
//! each changed slot with its value before the block, and a status revm derives from the
//! value before the block alone; revm leaves it out if it ended as it began. The commit keeps
//! such an entry per account ("deferred") and updates it in place, transaction by transaction.
//!
//! The rest goes through `State` as before: accounts the block's own changes touch (system
//! calls, rewards, withdrawals, which run on `State` and must see every transaction's changes),
//! and any account a transaction changes otherwise, which is first handed to `State` with its
//! deferred changes as one change, equal for revm to the changes it replaces.

use super::vm::{BaseState, VmError};
use crate::{BlockInput, StateProvider};
use alloy_primitives::{
    Address, U256,
    map::{AddressMap, AddressSet, B256Map, Entry},
};
use revm::{
    database::{AccountStatus, BundleAccount, BundleState, states::StorageSlot},
    state::{Account, AccountInfo, Bytecode, EvmState, EvmStorageSlot, TransactionId},
};

/// The deferred accounts of a block, and those that go through `State`.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// Accounts committed through `State`: known to the block's own changes, or promoted.
    through_state: AddressSet,
    /// The bundle entry of each deferred account so far.
    accounts: AddressMap<BundleAccount>,
    /// What the bundle needs of the entries, kept as they change: a pass over thousands of
    /// entries at the end of the block would read each again from memory.
    tally: Tally,
}

/// What [`Deferred::add_to`] needs of the entries, kept up to date as they change.
#[derive(Debug, Default)]
struct Tally {
    /// The accounts whose info came back to (or began at) its value before the block: the only
    /// entries that can end as they began. Noted when it comes back, not at every change while
    /// it stays (a contract whose storage alone changes would be noted thousands of times).
    same_info: Vec<Address>,
    /// The slots that came back to their value before the block: the only slots that can end
    /// as they began.
    same_slots: Vec<(Address, U256)>,
    /// The storage slots of all entries.
    slots: usize,
    /// The code of the deferred accounts that did not exist before the block, by hash, with
    /// how many of them have it: revm adds it to the bundle's contracts. A deferred account's
    /// code never changes; one handed to `State` no longer counts.
    new_codes: B256Map<(Bytecode, usize)>,
}

/// How a transaction's touched account goes through the commit.
#[derive(Debug)]
pub(crate) enum Route {
    /// Through `State`, as always for this account.
    State,
    /// Through `State` from this transaction on: first its deferred changes, as this one
    /// change to `State`.
    Promoted(Account),
}

impl Deferred {
    /// The deferral of a block whose system calls touched `touched_before` (the accounts in
    /// `State`'s cache once they ran); `beneficiary` receives the fees and the block reward.
    pub(crate) fn new(
        block: &BlockInput,
        beneficiary: Address,
        touched_before: impl Iterator<Item = Address>,
    ) -> Self {
        // Most transactions change their sender and one other account.
        let accounts = AddressMap::with_capacity_and_hasher(
            block.transactions.len().saturating_mul(2),
            Default::default(),
        );
        let mut through_state: AddressSet = touched_before.collect();
        through_state.insert(beneficiary);
        // What `alloy-evm` changes when it finishes the block: rewards, withdrawals, the
        // system calls of Prague's requests, and the DAO fork's transfer.
        through_state.extend(block.ommers.iter().map(|ommer| ommer.beneficiary));
        through_state
            .extend((block.withdrawals.iter().flatten()).map(|withdrawal| withdrawal.address));
        through_state.extend([
            alloy_eips::eip7002::SYSTEM_ADDRESS,
            alloy_eips::eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
            alloy_eips::eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
            alloy_evm::eth::dao_fork::DAO_HARDFORK_BENEFICIARY,
        ]);
        through_state.extend(alloy_evm::eth::dao_fork::DAO_HARDFORK_ACCOUNTS);
        Self {
            through_state,
            accounts,
            tally: Tally::default(),
        }
    }

    /// Takes a transaction's changes of the accounts it defers into their entries, and says
    /// how each other touched account goes through `State`. `not_plain` lists the accounts it
    /// changed other than plainly; `code_only` those it read for their code alone (whose
    /// balance and nonce in `changes` are as read, not as committed), with their credits.
    pub(crate) fn take(
        &mut self,
        changes: &mut EvmState,
        not_plain: &[Address],
        code_only: &[(Address, U256)],
    ) -> Vec<(Address, Route)> {
        let mut through = Vec::new();
        for (address, account) in changes.iter_mut() {
            if !account.is_touched() {
                continue;
            }
            if self.through_state.contains(address) {
                through.push((*address, Route::State));
                continue;
            }
            if not_plain.contains(address) {
                self.through_state.insert(*address);
                let route = match self.accounts.remove(address) {
                    Some(entry) => {
                        self.tally.promoted(&entry);
                        Route::Promoted(as_one_change(entry))
                    }
                    None => Route::State,
                };
                through.push((*address, route));
                continue;
            }
            let credit = (code_only.iter())
                .find(|(read, _)| read == address)
                .map(|(_, credit)| *credit);
            let (entry, created) = match self.accounts.entry(*address) {
                Entry::Occupied(entry) => (entry.into_mut(), false),
                Entry::Vacant(entry) => {
                    let before = (!account.is_loaded_as_not_existing())
                        .then(|| moved_out(account.original_info_mut()));
                    (entry.insert(first_entry(before)), true)
                }
            };
            let was_same = !created && entry.info == entry.original_info;
            match credit {
                // revm's balance and nonce are as read, plus the credit: the credit goes onto
                // the account as committed instead.
                Some(credit) => credit_entry(entry, credit),
                None => entry.info = Some(moved_out(&mut account.info)),
            }
            for (key, slot) in &account.storage {
                if slot.is_changed() {
                    let kept = match entry.storage.entry(*key) {
                        Entry::Occupied(kept) => kept.into_mut(),
                        Entry::Vacant(new) => {
                            self.tally.slots += 1;
                            new.insert(StorageSlot::new_changed(slot.original_value, U256::ZERO))
                        }
                    };
                    kept.present_value = slot.present_value;
                    if !kept.is_changed() {
                        self.tally.same_slots.push((*address, *key));
                    }
                }
            }
            self.tally.noted(*address, entry, created, was_same);
        }
        through
    }

    /// Credits `amount` to `address` (a lazily read transfer's recipient, which revm did not
    /// see) if it is deferred; returns whether it was, else the credit goes through `State`.
    pub(crate) fn credit<DB: StateProvider>(
        &mut self,
        address: Address,
        amount: U256,
        base: &BaseState<'_, DB>,
    ) -> Result<bool, VmError> {
        if self.through_state.contains(&address) {
            return Ok(false);
        }
        let (entry, created) = match self.accounts.entry(address) {
            Entry::Occupied(entry) => (entry.into_mut(), false),
            Entry::Vacant(entry) => (entry.insert(first_entry(base.basic(address)?)), true),
        };
        let was_same = !created && entry.info == entry.original_info;
        credit_entry(entry, amount);
        self.tally.noted(address, entry, created, was_same);
        Ok(true)
    }

    /// Hands every deferred account to `State`, for a block that goes on in order from here:
    /// returns the changes to commit.
    pub(crate) fn promote_all(&mut self) -> EvmState {
        let accounts = std::mem::take(&mut self.accounts);
        self.tally = Tally::default();
        self.through_state.extend(accounts.keys().copied());
        (accounts.into_iter())
            .map(|(address, entry)| (address, as_one_change(entry)))
            .collect()
    }

    /// Adds the deferred accounts' entries to `bundle`, the bundle `State` built for the
    /// others, as revm would have built them itself: without accounts that ended as they
    /// began, and with the code of each account that did not exist before (the empty code,
    /// for revm a new contract). Returns an account already in `bundle`, if any: then the
    /// block's own changes reached an account kept out of `State`, and `bundle` is left
    /// incomplete.
    pub(crate) fn add_to(self, bundle: &mut BundleState) -> Result<(), Address> {
        let Self {
            mut accounts,
            tally,
            ..
        } = self;
        let mut slots = tally.slots;
        // A slot that ended as it began came back at its last change; then so did an account.
        for (address, key) in tally.same_slots {
            if let Some(entry) = accounts.get_mut(&address)
                && entry
                    .storage
                    .get(&key)
                    .is_some_and(|slot| !slot.is_changed())
            {
                entry.storage.remove(&key);
                slots = slots.saturating_sub(1);
            }
        }
        for address in tally.same_info {
            if let Some(entry) = accounts.get(&address)
                && entry.info == entry.original_info
                && entry.storage.is_empty()
            {
                accounts.remove(&address);
            }
        }
        for (hash, (code, accounts)) in tally.new_codes {
            if accounts > 0 {
                bundle.contracts.entry(hash).or_insert(code);
            }
        }
        let mut size = accounts.len() + slots;
        for (address, entry) in std::mem::take(&mut bundle.state) {
            size += entry.size_hint();
            if accounts.insert(address, entry).is_some() {
                return Err(address);
            }
        }
        bundle.state_size = size;
        bundle.state = accounts;
        Ok(())
    }
}

impl Tally {
    /// Notes the entry of `address` as just changed (`created`: first changed now;
    /// `was_same`: its info was at its value before the block until this change).
    fn noted(&mut self, address: Address, entry: &BundleAccount, created: bool, was_same: bool) {
        if !was_same && entry.info == entry.original_info {
            self.same_info.push(address);
        }
        if created
            && entry.original_info.is_none()
            && let Some(info) = &entry.info
            && let Some(code) = &info.code
        {
            match self.new_codes.get_mut(&info.code_hash) {
                Some((_, accounts)) => *accounts += 1,
                None => {
                    self.new_codes.insert(info.code_hash, (code.clone(), 1));
                }
            }
        }
    }

    /// Forgets the entry of an account handed to `State`.
    fn promoted(&mut self, entry: &BundleAccount) {
        self.slots = self.slots.saturating_sub(entry.storage.len());
        if entry.original_info.is_none()
            && let Some(info) = &entry.info
            && let Some((_, accounts)) = self.new_codes.get_mut(&info.code_hash)
        {
            *accounts = accounts.saturating_sub(1);
        }
    }
}

/// The entry of an account first changed now, `before` the block as it was (`None`: it did
/// not exist). revm's `CacheAccount::change` makes an account that did not exist, or had
/// neither nonce nor code, wholly in memory.
fn first_entry(before: Option<AccountInfo>) -> BundleAccount {
    let status = if before
        .as_ref()
        .is_none_or(AccountInfo::has_no_code_and_nonce)
    {
        AccountStatus::InMemoryChange
    } else {
        AccountStatus::Changed
    };
    BundleAccount {
        info: None,
        original_info: before,
        storage: Default::default(),
        status,
    }
}

/// The account info, its code moved rather than cloned: the code's reference count is shared
/// with the workers (the empty code's with every worker's every account), and each count is a
/// write to a line the other core is reading.
fn moved_out(info: &mut AccountInfo) -> AccountInfo {
    let mut moved = info.copy_without_code();
    moved.code = info.code.take();
    moved
}

/// A balance credit to the account as committed so far, as revm applies one to an account
/// that stays non-empty.
fn credit_entry(entry: &mut BundleAccount, amount: U256) {
    let mut info = match (entry.info.take(), &mut entry.original_info) {
        (Some(info), _) => info,
        (None, Some(before)) => moved_out(before),
        (None, None) => AccountInfo::default(),
    };
    info.balance = info.balance.saturating_add(amount);
    entry.info = Some(info);
}

/// A deferred account's changes so far as one change from the account before the block: what
/// revm's `State` holds after committing them one by one.
fn as_one_change(entry: BundleAccount) -> Account {
    let mut account = match entry.original_info {
        Some(before) => Account::from(before),
        None => Account::new_not_existing(TransactionId::ZERO),
    };
    if let Some(info) = entry.info {
        account.info = info;
    }
    account.mark_touch();
    for (key, slot) in entry.storage {
        (account.storage).insert(
            key,
            EvmStorageSlot::new_changed(
                slot.previous_or_original_value,
                slot.present_value,
                TransactionId::ZERO,
            ),
        );
    }
    account
}

/// The accounts of a transaction's state changes that it changed other than plainly (see the
/// module documentation), judged against the accounts as it read them: these must go through
/// `State`.
pub(crate) fn not_plain(
    changes: &EvmState,
    accounts_read: &AddressMap<Option<AccountInfo>>,
) -> Vec<Address> {
    (changes.iter())
        .filter(|(address, account)| {
            let read_code = match accounts_read.get(*address) {
                Some(Some(info)) => Some(info.code_hash),
                Some(None) => Some(revm::primitives::KECCAK_EMPTY),
                None => None,
            };
            account.is_touched()
                && (account.is_selfdestructed()
                    || account.is_created()
                    || account.info.is_empty()
                    || read_code != Some(account.info.code_hash))
        })
        .map(|(address, _)| *address)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::{primitives::KECCAK_EMPTY, state::AccountStatus as Flags};

    const A: Address = Address::with_last_byte(0xa);
    const B: Address = Address::with_last_byte(0xb);

    fn info(balance: u64, nonce: u64) -> AccountInfo {
        AccountInfo::default()
            .with_balance(U256::from(balance))
            .with_nonce(nonce)
    }

    /// `before` as a transaction loaded it, then changed to `after`, with `slots` (key,
    /// original, present).
    fn touched(
        before: Option<AccountInfo>,
        after: AccountInfo,
        slots: &[(u64, u64, u64)],
    ) -> Account {
        let mut account = match before {
            Some(before) => Account::from(before),
            None => Account::new_not_existing(TransactionId::ZERO),
        };
        account.info = after;
        account.status |= Flags::Touched;
        for &(key, original, present) in slots {
            account.storage.insert(
                U256::from(key),
                EvmStorageSlot::new_changed(
                    U256::from(original),
                    U256::from(present),
                    TransactionId::ZERO,
                ),
            );
        }
        account
    }

    fn deferred() -> Deferred {
        let block = BlockInput {
            header: Default::default(),
            transactions: Vec::new(),
            ommers: Vec::new(),
            withdrawals: None,
        };
        Deferred::new(&block, Address::ZERO, std::iter::empty())
    }

    #[test]
    fn plain_changes_accumulate_into_one_entry() {
        let mut deferred = deferred();
        let mut first = EvmState::default();
        first.insert(
            A,
            touched(Some(info(10, 1)), info(7, 2), &[(1, 0, 5), (2, 3, 4)]),
        );
        assert!(deferred.take(&mut first, &[], &[]).is_empty());
        let mut second = EvmState::default();
        second.insert(
            A,
            touched(Some(info(7, 2)), info(6, 3), &[(1, 5, 6), (2, 4, 3)]),
        );
        assert!(deferred.take(&mut second, &[], &[]).is_empty());
        let entry = &deferred.accounts[&A];
        assert_eq!(entry.original_info, Some(info(10, 1)));
        assert_eq!(entry.info, Some(info(6, 3)));
        assert_eq!(entry.status, AccountStatus::Changed);
        // Each slot keeps its value before the block; slot 2 is back where it started.
        let slot = |key: u64| entry.storage[&U256::from(key)];
        assert_eq!(slot(1), StorageSlot::new_changed(U256::ZERO, U256::from(6)));
        assert_eq!(
            slot(2),
            StorageSlot::new_changed(U256::from(3), U256::from(3))
        );
    }

    #[test]
    fn a_code_read_takes_its_credit_on_the_account_as_committed() {
        let mut deferred = deferred();
        let mut pre = crate::InMemoryState::default();
        let account = crate::PreAccount {
            info: info(10, 1),
            storage: Default::default(),
        };
        pre.insert_account(A, account);
        let state = revm::database::State::builder()
            .with_database_ref(&pre)
            .build();
        let base = BaseState::new(&pre, &state);
        // A lower transfer credits 2; revm then sees the balance as read (10) plus this
        // transaction's credit of 3.
        assert!(deferred.credit(A, U256::from(2), &base).unwrap());
        let mut credited = EvmState::default();
        credited.insert(A, touched(Some(info(10, 1)), info(13, 1), &[]));
        deferred.take(&mut credited, &[], &[(A, U256::from(3))]);
        assert_eq!(deferred.accounts[&A].info, Some(info(15, 1)));
    }

    #[test]
    fn a_change_other_than_plain_hands_the_account_to_state_with_what_was_deferred() {
        let mut deferred = deferred();
        let mut plain = EvmState::default();
        plain.insert(A, touched(None, info(5, 0), &[(1, 0, 9)]));
        deferred.take(&mut plain, &[], &[]);
        let mut destroyed = EvmState::default();
        destroyed.insert(A, touched(Some(info(5, 0)), info(0, 0), &[]));
        destroyed.insert(B, touched(Some(info(1, 1)), info(0, 0), &[]));
        let mut routes = deferred.take(&mut destroyed, &[A, B], &[]);
        routes.sort_by_key(|(address, _)| *address);
        let [(a, Route::Promoted(promoted)), (b, Route::State)] = routes.as_slice() else {
            panic!("{routes:?}");
        };
        assert_eq!((*a, *b), (A, B));
        // What `State` must see first: the account did not exist, and now holds 5.
        assert!(promoted.is_loaded_as_not_existing() && promoted.is_touched());
        assert_eq!(promoted.info, info(5, 0));
        let slot = &promoted.storage[&U256::from(1)];
        assert_eq!(
            (slot.original_value, slot.present_value),
            (U256::ZERO, U256::from(9))
        );
        // From now on both go through `State`.
        let mut again = EvmState::default();
        again.insert(A, touched(Some(info(0, 0)), info(1, 0), &[]));
        assert!(matches!(
            deferred.take(&mut again, &[], &[]).as_slice(),
            [(A, Route::State)]
        ));
    }

    #[test]
    fn the_bundle_leaves_out_what_ended_as_it_began_and_gets_new_accounts_code() {
        let mut deferred = deferred();
        let mut changes = EvmState::default();
        changes.insert(A, touched(Some(info(10, 1)), info(10, 1), &[(1, 4, 4)]));
        changes.insert(B, touched(None, info(3, 0), &[]));
        deferred.take(&mut changes, &[], &[]);
        let mut bundle = BundleState::default();
        deferred.add_to(&mut bundle).unwrap();
        assert!(!bundle.state.contains_key(&A));
        let b = &bundle.state[&B];
        assert_eq!(
            (b.original_info.clone(), b.status),
            (None, AccountStatus::InMemoryChange)
        );
        assert!(bundle.contracts.contains_key(&KECCAK_EMPTY));
        assert_eq!(bundle.state_size, 1);
    }

    #[test]
    fn what_changed_back_leaves_the_bundle_and_its_size() {
        let mut deferred = deferred();
        let mut first = EvmState::default();
        first.insert(
            A,
            touched(Some(info(10, 1)), info(9, 1), &[(1, 0, 5), (2, 3, 4)]),
        );
        first.insert(B, touched(Some(info(1, 1)), info(2, 1), &[(7, 1, 2)]));
        deferred.take(&mut first, &[], &[]);
        let mut second = EvmState::default();
        // A's slot 1 is back at 0; B's balance and slot both are back where they began.
        second.insert(A, touched(Some(info(9, 1)), info(8, 1), &[(1, 5, 0)]));
        second.insert(B, touched(Some(info(2, 1)), info(1, 1), &[(7, 2, 1)]));
        deferred.take(&mut second, &[], &[]);
        let mut bundle = BundleState::default();
        deferred.add_to(&mut bundle).unwrap();
        assert!(!bundle.state.contains_key(&B));
        let a = &bundle.state[&A];
        assert_eq!(a.storage.keys().collect::<Vec<_>>(), [&U256::from(2)]);
        assert_eq!(
            bundle.state_size,
            bundle
                .state
                .values()
                .map(BundleAccount::size_hint)
                .sum::<usize>()
        );
        assert_eq!(bundle.state_size, 2);
    }

    #[test]
    fn an_account_whose_storage_alone_changes_is_noted_once() {
        let mut deferred = deferred();
        for value in 1..=100 {
            let mut changes = EvmState::default();
            let slots = [(value, 0, value)];
            changes.insert(A, touched(Some(info(10, 1)), info(10, 1), &slots));
            deferred.take(&mut changes, &[], &[]);
        }
        assert_eq!(deferred.tally.same_info, [A]);
        assert!(deferred.tally.same_slots.is_empty());
        let mut bundle = BundleState::default();
        deferred.add_to(&mut bundle).unwrap();
        assert_eq!(bundle.state[&A].storage.len(), 100);
        assert_eq!(bundle.state_size, 101);
    }

    #[test]
    fn a_new_account_handed_to_state_leaves_its_code_to_state() {
        let mut deferred = deferred();
        let mut created = EvmState::default();
        created.insert(B, touched(None, info(3, 0), &[(1, 0, 2)]));
        deferred.take(&mut created, &[], &[]);
        let mut destroyed = EvmState::default();
        destroyed.insert(B, touched(Some(info(3, 0)), info(0, 0), &[]));
        deferred.take(&mut destroyed, &[B], &[]);
        let mut bundle = BundleState::default();
        deferred.add_to(&mut bundle).unwrap();
        assert!(bundle.contracts.is_empty() && bundle.state.is_empty());
        assert_eq!(bundle.state_size, 0);
    }

    #[test]
    fn an_account_in_both_bundles_is_reported() {
        let mut deferred = deferred();
        let mut changes = EvmState::default();
        changes.insert(A, touched(Some(info(10, 1)), info(9, 1), &[]));
        deferred.take(&mut changes, &[], &[]);
        let mut bundle = BundleState::default();
        bundle.state.insert(
            A,
            BundleAccount::new(
                None,
                Some(info(1, 1)),
                Default::default(),
                AccountStatus::InMemoryChange,
            ),
        );
        assert_eq!(deferred.add_to(&mut bundle), Err(A));
    }
}
