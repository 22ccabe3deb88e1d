//! The revm adapter: runs one transaction incarnation against the multi-version memory,
//! recording what it read (with the version read) and turning revm's state changes into a
//! write set.
//!
//! The beneficiary's fee is the one change revm makes that every transaction shares, so it is
//! taken out of revm: a handler identical to mainnet's except that it only computes the fee
//! instead of crediting it. A transaction that does not otherwise touch the beneficiary then
//! writes a balance delta instead of the account, and conflicts with nobody.

use super::bloom::BloomHasher;
use super::mv_memory::{Blocked, Location, MvMemory, ReadOrigin, Resolved, TxIdx, Value};
use super::returns::Garbage;
use crate::{
    StateProvider,
    collision::{StorageCollisions, StorageOracle},
    provider::holds_storage,
};
use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_primitives::{
    Address, B256, Bloom, U256,
    map::{AddressMap, AddressSet, HashMap},
};
use revm::{
    Database,
    bytecode::Bytecode,
    context::{
        BlockEnv, CfgEnv, ContextSetters, ContextTr, JournalTr, TxEnv,
        result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction},
    },
    context_interface::{Block, Cfg, Transaction},
    database::{State, WrapDatabaseRef},
    database_interface::DBErrorMarker,
    handler::{EvmTr, FrameResult, Handler, MainBuilder, MainContext, MainnetContext, MainnetEvm},
    inspector::InspectorHandler,
    interpreter::interpreter::EthInterpreter,
    primitives::{KECCAK_EMPTY, hardfork::SpecId},
    state::{Account, AccountInfo, EvmState},
};
use std::{
    cell::Cell,
    fmt,
    time::{Duration, Instant},
};

/// Why a read could not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VmError {
    /// The value comes from a transaction that is re-executing; wait for it.
    #[error("waits on transaction {0}")]
    Blocked(TxIdx),
    /// The state provider failed.
    #[error("{0}")]
    State(String),
}

impl DBErrorMarker for VmError {}

/// An account of the base state changed by the block's system calls.
#[derive(Debug, Clone)]
struct OverlayAccount {
    info: Option<AccountInfo>,
    storage: HashMap<U256, U256>,
    /// Whether slots not listed are known to be zero (the account was created or destroyed).
    storage_known: bool,
}

/// The state transactions start from: the block's pre-state as `db` serves it, with the
/// changes of the system calls that run before the transactions.
#[derive(Debug)]
pub(crate) struct BaseState<'a, DB> {
    overlay: AddressMap<OverlayAccount>,
    db: &'a DB,
}

impl<'a, DB: StateProvider> BaseState<'a, DB> {
    /// The base over `db` with the accounts `state`'s cache holds after the system calls.
    pub(crate) fn new(db: &'a DB, state: &State<WrapDatabaseRef<&'a DB>>) -> Self {
        let overlay = state
            .cache
            .accounts
            .iter()
            .map(|(address, cached)| {
                let (info, storage) = match &cached.account {
                    Some(plain) => (Some(plain.info.clone()), plain.storage.clone()),
                    None => (None, HashMap::default()),
                };
                (
                    *address,
                    OverlayAccount {
                        info,
                        storage: storage.into_iter().collect(),
                        storage_known: cached.status.is_storage_known(),
                    },
                )
            })
            .collect();
        Self { overlay, db }
    }

    /// The account as the transactions start from it.
    pub(crate) fn basic(&self, address: Address) -> Result<Option<AccountInfo>, VmError> {
        match self.overlay.get(&address) {
            Some(account) => Ok(account.info.clone()),
            None => self.db.basic_ref(address).map_err(state_error),
        }
    }

    fn has_storage(&self, address: Address) -> Result<bool, VmError> {
        match self.overlay.get(&address) {
            Some(account) if account.storage_known => Ok(holds_storage(account.storage.values())),
            _ => self.db.has_storage(address).map_err(state_error),
        }
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, VmError> {
        if let Some(account) = self.overlay.get(&address) {
            if let Some(value) = account.storage.get(&slot) {
                return Ok(*value);
            }
            if account.storage_known {
                return Ok(U256::ZERO);
            }
        }
        self.db.storage_ref(address, slot).map_err(state_error)
    }
}

fn state_error(error: impl fmt::Display) -> VmError {
    VmError::State(error.to_string())
}

/// The database one incarnation executes against: reads go to the multi-version memory, then
/// to the base state, and every read is recorded with the version it saw.
#[derive(Debug)]
pub(crate) struct VmDb<'a, DB> {
    mv: &'a MvMemory,
    base: &'a BaseState<'a, DB>,
    /// The block's transactions, which say what a lazily credited recipient was sent.
    transactions: &'a [Recovered<TxEnvelope>],
    tx: TxIdx,
    spurious_dragon: bool,
    /// Whether creations check the target's storage (EIP-7610; see [`crate::collision`]).
    storage_collisions: bool,
    reads: Vec<(Location, ReadOrigin)>,
    accounts_read: AddressMap<Option<AccountInfo>>,
    /// For each account whose storage was read: the transaction that last wiped it (`None`
    /// for none), as first read in this execution and recorded in the read set.
    wipes_read: AddressMap<Option<TxIdx>>,
    /// The recipient of a plain transfer, read lazily: only its lack of code matters.
    lazy_recipient: Option<Address>,
    /// Whether the recipient was indeed read lazily (it has no code).
    lazy_applied: bool,
    /// Accounts whose balance or nonce the execution observed (see [`super::observed`]).
    balance_observed: AddressSet,
    /// The empty code this worker gives accounts without code. revm's own is one value for
    /// the whole process, whose reference count every load and drop of an account would
    /// write from every worker.
    empty_code: Bytecode,
    spares: Spares,
}

/// Emptied containers of this worker's committed executions, for its next ones: a fresh
/// container costs an allocation at its first insert, and on two threads that allocation was
/// six times dearer than on one (perf, 8,000 transfers: the read sets' alone took 1.3 ms per
/// block), since mimalloc then finds its free blocks among those the other core returned.
#[derive(Debug, Default)]
struct Spares {
    reads: Vec<Vec<(Location, ReadOrigin)>>,
    writes: Vec<Vec<(Location, Value)>>,
    states: Vec<EvmState>,
}

/// Spare containers kept per kind: two batches of returns (see [`super::returns`]).
const SPARES: usize = 64;

/// The largest container kept as a spare, in elements: a transaction touching thousands of
/// locations must not leave its memory to every later one.
const SPARE_CAPACITY: usize = 32;

/// A container a worker can keep emptied for its next execution.
trait Spare {
    fn capacity(&self) -> usize;
    fn clear(&mut self);
}

impl<T> Spare for Vec<T> {
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }

    fn clear(&mut self) {
        Vec::clear(self);
    }
}

impl Spare for EvmState {
    fn capacity(&self) -> usize {
        EvmState::capacity(self)
    }

    fn clear(&mut self) {
        EvmState::clear(self);
    }
}

/// Keeps `container` emptied among `spares`, unless they are enough or it grew too large.
fn keep<T: Spare>(spares: &mut Vec<T>, mut container: T) {
    if spares.len() < SPARES && container.capacity() <= SPARE_CAPACITY {
        container.clear();
        spares.push(container);
    }
}

impl<'a, DB: StateProvider> VmDb<'a, DB> {
    pub(crate) fn new(
        mv: &'a MvMemory,
        base: &'a BaseState<'a, DB>,
        transactions: &'a [Recovered<TxEnvelope>],
        spec: SpecId,
    ) -> Self {
        Self {
            mv,
            base,
            transactions,
            tx: 0,
            spurious_dragon: spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
            storage_collisions: base.db.may_hold_storage_only_accounts(),
            reads: Vec::new(),
            accounts_read: AddressMap::default(),
            wipes_read: AddressMap::default(),
            lazy_recipient: None,
            lazy_applied: false,
            balance_observed: AddressSet::default(),
            empty_code: empty_code(),
            spares: Spares::default(),
        }
    }

    /// Takes back what the committer returned of this worker's executions: their containers
    /// are kept for the next executions, the rest is freed.
    pub(crate) fn recycle(&mut self, returned: Vec<Garbage>) {
        for garbage in returned {
            match garbage {
                Garbage::State(state) => keep(&mut self.spares.states, state),
                Garbage::Execution(execution) => {
                    let Execution {
                        state,
                        reads,
                        writes,
                        ..
                    } = *execution;
                    keep(&mut self.spares.states, state);
                    keep(&mut self.spares.reads, reads);
                    keep(&mut self.spares.writes, writes);
                }
            }
        }
    }

    /// The account with this worker's empty code if it has none, or revm's.
    fn with_empty_code(&self, info: Option<AccountInfo>) -> Option<AccountInfo> {
        info.map(|mut info| {
            if info.code_hash == KECCAK_EMPTY && info.code.as_ref().is_none_or(Bytecode::is_default)
            {
                info.code = Some(self.empty_code.clone());
            }
            info
        })
    }

    /// An account that does not exist, as revm creates one: empty, with this worker's code.
    fn empty_account(&self) -> AccountInfo {
        AccountInfo::new(U256::ZERO, 0, KECCAK_EMPTY, self.empty_code.clone())
    }

    /// Notes that the execution observed `address`'s balance or nonce.
    pub(crate) fn observe_balance(&mut self, address: Address) {
        self.balance_observed.insert(address);
    }

    fn start(&mut self, tx: TxIdx, lazy_recipient: Option<Address>) {
        self.tx = tx;
        self.lazy_recipient = lazy_recipient;
        self.lazy_applied = false;
        self.reads.clear();
        self.accounts_read.clear();
        self.wipes_read.clear();
        self.balance_observed.clear();
    }

    /// The transaction that last wiped `address`'s storage, if any, read once per execution.
    fn wiped_at(&mut self, address: Address) -> Result<Option<TxIdx>, VmError> {
        if let Some(wiped_at) = self.wipes_read.get(&address) {
            return Ok(*wiped_at);
        }
        let location = Location::StorageWipe(address);
        let wipe = self.resolve(&location)?;
        let wiped_at = match &wipe {
            Resolved::Value(version, _) => Some(version.tx),
            _ => None,
        };
        self.reads.push((location, wipe.into_origin()));
        self.wipes_read.insert(address, wiped_at);
        Ok(wiped_at)
    }

    fn resolve(&self, location: &Location) -> Result<Resolved, VmError> {
        self.mv
            .read(location, self.tx, self.transactions)
            .map_err(|Blocked(tx)| VmError::Blocked(tx))
    }
}

impl<DB: StateProvider> Database for VmDb<'_, DB> {
    type Error = VmError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, VmError> {
        let location = Location::Account(address);
        if self.lazy_recipient == Some(address) {
            let below = self
                .mv
                .read_underlying(&location, self.tx)
                .map_err(|Blocked(tx)| VmError::Blocked(tx))?;
            let underlying = match &below {
                Some((_, info)) => info.clone(),
                None => self.base.basic(address)?,
            };
            if super::codeless(underlying.as_ref()) {
                // Its balance is not observed: the transfer becomes a balance delta.
                self.lazy_applied = true;
                let version = below.map(|(version, _)| version);
                self.reads.push((location, ReadOrigin::Codeless(version)));
                return Ok(Some(self.empty_account()));
            }
        }
        let resolved = self.resolve(&location)?;
        let info = match &resolved {
            Resolved::Base => self.base.basic(address)?,
            Resolved::Value(_, Value::Account(info)) => info.clone(),
            Resolved::Deltas {
                sum,
                below,
                debited,
                ..
            } => {
                let under = match below {
                    Some((_, info)) => info.clone(),
                    None => self.base.basic(address)?,
                };
                let under = under.unwrap_or_else(|| self.empty_account());
                with_deltas(under, *sum, *debited, self.spurious_dragon)
            }
            Resolved::Value(..) => {
                return Err(VmError::State(format!(
                    "{location:?} holds a non-account value"
                )));
            }
        };
        let info = self.with_empty_code(info);
        self.reads.push((location, resolved.into_origin()));
        self.accounts_read.insert(address, info.clone());
        Ok(info)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, VmError> {
        self.base
            .db
            .code_by_hash_ref(code_hash)
            .map_err(state_error)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, VmError> {
        let location = Location::Storage(address, index);
        let slot = self.resolve(&location)?;
        let wiped_at = self.wiped_at(address)?;
        let value = match &slot {
            Resolved::Value(version, Value::Storage(value))
                if wiped_at.is_none_or(|wiped| version.tx >= wiped) =>
            {
                *value
            }
            _ if wiped_at.is_some() => U256::ZERO,
            Resolved::Base => self.base.storage(address, index)?,
            _ => {
                return Err(VmError::State(format!(
                    "{location:?} holds a non-slot value"
                )));
            }
        };
        self.reads.push((location, slot.into_origin()));
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, VmError> {
        self.base.db.block_hash_ref(number).map_err(state_error)
    }
}

impl<DB: StateProvider> StorageOracle for VmDb<'_, DB> {
    fn has_storage(&mut self, address: Address) -> Result<bool, VmError> {
        // A wipe by a lower transaction removed the account with its storage, and no code can
        // give a codeless account storage again (see `StorageOracle`).
        if self.wiped_at(address)?.is_some() {
            return Ok(false);
        }
        self.base.has_storage(address)
    }
}

/// An account after a balance credit the way revm applies one (a missing account is created
/// for it, empty, by the caller) and after its plain transfers' predicted debits (their sum
/// and number), and from Spurious Dragon on an account left empty does not exist.
fn with_deltas(
    mut info: AccountInfo,
    credit: U256,
    debited: Option<(U256, u64)>,
    spurious_dragon: bool,
) -> Option<AccountInfo> {
    if let Some(balance) = info.balance.checked_add(credit) {
        info.balance = balance;
    }
    if let Some((debit, transfers)) = debited {
        // A debit larger than the balance makes the sender's next transaction invalid, which
        // its own read then shows; the block fails if that read is final.
        info.balance = info.balance.saturating_sub(debit);
        info.nonce = info.nonce.saturating_add(transfers);
    }
    (!spurious_dragon || !info.is_empty()).then_some(info)
}

/// Turns `sender`'s whole write in `writes` into a [`Value::Debit`] if the execution changed
/// the account (as read) exactly as `debit` predicted: the balance lower by it, the nonce
/// higher by one, nothing else.
fn confirm_debit(
    writes: &mut [(Location, Value)],
    accounts_read: &AddressMap<Option<AccountInfo>>,
    sender: Address,
    debit: U256,
) {
    let Some(Some(before)) = accounts_read.get(&sender) else {
        return;
    };
    let location = Location::Account(sender);
    if let Some((_, value)) = writes.iter_mut().find(|(written, _)| *written == location)
        && let Value::Account(Some(after)) = value
        && before.balance.checked_sub(debit) == Some(after.balance)
        && before.nonce.checked_add(1) == Some(after.nonce)
        && before.code_hash == after.code_hash
    {
        *value = Value::Debit;
    }
}

/// The EVM each worker keeps for a block.
pub(crate) type WorkerEvm<'a, DB> = MainnetEvm<MainnetContext<VmDb<'a, DB>>, StorageCollisions>;

/// A worker's EVM for a block with this environment, reading through `db`.
pub(crate) fn worker_evm<'a, DB: StateProvider>(
    db: VmDb<'a, DB>,
    block: &BlockEnv,
    cfg: &CfgEnv,
) -> WorkerEvm<'a, DB> {
    let mut evm = MainnetContext::mainnet()
        .with_db(db)
        .with_block(block.clone())
        .with_cfg(cfg.clone())
        .build_mainnet_with_inspector(StorageCollisions);
    super::observed::install(&mut evm);
    evm
}

/// Mainnet's transaction handler, except that the beneficiary's fee is computed, not paid.
struct DeferredFee<EVM> {
    fee: Cell<U256>,
    _evm: std::marker::PhantomData<fn() -> EVM>,
}

impl<'a, DB: StateProvider> Handler for DeferredFee<WorkerEvm<'a, DB>> {
    type Evm = WorkerEvm<'a, DB>;
    type Error = EVMError<VmError, InvalidTransaction>;
    type HaltReason = HaltReason;

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        let ctx = evm.ctx();
        if ctx.cfg().is_fee_charge_disabled() {
            return Ok(());
        }
        let basefee = ctx.block().basefee() as u128;
        let price = ctx.tx().effective_gas_price(basefee);
        let price = if ctx.cfg().spec().is_enabled_in(SpecId::LONDON) {
            price.saturating_sub(basefee)
        } else {
            price
        };
        let gas = exec_result.gas();
        let used = gas.used().saturating_sub(gas.reservoir());
        self.fee.set(U256::from(price.wrapping_mul(used as u128)));
        Ok(())
    }
}

impl<'a, DB: StateProvider> InspectorHandler for DeferredFee<WorkerEvm<'a, DB>> {
    type IT = EthInterpreter;
}

/// What one incarnation produced.
#[derive(Debug)]
pub(crate) struct Execution {
    /// revm's result, or the error that makes the transaction invalid.
    pub(crate) result: Result<ExecutionResult<HaltReason>, EVMError<VmError, InvalidTransaction>>,
    /// revm's state changes, the beneficiary's fee included when the transaction touched it.
    pub(crate) state: EvmState,
    /// What it read, with the versions read.
    pub(crate) reads: Vec<(Location, ReadOrigin)>,
    /// The transactions it read from, sorted: its edges in the block's dependency graph,
    /// found here on the worker rather than by the serial commit.
    pub(crate) dependencies: Vec<TxIdx>,
    /// What it wrote.
    pub(crate) writes: Vec<(Location, Value)>,
    /// The fee it owes the beneficiary, already in `state` if the beneficiary is there.
    pub(crate) fee: U256,
    /// A plain transfer's recipient read lazily and the amount it receives; not in `state`.
    pub(crate) lazy_credit: Option<(Address, U256)>,
    /// The touched accounts of `state` that it changed other than plainly, which cannot be
    /// deferred (see [`super::deferred`]).
    pub(crate) not_plain: Vec<Address>,
    /// The contracts read for their code alone, with what it credited them: their balances
    /// and nonces in `state` are as read (plus the credit), not as committed.
    pub(crate) code_only: Vec<(Address, U256)>,
    /// The bloom of the logs it emitted, for its receipt; `None` if it emitted none. Boxed:
    /// its 256 bytes would otherwise be written by the worker and read by the committer for
    /// every transaction, most of them as zeros.
    pub(crate) bloom: Option<Box<Bloom>>,
    /// How long the execution took.
    pub(crate) duration: Duration,
    /// The number its write set was published under in the multi-version memory.
    pub(crate) published_as: u64,
    /// The multi-version memory's publication number when the execution, or a later
    /// validation that found its read set valid, began: its reads have seen every change
    /// published up to there.
    pub(crate) valid_at: u64,
    /// The worker that ran it, which frees its memory (see [`super::returns`]).
    pub(crate) worker: usize,
}

/// Executes transaction `tx` on `evm`; `Err` names the transaction whose ESTIMATE it read.
pub(crate) fn execute<DB: StateProvider>(
    evm: &mut WorkerEvm<'_, DB>,
    blooms: &mut BloomHasher,
    tx: TxIdx,
    tx_env: TxEnv,
    beneficiary: Address,
    lazy_recipient: Option<Address>,
) -> Result<Execution, Blocked> {
    let started = Instant::now();
    let journal = &mut evm.ctx.journaled_state;
    journal.database.start(tx, lazy_recipient);
    if journal.inner.state.capacity() == 0
        && let Some(state) = journal.database.spares.states.pop()
    {
        journal.inner.state = state;
    }
    evm.ctx.set_tx(tx_env);
    let mut handler = DeferredFee::<WorkerEvm<'_, DB>> {
        fee: Cell::new(U256::ZERO),
        _evm: std::marker::PhantomData,
    };
    let result = if evm.ctx.journaled_state.database.storage_collisions {
        handler.inspect_run(evm)
    } else {
        handler.run(evm)
    };
    let mut state = evm.ctx.journaled_state.finalize();
    if let Err(EVMError::Database(VmError::Blocked(blocking))) = result {
        return Err(Blocked(blocking));
    }
    let db = &mut evm.ctx.journaled_state.database;
    let spurious_dragon = db.spurious_dragon;
    let mut writes = db.spares.writes.pop().unwrap_or_default();
    let fee = handler.fee.get();
    let mut lazy_credit = None;
    let mut code_only = Vec::new();
    let mut not_plain = Vec::new();
    if result.is_ok() {
        if let Some(recipient) = lazy_recipient.filter(|_| db.lazy_applied)
            && let Some(account) = state.remove(&recipient)
            && account.is_touched()
        {
            // The recipient was served as an empty account: its balance is what it received,
            // the transaction's value, which readers of the credit take from the transaction.
            let received = account.info.balance;
            let credit = if received == evm.ctx.tx.value {
                Value::Credit
            } else {
                Value::BalanceDelta(received)
            };
            writes.push((Location::Account(recipient), credit));
            lazy_credit = Some((recipient, received));
        }
        match state.get_mut(&beneficiary) {
            Some(account) => credit(account, fee, spurious_dragon),
            None => writes.push((Location::Account(beneficiary), Value::BalanceDelta(fee))),
        }
        write_set(&state, &db.accounts_read, &mut writes);
        not_plain = super::deferred::not_plain(&state, &db.accounts_read);
        code_only = super::observed::code_only_reads(
            &mut db.reads,
            &db.accounts_read,
            &db.balance_observed,
            &mut writes,
            beneficiary,
        );
        if let Some(debit) = db.mv.predicted_debit(tx)
            && let Some(sender) = db.transactions.get(tx).map(|tx| tx.signer())
        {
            confirm_debit(&mut writes, &db.accounts_read, sender, debit);
        }
    }
    let bloom = match &result {
        Ok(result) if !result.logs().is_empty() => Some(Box::new(blooms.logs_bloom(result.logs()))),
        _ => None,
    };
    let spare_reads = db.spares.reads.pop().unwrap_or_default();
    let reads = std::mem::replace(&mut db.reads, spare_reads);
    let mut dependencies: Vec<TxIdx> = (reads.iter())
        .flat_map(|(_, origin)| origin.writers())
        .collect();
    dependencies.sort_unstable();
    dependencies.dedup();
    Ok(Execution {
        result,
        bloom,
        state,
        reads,
        dependencies,
        writes,
        fee,
        lazy_credit,
        not_plain,
        code_only,
        duration: started.elapsed(),
        published_as: 0,
        valid_at: 0,
        worker: 0,
    })
}

/// Credits `amount` to an account as revm's reward (or a value transfer) does: a touch and a
/// balance increase, with the pre-Spurious-Dragon rule for empty accounts that revm applies
/// when it finalizes a transaction (a new empty account is created, an existing one left
/// alone).
pub(crate) fn credit(account: &mut Account, amount: U256, spurious_dragon: bool) {
    account.mark_touch();
    if let Some(balance) = account.info.balance.checked_add(amount) {
        account.info.balance = balance;
    }
    if !spurious_dragon
        && account.is_empty()
        && !account.is_selfdestructed()
        && !account.is_created()
    {
        if account.is_loaded_as_not_existing() {
            account.mark_created();
        } else {
            account.unmark_touch();
        }
    }
}

/// The locations revm's state changes write, following how revm's `State` commits them:
/// untouched accounts are skipped, destroyed and (from Spurious Dragon, as normalized by the
/// journal) empty accounts cease to exist with their storage, created accounts start with
/// empty storage. An account written back unchanged is not a write.
fn write_set(
    state: &EvmState,
    accounts_read: &AddressMap<Option<AccountInfo>>,
    writes: &mut Vec<(Location, Value)>,
) {
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let before = accounts_read.get(address);
        let existed = matches!(before, Some(Some(_)));
        if account.is_selfdestructed() || (account.is_empty() && !account.is_created()) {
            if existed {
                writes.push((Location::Account(*address), Value::Account(None)));
                writes.push((Location::StorageWipe(*address), Value::StorageWipe));
            }
            continue;
        }
        if account.is_created() {
            writes.push((Location::StorageWipe(*address), Value::StorageWipe));
        }
        let unchanged = !account.is_created()
            && before.is_some_and(|before| before.as_ref() == Some(&account.info));
        if !unchanged {
            writes.push((
                Location::Account(*address),
                Value::Account(Some(shared_info(&account.info))),
            ));
        }
        for (slot, value) in account.changed_storage_slots() {
            writes.push((
                Location::Storage(*address, *slot),
                Value::Storage(value.present_value),
            ));
        }
    }
}

/// The empty code in an allocation of its own: revm hands out one for the whole process,
/// even for empty bytes.
fn empty_code() -> Bytecode {
    // SAFETY: the components of revm's own empty code (`Bytecode::new`): one STOP, the padding
    // that analysing empty code produces, and no jump destinations.
    unsafe {
        Bytecode::new_analyzed(
            alloy_primitives::Bytes::from_static(&[0x00]),
            0,
            revm::bytecode::JumpTable::default(),
        )
    }
}

/// The account as the multi-version memory shares it with readers: without its code if it has
/// none, which revm then loads as the empty code itself. Cloning the empty code would count a
/// reference on the one value every account of every worker shares.
fn shared_info(info: &AccountInfo) -> AccountInfo {
    if info.code_hash == KECCAK_EMPTY {
        info.copy_without_code()
    } else {
        info.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workers_empty_code_is_revms_empty_code_in_an_allocation_of_its_own() {
        let ours = empty_code();
        let revms = Bytecode::default();
        assert_eq!(ours, revms);
        assert_eq!(ours.kind(), revms.kind());
        assert_eq!(ours.bytecode(), revms.bytecode());
        assert_eq!(ours.legacy_jump_table(), revms.legacy_jump_table());
        assert_eq!(ours.hash_slow(), KECCAK_EMPTY);
        assert!(!ours.is_default());
    }

    #[test]
    fn accounts_without_code_are_shared_without_it_and_contracts_with_it() {
        let eoa = AccountInfo::default().with_balance(U256::from(1));
        let shared = shared_info(&eoa);
        assert_eq!((shared.code, shared.balance), (None, U256::from(1)));
        assert!(eoa.code.is_some());
        let code = Bytecode::new_raw(vec![0x60, 0x00].into());
        let contract = AccountInfo::default().with_code(code.clone());
        assert_eq!(shared_info(&contract).code, Some(code));
    }

    #[test]
    fn spares_are_kept_emptied_and_bounded_in_size_and_number() {
        let mut spares = Spares::default();
        let mut state = EvmState::default();
        state.insert(Address::ZERO, Account::default());
        keep(&mut spares.states, state);
        assert!(spares.states.first().is_some_and(EvmState::is_empty));
        // A container grown past the bound is freed, not kept.
        let mut big = EvmState::default();
        for byte in 0..=u8::try_from(SPARE_CAPACITY).unwrap() {
            big.insert(Address::with_last_byte(byte), Account::default());
        }
        keep(&mut spares.states, big);
        assert_eq!(spares.states.len(), 1);
        for _ in 0..SPARES + 1 {
            let writes = vec![(Location::Account(Address::ZERO), Value::Account(None))];
            keep(&mut spares.writes, writes);
        }
        assert_eq!(spares.writes.len(), SPARES);
        assert!(spares.writes.iter().all(Vec::is_empty));
    }
}
