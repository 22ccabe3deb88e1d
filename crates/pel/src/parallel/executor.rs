//! The workers: each takes tasks from the scheduler until the block is done, executing
//! incarnations and validating read sets against the multi-version memory.

use super::{
    bloom::BloomHasher,
    committer::Committer,
    locks::lock,
    mv_memory::{Blocked, MvMemory, TxIdx, Version},
    returns::Returns,
    scheduler::{Claim, Scheduler, Task},
    vm::{self, BaseState, Execution, VmDb},
};
use crate::{StateProvider, chain::tx_env};
use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_primitives::Address;
use revm::context::{BlockEnv, CfgEnv};
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicUsize, Ordering},
    },
};

/// What the last incarnation of a transaction left: its output for the commit, with the
/// locations it read (for validation) and wrote (for the next incarnation). Boxed: an
/// execution is hundreds of bytes (its bloom alone 256), moved twice on its way to the commit.
pub(crate) type TxSlot = Option<Box<Execution>>;

/// Executions a worker counts before adding them to the shared count: the workers would
/// otherwise take the count's cache line from each other at every execution. The bound on
/// executions is then passed by at most this many per other worker.
const COUNT_BATCH: usize = 8;

/// A worker's validations and the aborts among them, added to the scheduler's counters when
/// it finishes: counted there one by one, the workers would take the counters' cache line
/// from each other at every validation.
#[derive(Debug, Default)]
struct Validated {
    validations: usize,
    aborts: usize,
}

/// Why the workers stopped before finishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A worker panicked on this transaction.
    Panic { tx: TxIdx, message: String },
    /// Executions passed the bound: the block is too contended.
    TooManyExecutions,
    /// The committed transactions depend on each other in one chain: threads cannot pay.
    Chained,
}

/// Everything the workers of one block share.
#[derive(Debug)]
pub(crate) struct Shared<'a, DB: StateProvider + std::fmt::Debug> {
    /// The scheduler, which also keeps each transaction's [`TxSlot`].
    pub(crate) scheduler: &'a Scheduler<TxSlot>,
    pub(crate) mv: &'a MvMemory,
    pub(crate) base: &'a BaseState<'a, DB>,
    /// The block's transactions, turned into revm's environment when executed.
    pub(crate) transactions: &'a [Recovered<TxEnvelope>],
    /// Whether plain transfers may read their recipients lazily (see `lazy_recipient` in the
    /// parent module).
    pub(crate) spurious_dragon: bool,
    /// For each worker, the transactions it starts before taking tasks in order (see
    /// `hints::early_transactions`).
    pub(crate) early: &'a [Vec<TxIdx>],
    pub(crate) block_env: &'a BlockEnv,
    pub(crate) cfg_env: &'a CfgEnv,
    pub(crate) beneficiary: Address,
    pub(crate) max_executions: usize,
    pub(crate) stop: &'a Mutex<Option<Stop>>,
    pub(crate) executions: &'a AtomicUsize,
    /// Memory the committer hands back to the worker that allocated it.
    pub(crate) returns: &'a Returns,
}

impl<DB> Shared<'_, DB>
where
    DB: StateProvider + std::fmt::Debug + Sync,
    DB::Error: Send + Sync + 'static,
{
    /// The execution of transaction `tx` if it is final and now committed: executed, and its
    /// read set still valid. Call in order, once every transaction below is committed;
    /// `final_writes` is the highest publication number of their committed write sets.
    ///
    /// Changes published after those write sets need no look: they come from transactions
    /// above, or from lower ones before they were final (an abort, or an incarnation they ran
    /// again), which are numbered below their final write sets.
    pub(crate) fn claim_for_commit(&self, tx: TxIdx, final_writes: u64) -> Option<Box<Execution>> {
        let claim = self
            .scheduler
            .try_commit(tx, || match self.slot(tx).as_deref() {
                Some(Some(execution)) => self.still_valid(tx, execution, final_writes),
                _ => false,
            });
        match claim {
            Claim::Committed => self.slot(tx).and_then(|mut slot| slot.take()),
            Claim::Pending => None,
            Claim::Aborted => {
                if let Some(Some(execution)) = self.slot(tx).as_deref() {
                    self.mv.convert_writes_to_estimates(tx, &execution.writes);
                }
                self.scheduler.rerun(tx);
                None
            }
        }
    }

    /// Whether every read of `execution` of transaction `tx` would still see the version it
    /// saw once the changes numbered up to `now` are published: Block-STM's validation. The
    /// log of changes usually shows that none since the reads concern them; only when it
    /// cannot are the reads done again.
    fn still_valid(&self, tx: TxIdx, execution: &Execution, now: u64) -> bool {
        self.mv
            .untouched(execution.valid_at, now, tx, &execution.reads)
            || (execution.reads.iter()).all(|(location, origin)| {
                (self.mv).still_reads(location, tx, origin, self.transactions)
            })
    }

    fn slot(&self, tx: TxIdx) -> Option<MutexGuard<'_, TxSlot>> {
        self.scheduler.slot(tx)
    }

    pub(crate) fn stop_with(&self, stop: Stop) {
        let mut current = lock(self.stop);
        current.get_or_insert(stop);
        self.scheduler.halt();
    }

    /// Worker number `worker`, whose panic outside a transaction stops the block instead of
    /// the process. Worker 0, on the thread that owns the block executor, also commits, between
    /// tasks.
    pub(crate) fn work_guarded(
        &self,
        worker: usize,
        committer: Option<&mut Committer<'_, '_, DB>>,
    ) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.work(worker, committer))) {
            self.stop_with(Stop::Panic {
                tx: 0,
                message: panic_message(&panic),
            });
        }
    }

    /// One worker: runs tasks until the block is done or stopped.
    fn work(&self, worker: usize, mut committer: Option<&mut Committer<'_, '_, DB>>) {
        let spec = self.cfg_env.spec;
        let db = VmDb::new(self.mv, self.base, self.transactions, spec);
        let mut evm = vm::worker_evm(db, self.block_env, self.cfg_env);
        let mut blooms = BloomHasher::default();
        let mut task = None;
        let mut early = self.early.get(worker).into_iter().flatten().copied();
        // This worker's executions not yet in the shared count.
        let mut uncounted = 0;
        let mut counted = Validated::default();
        while !self.scheduler.done() {
            if let Some(committer) = committer.as_deref_mut() {
                committer.commit_ready(self);
            }
            (evm.ctx.journaled_state.database).recycle(self.returns.take_returned(worker));
            task = match task {
                Some(Task::Execute(version)) => {
                    let tx = version.tx;
                    match catch_unwind(AssertUnwindSafe(|| {
                        self.try_execute(&mut evm, &mut blooms, worker, version, &mut uncounted)
                    })) {
                        Ok(next) => next,
                        Err(panic) => {
                            self.stop_with(Stop::Panic {
                                tx,
                                message: panic_message(&panic),
                            });
                            break;
                        }
                    }
                }
                Some(Task::Validate(version)) => self.validate(worker, version, &mut counted),
                None => {
                    let next = (early.by_ref())
                        .find_map(|tx| self.scheduler.try_execute_early(worker, tx))
                        .map(Task::Execute)
                        .or_else(|| self.scheduler.next_task(worker));
                    if next.is_none() {
                        std::hint::spin_loop();
                    }
                    next
                }
            };
        }
        self.executions.fetch_add(uncounted, Ordering::Relaxed);
        let counters = &self.scheduler.counters;
        counters
            .validations
            .fetch_add(counted.validations, Ordering::Relaxed);
        counters.aborts.fetch_add(counted.aborts, Ordering::Relaxed);
    }

    fn try_execute(
        &self,
        evm: &mut vm::WorkerEvm<'_, DB>,
        blooms: &mut BloomHasher,
        worker: usize,
        version: Version,
        uncounted: &mut usize,
    ) -> Option<Task> {
        loop {
            let counted = self.executions.load(Ordering::Relaxed);
            if counted.saturating_add(*uncounted) >= self.max_executions {
                self.stop_with(Stop::TooManyExecutions);
                return None;
            }
            *uncounted += 1;
            if *uncounted == COUNT_BATCH {
                self.executions.fetch_add(COUNT_BATCH, Ordering::Relaxed);
                *uncounted = 0;
            }
            let tx = self.transactions.get(version.tx)?;
            let tx_env = tx_env(tx);
            let lazy = super::lazy_recipient(tx, self.beneficiary, self.spurious_dragon);
            // Every read of the execution comes after this point: like a validation that
            // began here, it has seen every change published so far.
            let seen = self.mv.published();
            match vm::execute(evm, blooms, version.tx, tx_env, self.beneficiary, lazy) {
                Err(Blocked(blocking)) => {
                    if self.scheduler.add_dependency(worker, version.tx, blocking) {
                        return None;
                    }
                    // The blocking transaction finished meanwhile: run again at once.
                }
                Ok(mut execution) => {
                    execution.valid_at = seen;
                    execution.worker = worker;
                    let mut slot = self.slot(version.tx)?;
                    let previous = slot.as_ref().map_or(&[][..], |e| &e.writes[..]);
                    let (wrote_new, published_as) =
                        self.mv.record(version, previous, &execution.writes);
                    execution.published_as = published_as;
                    *slot = Some(Box::new(execution));
                    drop(slot);
                    return self.scheduler.finish_execution(worker, version, wrote_new);
                }
            }
        }
    }

    fn validate(&self, worker: usize, version: Version, counted: &mut Validated) -> Option<Task> {
        let now = self.mv.published();
        let valid = match self.slot(version.tx).as_deref_mut() {
            Some(Some(execution)) => {
                let valid = self.still_valid(version.tx, execution, now);
                if valid {
                    execution.valid_at = execution.valid_at.max(now);
                }
                valid
            }
            _ => false,
        };
        let aborted = !valid && self.scheduler.try_validation_abort(version);
        if aborted {
            counted.aborts += 1;
            if let Some(Some(execution)) = self.slot(version.tx).as_deref() {
                self.mv
                    .convert_writes_to_estimates(version.tx, &execution.writes);
            }
        }
        counted.validations += 1;
        self.scheduler
            .finish_validation(worker, version.tx, aborted)
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}
