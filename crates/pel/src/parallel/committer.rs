//! Rolling commit: final transaction results go into the block executor in order while the
//! workers are still executing the transactions above them.
//!
//! Transaction `i` is final once every transaction below it is committed (so nothing it can
//! read will change again), it has executed, and its read set still validates. The worker that
//! holds the commit lock then marks it committed (no validation can abort it any more) and
//! hands its state changes to `alloy-evm`'s block executor, which builds the receipt, adds the
//! gas and commits the state exactly as for the sequential engine. The beneficiary's fee, kept
//! out of the parallel phase, is paid here on the committed state.

use super::{
    DependencyGraph,
    deferred::{Deferred, Route},
    executor::{Shared, Stop},
    mv_memory::TxIdx,
    returns::{Garbage, ReturnStates, Returns, Sender},
    vm::{self, BaseState},
};
use crate::{BlockInput, ExecuteError, StateProvider, TxOutcome};
use alloy_consensus::Transaction;
use alloy_evm::{
    Evm,
    block::{BlockExecutionError, BlockExecutor, BlockValidationError},
    eth::EthTxResult,
};
use alloy_primitives::{Address, U256, map::Entry};
use revm::{
    Database, DatabaseCommit,
    context::result::{EVMError, ResultAndState},
    state::{Account, EvmState, TransactionId},
};
use std::{
    fmt::Debug,
    sync::Arc,
    time::{Duration, Instant},
};

/// After this many committed transactions, a block whose dependency graph so far allows less
/// than [`MIN_IDEAL_SPEEDUP`] stops Block-STM and runs sequentially: its transactions form a
/// chain (one hot contract), so threads would only abort and wait. Checking once, early,
/// bounds the wasted work to this many transactions.
const CHAIN_CHECK_AT: usize = 32;

/// The least ideal speedup, over the first [`CHAIN_CHECK_AT`] transactions counted in
/// transactions (their number over the longest chain among them), at which Block-STM goes on.
const MIN_IDEAL_SPEEDUP: f64 = 1.25;

/// The block executor the committed transactions go through.
pub(crate) type BlockExec<'a, 'db, DB> =
    crate::sequential::Executor<'a, &'db DB, super::receipt::PrecomputedBloom>;

/// The commit side of a block: the executor, and how far it has got.
pub(crate) struct Committer<'a, 'db, DB: StateProvider + Debug> {
    pub(crate) executor: BlockExec<'a, 'db, DB>,
    block: &'a BlockInput,
    beneficiary: Address,
    spurious_dragon: bool,
    gas_limit: u64,
    gas_limit_cap: u64,
    /// The next transaction to commit.
    pub(crate) next: TxIdx,
    /// The beneficiary's fees of committed transactions not yet paid to it, while they may be
    /// paid at once (see [`Committer::fees_can_wait`]).
    fees_pending: Option<U256>,
    /// The highest publication number of a committed write set (see
    /// [`Shared::claim_for_commit`]).
    final_writes: u64,
    pub(crate) outcomes: Vec<TxOutcome>,
    /// Each committed transaction's execution time and the transactions it read from.
    pub(crate) graph: DependencyGraph,
    /// When the committed transactions have formed one chain, stop (see [`CHAIN_CHECK_AT`]).
    check_chain: bool,
    /// The first transaction that could not be committed; the block fails with it.
    pub(crate) error: Option<ExecuteError>,
    pub(crate) time: Duration,
    /// Hands the rest of each execution back to its worker, and says whose state changes the
    /// state hook is about to receive.
    sender: Sender,
    /// The accounts kept out of `State` until the bundle is built, from Spurious Dragon on
    /// (before it, touching an empty account has effects the final value does not show).
    pub(crate) deferred: Option<Deferred>,
}

impl<DB: StateProvider + Debug> Debug for Committer<'_, '_, DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer")
            .field("next", &self.next)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<'a, 'db, DB> Committer<'a, 'db, DB>
where
    DB: StateProvider + Debug + Sync,
    DB::Error: Send + Sync + 'static,
{
    pub(crate) fn new(
        executor: BlockExec<'a, 'db, DB>,
        block: &'a BlockInput,
        spurious_dragon: bool,
        check_chain: bool,
        returns: &Arc<Returns>,
    ) -> Self {
        let mut executor = executor;
        (executor.evm_mut().db_mut()).set_state_hook(Some(Box::new(ReturnStates(Sender::new(
            Arc::clone(returns),
        )))));
        let beneficiary = executor.evm().block().beneficiary;
        let gas_limit = executor.evm().block().gas_limit;
        let gas_limit_cap =
            revm::context_interface::Cfg::tx_gas_limit_cap(executor.evm().cfg_env());
        let deferred = spurious_dragon.then(|| {
            let touched_before = executor.evm().db().cache.accounts.keys().copied();
            Deferred::new(block, beneficiary, touched_before)
        });
        Self {
            executor,
            block,
            beneficiary,
            spurious_dragon,
            gas_limit,
            gas_limit_cap,
            next: 0,
            final_writes: 0,
            fees_pending: None,
            outcomes: Vec::with_capacity(block.transactions.len()),
            graph: DependencyGraph {
                durations: Vec::with_capacity(block.transactions.len()),
                dependencies: Vec::with_capacity(block.transactions.len()),
            },
            check_chain,
            error: None,
            time: Duration::ZERO,
            sender: Sender::new(Arc::clone(returns)),
            deferred,
        }
    }

    /// Whether every transaction is committed, or the block failed.
    pub(crate) fn finished(&self) -> bool {
        self.error.is_some() || self.next >= self.block.transactions.len()
    }

    /// Commits every transaction that is final, in order, and stops at the first that is not.
    pub(crate) fn commit_ready(&mut self, shared: &Shared<'_, DB>) {
        // Timed from the first claim that succeeds: most calls find nothing to commit.
        let mut start = None;
        let first = self.next;
        while !self.finished() {
            let index = self.next;
            let Some(execution) = shared.claim_for_commit(index, self.final_writes) else {
                break;
            };
            start.get_or_insert_with(Instant::now);
            self.final_writes = self.final_writes.max(execution.published_as);
            if let Err(error) = self.commit(index, execution, shared.base) {
                self.error = Some(error);
                break;
            }
            self.next += 1;
            if self.check_chain && self.next == CHAIN_CHECK_AT && self.chained() {
                shared.stop_with(Stop::Chained);
                break;
            }
        }
        if self.next > first {
            shared.scheduler.committed_up_to(self.next);
        }
        if self.finished() {
            shared.scheduler.halt();
        }
        if let Some(start) = start {
            self.time += start.elapsed();
        }
    }

    /// Executes the transactions not committed yet one after another on the state committed so
    /// far, as the sequential engine would have: where a block goes when Block-STM gives up, so
    /// that the transactions already committed are not executed again.
    pub(crate) fn finish_in_order(&mut self) -> Result<(), ExecuteError> {
        self.pay_pending_fees()
            .map_err(ExecuteError::PostExecution)?;
        // What runs from here was allocated on this thread: commit it as the sequential
        // engine does, without the hook that returns memory to other workers.
        (self.executor.evm_mut().db_mut()).set_state_hook(None);
        // The transactions in order read and change the deferred accounts through `State`.
        if let Some(mut deferred) = self.deferred.take() {
            let changes = deferred.promote_all();
            DatabaseCommit::commit(self.executor.evm_mut().db_mut(), changes);
        }
        crate::sequential::execute_in_order(
            &mut self.executor,
            self.block,
            self.next,
            &mut self.outcomes,
        )?;
        self.next = self.block.transactions.len();
        Ok(())
    }

    /// Whether the transactions committed so far allow less than [`MIN_IDEAL_SPEEDUP`],
    /// judged by the shape of their dependencies, not by measured times: one preempted
    /// transaction must not make a parallel block look like a chain. Dependencies between
    /// transactions of one sender do not count: those chains are known before execution
    /// (`unprofitable` judges them, and the scheduler orders them), and a payout batch at the
    /// top of a block says nothing about the transactions after it. This check is for the
    /// chains only execution shows: through a contract's state.
    fn chained(&self) -> bool {
        let signer = |index: TxIdx| self.block.transactions.get(index).map(|tx| tx.signer());
        let dependencies = (self.graph.dependencies.iter().enumerate())
            .map(|(index, dependencies)| {
                (dependencies.iter().copied())
                    .filter(|&dependency| signer(dependency) != signer(index))
                    .collect()
            })
            .collect();
        let graph = DependencyGraph {
            durations: Vec::new(),
            dependencies,
        };
        (graph.dependencies.len() as f64) < graph.depth() as f64 * MIN_IDEAL_SPEEDUP
    }

    /// The account as committed so far.
    fn committed_account(&mut self, address: Address) -> Result<Account, BlockExecutionError> {
        let info = Database::basic(self.executor.evm_mut().db_mut(), address)
            .map_err(BlockExecutionError::other)?;
        Ok(match info {
            Some(info) => Account::from(info),
            None => Account::new_not_existing(TransactionId::ZERO),
        })
    }

    /// Whether the fees of the following transactions may be summed and paid at once, given the
    /// beneficiary as just credited: only while it exists and is not empty, from Spurious
    /// Dragon on. Then every fee is a plain balance increase of an existing account, and one
    /// payment of their sum leaves the state and its changes exactly as the separate payments
    /// would; an empty or missing beneficiary (touched and deleted, or created) is paid one
    /// transaction at a time.
    fn fees_can_wait(&self, beneficiary: &Account) -> bool {
        self.spurious_dragon && !beneficiary.is_selfdestructed() && !beneficiary.is_empty()
    }

    /// Pays the fees summed so far to the beneficiary, as one change of the committed state.
    pub(crate) fn pay_pending_fees(&mut self) -> Result<(), BlockExecutionError> {
        let Some(sum) = self.fees_pending.take() else {
            return Ok(());
        };
        let mut account = self.committed_account(self.beneficiary)?;
        vm::credit(&mut account, sum, self.spurious_dragon);
        let mut changes = revm::state::EvmState::default();
        changes.insert(self.beneficiary, account);
        DatabaseCommit::commit(self.executor.evm_mut().db_mut(), changes);
        Ok(())
    }

    fn commit(
        &mut self,
        index: TxIdx,
        mut execution: Box<vm::Execution>,
        base: &BaseState<'_, DB>,
    ) -> Result<(), ExecuteError> {
        let Some(tx) = self.block.transactions.get(index) else {
            return Ok(());
        };
        let fail = |source| ExecuteError::Transaction {
            index,
            hash: *tx.tx_hash(),
            source,
        };
        // As `alloy-evm` checks before executing: the gas limit must fit what is left.
        let available = self
            .gas_limit
            .saturating_sub(self.executor.cumulative_tx_gas_used);
        if tx.gas_limit().min(self.gas_limit_cap) > available {
            return Err(fail(
                BlockValidationError::TransactionGasLimitMoreThanAvailableBlockGas {
                    transaction_gas_limit: tx.gas_limit(),
                    block_available_gas: available,
                }
                .into(),
            ));
        }
        let result = std::mem::replace(&mut execution.result, Err(EVMError::Custom(String::new())))
            .map_err(|error| fail(BlockExecutionError::evm(error, *tx.tx_hash())))?;
        self.graph.durations.push(execution.duration);
        (self.graph.dependencies).push(std::mem::take(&mut execution.dependencies));
        let mut changes = std::mem::take(&mut execution.state);
        // The contracts read for their code alone (see `observed`), with what they were
        // credited.
        let code_only = std::mem::take(&mut execution.code_only);
        if let Some(deferred) = &mut self.deferred {
            // Only what goes through `State` stays; the deferred rest goes back with the
            // execution.
            let through = deferred.take(&mut changes, &execution.not_plain, &code_only);
            // Most transactions of cheap blocks change deferred accounts alone: no map to
            // allocate for them.
            let mut committed = EvmState::default();
            if !through.is_empty() {
                committed.reserve(through.len() + 2);
            }
            for (address, route) in through {
                if let Route::Promoted(account) = route {
                    let mut promotion = EvmState::default();
                    promotion.insert(address, account);
                    DatabaseCommit::commit(self.executor.evm_mut().db_mut(), promotion);
                }
                if let Some(account) = changes.remove(&address) {
                    committed.insert(address, account);
                }
            }
            execution.state = std::mem::replace(&mut changes, committed);
        }
        // A contract read for its code alone comes back from revm touched, with the balance
        // and nonce it had when read (plus any credit it received), which lower transactions
        // may have changed since: it is committed with those as they are now, and the credit,
        // as revm would have read them.
        for (address, credit) in &code_only {
            if changes.contains_key(address) {
                let committed = self.committed_account(*address).map_err(fail)?;
                if let Some(account) = changes.get_mut(address) {
                    account.info.balance = committed.info.balance.saturating_add(*credit);
                    account.info.nonce = committed.info.nonce;
                }
            }
        }
        // What the parallel phase kept as balance deltas is paid on the state as committed so
        // far, the way revm would have: the beneficiary's fee if the transaction left the
        // beneficiary alone, and a plain transfer's amount to its lazily read recipient.
        let mut fee_credit = None;
        if changes.contains_key(&self.beneficiary) {
            // The worker paid the fee into its own change of the beneficiary, which includes
            // every fee below it: those owed must reach the state first.
            self.pay_pending_fees().map_err(fail)?;
        } else if let Some(owed) = &mut self.fees_pending {
            *owed = owed.saturating_add(execution.fee);
        } else {
            fee_credit = Some((self.beneficiary, execution.fee));
        }
        for (address, amount) in fee_credit.into_iter().chain(execution.lazy_credit.take()) {
            if let Some(deferred) = &mut self.deferred
                && (deferred.credit(address, amount, base))
                    .map_err(|error| fail(BlockExecutionError::other(error)))?
            {
                continue;
            }
            if let Entry::Vacant(entry) = changes.entry(address) {
                let mut account = self.committed_account(address).map_err(fail)?;
                vm::credit(&mut account, amount, self.spurious_dragon);
                entry.insert(account);
            }
        }
        if self.fees_pending.is_none() {
            let can_wait = changes
                .get(&self.beneficiary)
                .is_some_and(|beneficiary| self.fees_can_wait(beneficiary));
            self.fees_pending = can_wait.then_some(U256::ZERO);
        }
        self.outcomes.push(TxOutcome::from(&result));
        if let Some(bloom) = &execution.bloom {
            self.executor.receipt_builder.set_next(**bloom);
        }
        self.sender.set_owner(execution.worker);
        self.executor.commit_transaction(EthTxResult {
            result: ResultAndState::new(result, changes),
            blob_gas_used: tx.blob_gas_used().unwrap_or_default(),
            tx_type: tx.tx_type(),
        });
        self.sender.set_owner(0);
        self.sender
            .give_back(execution.worker, Garbage::Execution(execution));
        Ok(())
    }
}
