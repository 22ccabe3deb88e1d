//! The parallel engine: Block-STM over revm, returning exactly what [`crate::sequential`]
//! returns.
//!
//! A block runs in three phases. The system calls before the transactions run first, on the
//! calling thread, through `alloy-evm`'s block executor. Then worker threads execute the
//! transactions optimistically against a multi-version memory ([`mv_memory`]), scheduled by
//! Block-STM's collaborative scheduler ([`scheduler`]) with dependency suspension and
//! validation ([`executor`]); the revm adapter ([`vm`]) records read sets and write sets and
//! keeps the beneficiary's fee out of them. Last, each transaction's final state changes are
//! committed in order through the same block executor as the sequential engine (receipts,
//! gas, fee to the beneficiary), followed by rewards and withdrawals, so the output is built by
//! the same code from the same per-transaction results.
//!
//! Blocks too small for threads to pay run sequentially ([`Fallback::Auto`]). A block whose
//! transactions keep aborting (executions are bounded, never spinning), or whose first
//! transactions form one dependency chain, finishes in order on the state Block-STM committed.

mod bloom;
mod committer;
mod debits;
mod deferred;
mod dependency;
mod executor;
mod fallback;
mod hints;
mod locks;
mod mv_memory;
mod observed;
mod owed;
mod padded;
mod pool;
mod publications;
mod receipt;
mod returns;
mod scheduler;
#[cfg(test)]
mod test_txs;
mod vm;

use crate::{
    BlockInput, BlockOutput, Chain, ExecuteError, StateProvider, sequential, sequential::Scope,
};
use alloy_evm::{
    Evm,
    block::{BlockExecutionError, BlockExecutor},
};
use committer::Committer;
use debits::{DebitRule, Debits};
pub use dependency::DependencyGraph;
use executor::{Shared, Stop};
pub use fallback::{MIN_PARALLEL_GAS, Unprofitable, unprofitable};
use fallback::{Recipients, Survey};
use mv_memory::{MvMemory, TxIdx};
use padded::Padded;
use receipt::PrecomputedBloom;
use revm::{
    database::{State, states::bundle_state::BundleRetention},
    primitives::hardfork::SpecId,
};
use scheduler::Scheduler;
use std::{
    fmt::Debug,
    sync::{Mutex, atomic::AtomicUsize, atomic::Ordering},
    time::{Duration, Instant},
};

/// Blocks with fewer transactions run sequentially under [`Fallback::Auto`].
pub const MIN_PARALLEL_TXS: usize = 4;

/// How many executions per transaction a block may take before it is declared too contended
/// and run sequentially instead.
const MAX_EXECUTIONS_PER_TX: usize = 8;

/// How many transactions from the commit frontier on get no validation task: the committer
/// validates each of them as it commits it, and aborts it if a read changed. Near the frontier a
/// validation task finds a conflict no sooner than the commit does, and costs a task each: on
/// 8,000 transfers, without one per transaction, two threads spent 7% less CPU time (the
/// scheduler's round trips, the validations, and the empty turns between them). A wider window
/// (64) measured the same; it would leave more conflicts to be found by the commit.
const VALIDATION_WINDOW: usize = 16;

/// When the parallel engine hands a block to the sequential one instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fallback {
    /// When threads cannot pay: one thread, or a block [`unprofitable`] says is better run
    /// sequentially.
    #[default]
    Auto,
    /// Never by size: always run Block-STM (tests and measurements of the machinery). A
    /// block that keeps aborting still falls back.
    Never,
}

/// How the parallel engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelConfig {
    /// Worker threads, the calling thread included.
    pub threads: usize,
    /// When to run a block sequentially instead.
    pub fallback: Fallback,
}

impl Default for ParallelConfig {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            fallback: Fallback::Auto,
        }
    }
}

/// How a block ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Block-STM on the worker threads.
    #[default]
    Parallel,
    /// Sequentially, because only one thread was asked for.
    OneThread,
    /// Sequentially, because a look at the block said threads would not pay.
    Unprofitable(Unprofitable),
    /// Block-STM until it passed its bound on executions, then the rest in order.
    Contended,
    /// Block-STM until the first transactions it committed formed one dependency chain (a hot
    /// contract), where threads would only wait; then the rest in order.
    Chain,
    /// Block-STM, then again sequentially: the block's own changes (rewards, withdrawals,
    /// system calls) reached an account whose changes the commit had kept out of `State`
    /// (see `deferred`). Never seen on Ethereum; the block is right, only slower.
    Rerun,
}

impl Mode {
    /// A short stable name: `parallel`, `one-thread`, `small`, `transfers`, `chained`,
    /// `contended`, `chain` or `rerun`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Parallel => "parallel",
            Self::OneThread => "one-thread",
            Self::Unprofitable(Unprofitable::Small) => "small",
            Self::Unprofitable(Unprofitable::Transfers) => "transfers",
            Self::Unprofitable(Unprofitable::Chained) => "chained",
            Self::Contended => "contended",
            Self::Chain => "chain",
            Self::Rerun => "rerun",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Parallel => "parallel",
            Self::OneThread => "sequential: one thread",
            Self::Unprofitable(Unprofitable::Small) => "sequential: small block",
            Self::Unprofitable(Unprofitable::Transfers) => "sequential: a few plain transfers",
            Self::Unprofitable(Unprofitable::Chained) => "sequential: one dependency chain",
            Self::Contended => "in order after too many re-executions",
            Self::Chain => "in order after the first transactions formed one dependency chain",
            Self::Rerun => {
                "sequentially again after block-level changes reached a deferred account"
            }
        })
    }
}

/// What the parallel engine did on one block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParallelStats {
    /// How the block ran.
    pub mode: Mode,
    /// Worker threads used.
    pub threads: usize,
    /// Incarnations started, including those stopped by a dependency.
    pub executions: usize,
    /// Executions beyond one per transaction.
    pub re_executions: usize,
    /// Read-set validations.
    pub validations: usize,
    /// Validations that found a changed read and aborted the incarnation.
    pub validation_aborts: usize,
    /// Times a transaction was suspended on another's ESTIMATE.
    pub suspensions: usize,
    /// Time in the parallel phase.
    pub parallel_time: Duration,
    /// Time committing results in order (receipts, state, rewards).
    pub commit_time: Duration,
    /// The block's dependency graph as observed, for the ideal speedup; `None` when the block
    /// ran sequentially.
    pub graph: Option<DependencyGraph>,
}

/// Executes `block` on up to `config.threads` threads; the output equals
/// [`sequential::execute`]'s.
pub fn execute<DB>(
    chain: &Chain,
    block: &BlockInput,
    db: DB,
    config: ParallelConfig,
) -> Result<(BlockOutput, ParallelStats), ExecuteError>
where
    DB: StateProvider + Debug + Sync,
    DB::Error: Send + Sync + 'static,
{
    run(chain, block, db, config, Scope::Block)
}

/// Executes only `block`'s transactions, as [`sequential::execute_transactions`] does.
pub fn execute_transactions<DB>(
    chain: &Chain,
    block: &BlockInput,
    db: DB,
    config: ParallelConfig,
) -> Result<(BlockOutput, ParallelStats), ExecuteError>
where
    DB: StateProvider + Debug + Sync,
    DB::Error: Send + Sync + 'static,
{
    run(chain, block, db, config, Scope::Transactions)
}

fn run<DB>(
    chain: &Chain,
    block: &BlockInput,
    db: DB,
    config: ParallelConfig,
    scope: Scope,
) -> Result<(BlockOutput, ParallelStats), ExecuteError>
where
    DB: StateProvider + Debug + Sync,
    DB::Error: Send + Sync + 'static,
{
    let threads = config.threads.clamp(1, block.transactions.len().max(1));
    if config.fallback == Fallback::Auto && threads < 2 {
        return run_sequential(chain, block, db, Mode::OneThread, scope);
    }
    let recipients =
        (config.fallback == Fallback::Auto).then(|| Recipients::new(chain, block, &db));
    let rule = DebitRule::new(chain, &block.header);
    let survey = Survey::of(block, &rule, recipients.as_ref());
    if let Some(why) = survey.unprofitable {
        return run_sequential(chain, block, db, Mode::Unprofitable(why), scope);
    }
    let max_executions = block
        .transactions
        .len()
        .saturating_mul(MAX_EXECUTIONS_PER_TX);
    let plan = Plan {
        threads,
        fallback: config.fallback,
        max_executions,
        sender_hints: &survey.sender_hints,
        debits: survey.debits,
    };
    block_stm(chain, block, &db, plan, scope)
}

/// How Block-STM is to run a block, decided before it starts.
struct Plan<'a> {
    threads: usize,
    fallback: Fallback,
    /// Past this many executions the block is too contended and runs in order.
    max_executions: usize,
    /// Each transaction's last one below it from the same sender that writes the sender
    /// whole (see [`Survey`]).
    sender_hints: &'a [Option<TxIdx>],
    /// The senders' predicted debits (see [`debits`]).
    debits: Debits,
}

fn run_sequential<DB>(
    chain: &Chain,
    block: &BlockInput,
    db: DB,
    mode: Mode,
    scope: Scope,
) -> Result<(BlockOutput, ParallelStats), ExecuteError>
where
    DB: StateProvider + Debug,
    DB::Error: Send + Sync + 'static,
{
    let start = Instant::now();
    let output = sequential::run(chain, block, db, scope, PrecomputedBloom::default())?;
    let stats = ParallelStats {
        mode,
        threads: 1,
        executions: block.transactions.len(),
        commit_time: start.elapsed(),
        ..ParallelStats::default()
    };
    Ok((output, stats))
}

/// The recipient of a value transfer (a value, no authorizations): read lazily, the transfer
/// becomes a balance delta if the recipient has no code, so transfers into one account stop
/// conflicting. Calldata does not matter: without code nothing reads it, and the gas it costs
/// depends on the transaction alone (exchange deposits often carry a byte or a memo). Not for
/// the sender itself, the beneficiary, precompile-range addresses, or before Spurious Dragon
/// (where touching an empty account has other effects). Whether the recipient has code is
/// found by the worker that executes the transaction, which reads it anyway (see
/// [`codeless`]).
fn lazy_recipient(
    tx: &alloy_consensus::transaction::Recovered<alloy_consensus::TxEnvelope>,
    beneficiary: alloy_primitives::Address,
    spurious_dragon: bool,
) -> Option<alloy_primitives::Address> {
    use alloy_consensus::Transaction;
    let to = tx.to()?;
    let plain = spurious_dragon
        && !tx.value().is_zero()
        && tx.authorization_list().is_none_or(|list| list.is_empty())
        && to != tx.signer()
        && to != beneficiary
        && to.as_slice().iter().take(18).any(|byte| *byte != 0);
    plain.then_some(to)
}

/// Whether a lazily read recipient, as found below the transaction (`None`: it does not
/// exist), has no code, so that the transfer into it is a balance delta: the worker's test
/// when it executes the transfer, and the survey's when it judges whether transfers into one
/// account form a chain.
fn codeless(info: Option<&revm::state::AccountInfo>) -> bool {
    info.is_none_or(|info| info.code_hash == revm::primitives::KECCAK_EMPTY)
}

/// Block-STM. When it gives up (past the bound on executions, or under [`Fallback::Auto`] on
/// a dependency chain), the transactions it has not committed run in order on the state it
/// committed, so no committed work is thrown away.
fn block_stm<DB>(
    chain: &Chain,
    block: &BlockInput,
    db: &DB,
    plan: Plan<'_>,
    scope: Scope,
) -> Result<(BlockOutput, ParallelStats), ExecuteError>
where
    DB: StateProvider + Debug + Sync,
    DB::Error: Send + Sync + 'static,
{
    let Plan {
        threads,
        fallback,
        max_executions,
        sender_hints,
        debits,
    } = plan;
    let evm_env = chain.evm_env(&block.header);
    let (block_env, cfg_env) = (evm_env.block_env.clone(), evm_env.cfg_env.clone());
    let spurious_dragon = cfg_env.spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
    let beneficiary = block_env.beneficiary;
    let mut state = State::builder()
        .with_database_ref(db)
        .with_bundle_update()
        .build();
    let mut stats = ParallelStats {
        threads,
        ..ParallelStats::default()
    };
    let results = {
        let receipts = PrecomputedBloom::default();
        let executor = sequential::start(chain, block, &mut state, evm_env, receipts, scope)?;

        let start = Instant::now();
        let base = vm::BaseState::new(db, executor.evm().db());
        let tx_count = block.transactions.len();
        let scheduler = Scheduler::new(tx_count, sender_hints, threads, VALIDATION_WINDOW);
        // The committing worker takes its tasks in order; the others share the early ones.
        let mut early = vec![Vec::new(); threads];
        if threads > 1 {
            for (nth, tx) in hints::early_transactions(block).into_iter().enumerate() {
                if let Some(worker) = early.get_mut(1 + nth % (threads - 1)) {
                    worker.push(tx);
                }
            }
        }
        let mv = MvMemory::new(tx_count, beneficiary, debits);
        let stop = Mutex::new(None);
        let executions = Padded(AtomicUsize::new(0));
        let returns = returns::Returns::new(threads);
        let mut committer = Committer::new(
            executor,
            block,
            spurious_dragon,
            fallback == Fallback::Auto,
            &returns,
        );
        let shared = Shared {
            scheduler: &scheduler,
            early: &early,
            mv: &mv,
            base: &base,
            transactions: &block.transactions,
            spurious_dragon,
            block_env: &block_env,
            cfg_env: &cfg_env,
            beneficiary,
            max_executions,
            stop: &stop,
            executions: &executions.0,
            returns: &returns,
        };
        let helper = |worker| shared.work_guarded(worker, None);
        let ((), workers) = pool::run_workers(threads, &helper, || {
            shared.work_guarded(0, Some(&mut committer));
        });
        stats.threads = workers;
        stats.parallel_time = start.elapsed();
        stats.executions = executions.load(Ordering::Relaxed);
        stats.re_executions = stats.executions.saturating_sub(tx_count);
        stats.validations = scheduler.counters.validations.load(Ordering::Relaxed);
        stats.validation_aborts = scheduler.counters.aborts.load(Ordering::Relaxed);
        stats.suspensions = scheduler.counters.suspensions.load(Ordering::Relaxed);
        let take_stop = || locks::lock(&stop).take();
        let mut stopped = take_stop();
        if stopped.is_none() {
            // Whatever the workers left uncommitted when the scheduler finished is final now.
            // The chain check applies as during the run, so that whether a block counts as a
            // chain does not depend on how far the committer got before the workers finished.
            committer.commit_ready(&shared);
            stopped = take_stop();
        }
        let gave_up = match stopped {
            Some(Stop::TooManyExecutions) => Some(Mode::Contended),
            Some(Stop::Chained) => Some(Mode::Chain),
            Some(Stop::Panic { tx, message }) => {
                let hash = block
                    .transactions
                    .get(tx)
                    .map(|tx| *tx.tx_hash())
                    .unwrap_or_default();
                return Err(ExecuteError::Transaction {
                    index: tx,
                    hash,
                    source: BlockExecutionError::msg(format!("worker panicked: {message}")),
                });
            }
            None => None,
        };
        let start = Instant::now();
        if let Some(mode) = gave_up {
            // Block-STM gave up: the rest runs in order on what it committed.
            stats.mode = mode;
            let in_order = tx_count.saturating_sub(committer.next);
            stats.executions = stats.executions.saturating_add(in_order);
            stats.re_executions = stats.executions.saturating_sub(tx_count);
            committer.finish_in_order()?;
        }
        if let Some(error) = committer.error {
            return Err(error);
        }
        if !committer.finished() {
            return Err(ExecuteError::Transaction {
                index: committer.next,
                hash: block
                    .transactions
                    .get(committer.next)
                    .map(|tx| *tx.tx_hash())
                    .unwrap_or_default(),
                source: BlockExecutionError::msg("the transaction's result never became final"),
            });
        }
        committer
            .pay_pending_fees()
            .map_err(ExecuteError::PostExecution)?;
        let Committer {
            executor,
            outcomes,
            graph,
            time,
            deferred,
            ..
        } = committer;
        stats.graph = (stats.mode == Mode::Parallel).then_some(graph);
        pool::drop_in_background((mv, scheduler, returns));
        let (receipts, gas_used, blob_gas_used) = sequential::finish(executor, scope)?;
        stats.commit_time = time + start.elapsed();
        (receipts, outcomes, gas_used, blob_gas_used, deferred)
    };
    let (receipts, transactions, gas_used, blob_gas_used, deferred) = results;
    let start = Instant::now();
    state.merge_transitions(BundleRetention::PlainState);
    let mut bundle = state.take_bundle();
    if let Some(deferred) = deferred
        && deferred.add_to(&mut bundle).is_err()
    {
        // The block's own changes reached an account kept out of `State`, which they read as
        // it was before the block: only running the block again is right.
        return run_sequential(chain, block, db, Mode::Rerun, scope);
    }
    stats.commit_time += start.elapsed();
    let output = BlockOutput {
        receipts,
        transactions,
        gas_used,
        blob_gas_used,
        state: bundle,
    };
    Ok((output, stats))
}

#[cfg(test)]
mod tests;
