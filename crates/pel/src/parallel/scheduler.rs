//! The collaborative scheduler of Block-STM: workers take the next execution or validation
//! task from two shared indices, so there is no central dispatcher to wait on.
//!
//! Each transaction moves through ready → executing → executed, and back to ready (with the
//! next incarnation) when validation aborts it or when a transaction it waits on finishes. A
//! transaction that reads an ESTIMATE is suspended on the writer and resumed when the writer's
//! next incarnation has executed. Lowering an index (after an abort, or after a transaction
//! writes a location its previous incarnation did not) makes the workers revisit the
//! transactions above it. The block is done when both indices are past the last transaction,
//! no task is in flight, and no index was lowered meanwhile.
//!
//! The committer, which takes transactions in order once every one below is committed, checks
//! each read set one last time and aborts the transaction if a read changed. The transactions
//! within a window above its frontier therefore get no validation task: the validation index
//! never stays below the frontier plus the window, and with a window the block is done only
//! once the committer has committed every transaction.

use super::locks::{get_mut, lock};
use super::mv_memory::{Incarnation, TxIdx, Version};
use super::padded::{Line, Padded};
use std::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Where a transaction is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    ReadyToExecute(Incarnation),
    Executing(Incarnation),
    Executed(Incarnation),
    Aborting(Incarnation),
    /// Final: committed to the block, never to be aborted again.
    Committed,
}

#[derive(Debug)]
struct TxState {
    status: Status,
    /// Transactions suspended until this one's next incarnation executes.
    dependents: Vec<TxIdx>,
}

/// One transaction's state and the slot its executions leave their output in (`S`), on one
/// cache line: the worker that finishes an execution writes both, and the committer reads
/// both, so on lines of their own each would move a second line between the cores per
/// transaction.
#[derive(Debug)]
struct TxEntry<S> {
    state: Mutex<TxState>,
    slot: Mutex<S>,
}

/// A unit of work for a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Execute(Version),
    Validate(Version),
}

/// Counters of one block's scheduling, for statistics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) validations: AtomicUsize,
    pub(crate) aborts: AtomicUsize,
    pub(crate) suspensions: AtomicUsize,
}

/// The scheduler of one block, keeping beside each transaction's state a slot of type `S`
/// for its output. What every task writes is on lines of its own (see [`super::padded`]); the
/// rest, read by every task, shares one.
///
/// The tasks in flight are counted per worker, each on its worker's line: one count that every
/// task raised and lowered moved its line between the cores twice per task. With that, and the
/// count of index decreases (written whenever an index is lowered, after most executions) off
/// the line that every task reads, a task's round trip through a scheduler of empty tasks on
/// two threads went from 205 to 150 ns (about 14,000 tasks in a block of 8,000 transfers).
#[derive(Debug)]
pub(crate) struct Scheduler<S> {
    txs: Vec<Line<TxEntry<S>>>,
    done: AtomicBool,
    decrease_cnt: Padded<AtomicUsize>,
    execution_idx: Padded<AtomicUsize>,
    validation: Padded<ValidationIndex>,
    /// Per worker, the tasks it holds (see [`Scheduler::active`]).
    active_tasks: Box<[Padded<AtomicUsize>]>,
    /// The tasks of workers numbered past those the scheduler was made for.
    active_elsewhere: Padded<AtomicUsize>,
    /// How many transactions from the commit frontier on the committer validates alone.
    validation_window: usize,
    pub(crate) counters: Padded<Counters>,
}

/// The validation index, beside the commit frontier that bounds it from below: both are read
/// by every request for a task, which then takes one line from the other core, not two.
#[derive(Debug, Default)]
struct ValidationIndex {
    next: AtomicUsize,
    /// The first transaction not committed yet, as the committer last published it.
    commit_frontier: AtomicUsize,
}

/// What the committer's claim of a transaction found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Executed and still valid: committed now.
    Committed,
    /// Not executed yet, or executing again.
    Pending,
    /// Executed, but a read changed: aborted. The caller turns its writes into estimates,
    /// then hands it back with [`Scheduler::rerun`].
    Aborted,
}

impl<S: Default> Scheduler<S> {
    /// A scheduler for `tx_count` transactions. `hints[j] = Some(i)` (with `i < j`) says that
    /// transaction `j` most likely reads what `i` writes (the same sender, say): `j` then waits
    /// for `i`'s first execution instead of running early on stale reads and aborting.
    /// Workers are numbered from 0 to `workers - 1`.
    ///
    /// `validation_window` transactions from the commit frontier on (see
    /// [`Scheduler::committed_up_to`]) get no validation task: the committer validates them as
    /// it commits them. Block-STM's validations find conflicts ahead of the commit; next to it,
    /// they only repeat the committer's check, at the price of a task each.
    pub(crate) fn new(
        tx_count: usize,
        hints: &[Option<TxIdx>],
        workers: usize,
        validation_window: usize,
    ) -> Self {
        let mut txs: Vec<Line<TxEntry<S>>> = (0..tx_count)
            .map(|_| {
                Line(TxEntry {
                    state: Mutex::new(TxState {
                        status: Status::ReadyToExecute(0),
                        dependents: Vec::new(),
                    }),
                    slot: Mutex::default(),
                })
            })
            .collect();
        // Not shared yet: no locking.
        fn state<S>(txs: &mut [Line<TxEntry<S>>], tx: TxIdx) -> Option<&mut TxState> {
            let line = txs.get_mut(tx)?;
            Some(get_mut(&mut line.0.state))
        }
        for (tx, hint) in hints.iter().enumerate() {
            if let Some(blocking) = *hint
                && blocking < tx
                && let Some(blocking_state) = state(&mut txs, blocking)
            {
                blocking_state.dependents.push(tx);
                if let Some(state) = state(&mut txs, tx) {
                    state.status = Status::Aborting(0);
                }
            }
        }
        Self {
            txs,
            decrease_cnt: Padded(AtomicUsize::new(0)),
            done: AtomicBool::new(tx_count == 0),
            execution_idx: Padded(AtomicUsize::new(0)),
            validation: Padded(ValidationIndex::default()),
            active_tasks: (0..workers).map(|_| Padded(AtomicUsize::new(0))).collect(),
            active_elsewhere: Padded(AtomicUsize::new(0)),
            validation_window,
            counters: Padded::default(),
        }
    }
}

impl<S> Scheduler<S> {
    /// The count of tasks `worker` holds. A task is counted, and uncounted, by the worker that
    /// takes it, and it never moves to another worker (a task handed back as the next one goes
    /// to the worker that finished the last), so the counts sum to the tasks in flight. A
    /// number past the workers counts on a line they share, which stays correct, only slower.
    fn active(&self, worker: usize) -> &AtomicUsize {
        self.active_tasks
            .get(worker)
            .map_or(&self.active_elsewhere.0, |count| &count.0)
    }

    fn tx(&self, tx: TxIdx) -> Option<MutexGuard<'_, TxState>> {
        self.txs.get(tx).map(|entry| lock(&entry.state))
    }

    /// Transaction `tx`'s slot, locked.
    pub(crate) fn slot(&self, tx: TxIdx) -> Option<MutexGuard<'_, S>> {
        self.txs.get(tx).map(|entry| lock(&entry.slot))
    }

    /// Whether every transaction is executed and validated, or the run was stopped.
    pub(crate) fn done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Stops the run: workers return as soon as they finish their current task.
    pub(crate) fn halt(&self) {
        self.done.store(true, Ordering::Release);
    }

    fn check_done(&self) {
        let observed = self.decrease_cnt.load(Ordering::SeqCst);
        let n = self.txs.len();
        if self
            .execution_idx
            .load(Ordering::SeqCst)
            .min(self.validation.next.load(Ordering::SeqCst))
            >= n
            && (self.active_tasks.iter())
                .chain(std::iter::once(&self.active_elsewhere))
                .all(|count| count.load(Ordering::SeqCst) == 0)
            && observed == self.decrease_cnt.load(Ordering::SeqCst)
            && (self.validation_window == 0
                || self.validation.commit_frontier.load(Ordering::SeqCst) >= n)
        {
            self.done.store(true, Ordering::Release);
        }
    }

    fn decrease_execution_idx(&self, target: TxIdx) {
        self.execution_idx.fetch_min(target, Ordering::SeqCst);
        self.decrease_cnt.fetch_add(1, Ordering::SeqCst);
    }

    /// Marks executed transaction `tx` committed if `still_valid` confirms its read set, or
    /// aborts it if it does not. Only valid once every transaction below is committed, so that
    /// nothing it read can change any more.
    pub(crate) fn try_commit(&self, tx: TxIdx, still_valid: impl FnOnce() -> bool) -> Claim {
        let Some(mut state) = self.tx(tx) else {
            return Claim::Pending;
        };
        let Status::Executed(incarnation) = state.status else {
            return Claim::Pending;
        };
        if still_valid() {
            state.status = Status::Committed;
            Claim::Committed
        } else {
            state.status = Status::Aborting(incarnation);
            self.counters.aborts.fetch_add(1, Ordering::Relaxed);
            Claim::Aborted
        }
    }

    /// Hands transaction `tx`, aborted by the committer, back for its next incarnation, and the
    /// transactions above for validation.
    pub(crate) fn rerun(&self, tx: TxIdx) {
        self.set_ready(tx);
        self.decrease_validation_idx(tx + 1);
        self.decrease_execution_idx(tx);
    }

    /// Publishes that every transaction below `frontier` is committed.
    pub(crate) fn committed_up_to(&self, frontier: TxIdx) {
        self.validation
            .commit_frontier
            .store(frontier, Ordering::SeqCst);
    }

    /// The lowest transaction that gets a validation task: those below it are committed, or
    /// the committer validates them.
    fn validation_floor(&self) -> TxIdx {
        (self.validation.commit_frontier.load(Ordering::SeqCst))
            .saturating_add(self.validation_window)
    }

    fn decrease_validation_idx(&self, target: TxIdx) {
        self.validation.next.fetch_min(target, Ordering::SeqCst);
        self.decrease_cnt.fetch_add(1, Ordering::SeqCst);
    }

    /// Moves a ready transaction to executing; `None` if it is not ready.
    fn try_incarnate(&self, worker: usize, tx: TxIdx) -> Option<Version> {
        if tx < self.txs.len()
            && let Some(mut state) = self.tx(tx)
            && let Status::ReadyToExecute(incarnation) = state.status
        {
            state.status = Status::Executing(incarnation);
            return Some(Version { tx, incarnation });
        }
        self.active(worker).fetch_sub(1, Ordering::SeqCst);
        None
    }

    fn next_version_to_execute(&self, worker: usize) -> Option<Version> {
        if self.execution_idx.load(Ordering::SeqCst) >= self.txs.len() {
            self.check_done();
            return None;
        }
        self.active(worker).fetch_add(1, Ordering::SeqCst);
        let tx = self.execution_idx.fetch_add(1, Ordering::SeqCst);
        self.try_incarnate(worker, tx)
    }

    fn next_version_to_validate(&self, worker: usize) -> Option<Version> {
        if self.validation.next.load(Ordering::SeqCst) >= self.txs.len() {
            self.check_done();
            return None;
        }
        self.active(worker).fetch_add(1, Ordering::SeqCst);
        let tx = self.validation.next.fetch_add(1, Ordering::SeqCst);
        if tx < self.txs.len()
            && let Some(state) = self.tx(tx)
            && let Status::Executed(incarnation) = state.status
        {
            return Some(Version { tx, incarnation });
        }
        self.active(worker).fetch_sub(1, Ordering::SeqCst);
        None
    }

    /// The next task, or `None` if there is none right now (ask again unless done).
    pub(crate) fn next_task(&self, worker: usize) -> Option<Task> {
        let floor = self.validation_floor();
        let mut validation = self.validation.next.load(Ordering::SeqCst);
        if validation < floor {
            validation = self
                .validation
                .next
                .fetch_max(floor, Ordering::SeqCst)
                .max(floor);
        }
        if validation < self.execution_idx.load(Ordering::SeqCst) {
            self.next_version_to_validate(worker).map(Task::Validate)
        } else {
            self.next_version_to_execute(worker).map(Task::Execute)
        }
    }

    /// Claims the first execution of `tx` ahead of the execution index (a transaction worth
    /// starting before its turn, see `hints`); `None` if it is not ready (it waits on a
    /// sender's earlier transaction) or another worker got to it first. When the index reaches
    /// it, it is skipped as any transaction not ready is; its validation comes in order.
    pub(crate) fn try_execute_early(&self, worker: usize, tx: TxIdx) -> Option<Version> {
        self.active(worker).fetch_add(1, Ordering::SeqCst);
        self.try_incarnate(worker, tx)
    }

    /// Suspends `tx` until `blocking` re-executes. Returns `false` if `blocking` has already
    /// executed, in which case `tx` should simply retry.
    pub(crate) fn add_dependency(&self, worker: usize, tx: TxIdx, blocking: TxIdx) -> bool {
        let Some(mut blocking_state) = self.tx(blocking) else {
            return false;
        };
        if let Status::Executed(_) | Status::Committed = blocking_state.status {
            return false;
        }
        if let Some(mut state) = self.tx(tx)
            && let Status::Executing(incarnation) = state.status
        {
            state.status = Status::Aborting(incarnation);
        }
        blocking_state.dependents.push(tx);
        drop(blocking_state);
        self.counters.suspensions.fetch_add(1, Ordering::Relaxed);
        self.active(worker).fetch_sub(1, Ordering::SeqCst);
        true
    }

    fn set_ready(&self, tx: TxIdx) {
        if let Some(mut state) = self.tx(tx)
            && let Status::Aborting(incarnation) = state.status
        {
            state.status = Status::ReadyToExecute(incarnation + 1);
        }
    }

    /// Records that `version` executed; `wrote_new` if it wrote a location its previous
    /// incarnation did not. May hand back the execution of the lowest transaction that waited
    /// on it, or else its own validation, as the caller's next task.
    pub(crate) fn finish_execution(
        &self,
        worker: usize,
        version: Version,
        wrote_new: bool,
    ) -> Option<Task> {
        let mut dependents = match self.tx(version.tx) {
            Some(mut state) => {
                state.status = Status::Executed(version.incarnation);
                std::mem::take(&mut state.dependents)
            }
            None => Vec::new(),
        };
        dependents.sort_unstable();
        for dependent in &dependents {
            self.set_ready(*dependent);
        }
        // The lowest waiting transaction (a sender's next one, say) runs next on this worker,
        // right after what it waited on, without a round trip through the execution index.
        let next = (dependents.first()).and_then(|&lowest| self.try_incarnate_keep_active(lowest));
        let others = dependents.iter().copied();
        if let Some(lowest) = others
            .filter(|&dependent| next.is_none_or(|next| next.tx != dependent))
            .min()
        {
            self.decrease_execution_idx(lowest);
        }
        if let Some(next) = next {
            if self.validation.next.load(Ordering::SeqCst) > version.tx {
                self.decrease_validation_idx(version.tx);
            }
            return Some(Task::Execute(next));
        }
        if self.validation.next.load(Ordering::SeqCst) > version.tx {
            if wrote_new {
                self.decrease_validation_idx(version.tx);
            } else if version.tx >= self.validation_floor() {
                return Some(Task::Validate(version));
            }
        }
        self.active(worker).fetch_sub(1, Ordering::SeqCst);
        None
    }

    /// Claims the abort of `version` after a failed validation; `false` if another worker
    /// already aborted it or it has moved on.
    pub(crate) fn try_validation_abort(&self, version: Version) -> bool {
        match self.tx(version.tx) {
            Some(mut state) if state.status == Status::Executed(version.incarnation) => {
                state.status = Status::Aborting(version.incarnation);
                true
            }
            _ => false,
        }
    }

    /// Records a validation's outcome. After an abort, the transactions above are revalidated
    /// and the aborted one may come back as the caller's next task.
    pub(crate) fn finish_validation(
        &self,
        worker: usize,
        tx: TxIdx,
        aborted: bool,
    ) -> Option<Task> {
        if aborted {
            self.set_ready(tx);
            self.decrease_validation_idx(tx + 1);
            if self.execution_idx.load(Ordering::SeqCst) > tx
                && let Some(version) = self.try_incarnate_keep_active(tx)
            {
                return Some(Task::Execute(version));
            }
        }
        self.active(worker).fetch_sub(1, Ordering::SeqCst);
        None
    }

    /// Like `try_incarnate`, but on failure leaves the active-task count to the caller.
    fn try_incarnate_keep_active(&self, tx: TxIdx) -> Option<Version> {
        let mut state = self.tx(tx)?;
        if let Status::ReadyToExecute(incarnation) = state.status {
            state.status = Status::Executing(incarnation);
            Some(Version { tx, incarnation })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scheduler whose slots hold nothing: the tests drive its states alone.
    type Scheduler = super::Scheduler<()>;

    #[test]
    fn a_transaction_state_and_a_boxed_slot_share_one_line() {
        // The slot the workers keep here, not a stand-in of its size.
        type WorkerSlot = super::super::executor::TxSlot;
        assert_eq!(std::mem::size_of::<Line<TxEntry<WorkerSlot>>>(), 64);
        let scheduler = super::Scheduler::<Option<Box<u64>>>::new(2, &[], 1, 0);
        if let Some(mut slot) = scheduler.slot(1) {
            *slot = Some(Box::new(7));
        }
        assert_eq!(
            scheduler.slot(1).and_then(|mut slot| slot.take()),
            Some(Box::new(7))
        );
        assert!(scheduler.slot(0).is_some_and(|slot| slot.is_none()));
        assert!(scheduler.slot(2).is_none());
    }

    fn run_to_completion(scheduler: &Scheduler, mut on_task: impl FnMut(Task) -> Option<Task>) {
        let mut task = None;
        let mut steps = 0;
        while !scheduler.done() {
            task = match task {
                Some(task) => on_task(task),
                None => scheduler.next_task(0),
            };
            steps += 1;
            assert!(steps < 10_000, "scheduler does not finish");
        }
    }

    /// Runs every task to the end, no validation failing: the transactions executed and those
    /// validated, each sorted.
    fn run_without_conflicts(scheduler: &Scheduler) -> (Vec<TxIdx>, Vec<TxIdx>) {
        let (mut executed, mut validated) = (Vec::new(), Vec::new());
        run_to_completion(scheduler, |task| match task {
            Task::Execute(version) => {
                executed.push(version.tx);
                scheduler.finish_execution(0, version, true)
            }
            Task::Validate(version) => {
                validated.push(version.tx);
                scheduler.finish_validation(0, version.tx, false)
            }
        });
        executed.sort();
        validated.sort();
        (executed, validated)
    }

    #[test]
    fn an_empty_block_is_done_at_once() {
        assert!(Scheduler::new(0, &[], 1, 0).done());
    }

    #[test]
    fn executes_and_validates_every_transaction_once_without_conflicts() {
        let scheduler = Scheduler::new(5, &[], 1, 0);
        let (executed, validated) = run_without_conflicts(&scheduler);
        assert_eq!(executed, vec![0, 1, 2, 3, 4]);
        assert_eq!(validated, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn an_aborted_transaction_runs_again_with_the_next_incarnation() {
        let scheduler = Scheduler::new(2, &[], 1, 0);
        let mut executions = Vec::new();
        let mut aborted_once = false;
        run_to_completion(&scheduler, |task| match task {
            Task::Execute(version) => {
                executions.push(version);
                scheduler.finish_execution(0, version, version.incarnation == 0)
            }
            Task::Validate(version) => {
                let abort = version.tx == 1 && !aborted_once;
                if abort {
                    aborted_once = true;
                    assert!(scheduler.try_validation_abort(version));
                }
                scheduler.finish_validation(0, version.tx, abort)
            }
        });
        assert!(executions.contains(&Version {
            tx: 1,
            incarnation: 1
        }));
    }

    #[test]
    fn a_hinted_transaction_waits_for_its_hint() {
        let scheduler = Scheduler::new(2, &[None, Some(0)], 1, 0);
        assert_eq!(
            scheduler.next_task(0),
            Some(Task::Execute(Version {
                tx: 0,
                incarnation: 0
            }))
        );
        // Transaction 1 waits: nothing to do until 0 has executed.
        assert_eq!(scheduler.next_task(0), None);
        // Then it runs on the worker that executed 0, right away.
        let next = scheduler.finish_execution(
            0,
            Version {
                tx: 0,
                incarnation: 0,
            },
            true,
        );
        assert_eq!(
            next,
            Some(Task::Execute(Version {
                tx: 1,
                incarnation: 1
            }))
        );
    }

    /// The next execution task, skipping the (empty) validation turns in between.
    fn next_execution(scheduler: &Scheduler) -> Option<Version> {
        (0..10).find_map(|_| match scheduler.next_task(0) {
            Some(Task::Execute(version)) => Some(version),
            _ => None,
        })
    }

    #[test]
    fn a_suspended_transaction_resumes_after_its_blocker_executes() {
        let scheduler = Scheduler::new(2, &[], 1, 0);
        assert_eq!(
            next_execution(&scheduler),
            Some(Version {
                tx: 0,
                incarnation: 0
            })
        );
        assert_eq!(
            next_execution(&scheduler),
            Some(Version {
                tx: 1,
                incarnation: 0
            })
        );
        // Transaction 1 reads an estimate of transaction 0, which is still executing.
        assert!(scheduler.add_dependency(0, 1, 0));
        let resumed = scheduler.finish_execution(
            0,
            Version {
                tx: 0,
                incarnation: 0,
            },
            true,
        );
        assert_eq!(
            resumed,
            Some(Task::Execute(Version {
                tx: 1,
                incarnation: 1
            }))
        );
        assert_eq!(scheduler.counters.suspensions.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn an_early_transaction_is_skipped_by_the_index_and_validated_in_order() {
        let scheduler = Scheduler::new(4, &[None, None, Some(1), None], 1, 0);
        let early = |tx| Version { tx, incarnation: 0 };
        assert_eq!(scheduler.try_execute_early(0, 3), Some(early(3)));
        // Taken already, and one that waits on its sender's earlier transaction: not ready.
        assert_eq!(scheduler.try_execute_early(0, 3), None);
        assert_eq!(scheduler.try_execute_early(0, 2), None);
        // Transaction 3 finishes before the validation index reaches it: no validation yet.
        assert_eq!(scheduler.finish_execution(0, early(3), true), None);
        let (executed, validated) = run_without_conflicts(&scheduler);
        // The others executed once each, the early one not again when the index passed it.
        assert_eq!(executed, vec![0, 1, 2]);
        assert_eq!(validated, vec![0, 1, 2, 3]);
    }

    #[test]
    fn the_lowest_resumed_transaction_stays_on_the_worker_and_the_others_are_handed_out() {
        let scheduler = Scheduler::new(3, &[None, Some(0), Some(0)], 1, 0);
        let zero = Version {
            tx: 0,
            incarnation: 0,
        };
        assert_eq!(scheduler.next_task(0), Some(Task::Execute(zero)));
        let next = scheduler.finish_execution(0, zero, true);
        let resumed = |tx| Version { tx, incarnation: 1 };
        assert_eq!(next, Some(Task::Execute(resumed(1))));
        assert_eq!(next_execution(&scheduler), Some(resumed(2)));
        assert_eq!(next_execution(&scheduler), None);
    }

    /// Runs every task to the end, no validation failing, committing in order what has executed
    /// before the first task and after each: the transactions validated by a task.
    fn run_with_commits(
        scheduler: &Scheduler,
        mut committed: TxIdx,
        tx_count: usize,
    ) -> Vec<TxIdx> {
        let mut commit = || {
            while committed < tx_count
                && scheduler.try_commit(committed, || true) == Claim::Committed
            {
                committed += 1;
                scheduler.committed_up_to(committed);
            }
        };
        commit();
        let mut validated = Vec::new();
        run_to_completion(scheduler, |task| {
            let next = match task {
                Task::Execute(version) => scheduler.finish_execution(0, version, false),
                Task::Validate(version) => {
                    validated.push(version.tx);
                    scheduler.finish_validation(0, version.tx, false)
                }
            };
            commit();
            next
        });
        validated
    }

    #[test]
    fn no_validation_task_falls_inside_the_committers_window() {
        // Two workers' worth of transactions in flight: one executes ahead of the commit.
        let scheduler = Scheduler::new(6, &[], 1, 2);
        let version = |tx| Version { tx, incarnation: 0 };
        for tx in 0..4 {
            assert_eq!(next_execution(&scheduler), Some(version(tx)));
        }
        // Transactions 0 to 3 executed, the frontier at 0: only 2 and 3 are validated by tasks,
        // the others by the committer.
        let validations: Vec<TxIdx> = (0..4)
            .filter_map(|tx| scheduler.finish_execution(0, version(tx), false))
            .chain((0..6).filter_map(|_| scheduler.next_task(0)))
            .filter_map(|task| match task {
                Task::Validate(version) => Some(version.tx),
                Task::Execute(_) => None,
            })
            .collect();
        assert_eq!(validations, vec![2, 3]);
        // With the window as wide as the block, the committer validates everything.
        let scheduler = Scheduler::new(6, &[], 1, 6);
        assert_eq!(run_with_commits(&scheduler, 0, 6), Vec::<TxIdx>::new());
    }

    #[test]
    fn with_a_window_the_block_is_done_only_once_all_is_committed() {
        let scheduler = Scheduler::new(2, &[], 1, 1);
        let version = |tx| Version { tx, incarnation: 0 };
        for tx in 0..2 {
            assert_eq!(next_execution(&scheduler), Some(version(tx)));
            assert_eq!(scheduler.finish_execution(0, version(tx), false), None);
        }
        // Transaction 1 is past the window: a task validates it.
        assert_eq!(scheduler.next_task(0), Some(Task::Validate(version(1))));
        assert_eq!(scheduler.finish_validation(0, 1, false), None);
        assert_eq!(scheduler.next_task(0), None);
        assert!(
            !scheduler.done(),
            "transaction 0 is neither validated nor committed"
        );
        assert_eq!(run_with_commits(&scheduler, 0, 2), Vec::<TxIdx>::new());
    }

    #[test]
    fn a_transaction_the_committer_finds_invalid_runs_again() {
        let scheduler = Scheduler::new(2, &[], 1, 2);
        for tx in 0..2 {
            let version = Version { tx, incarnation: 0 };
            assert_eq!(next_execution(&scheduler), Some(version));
            assert_eq!(scheduler.finish_execution(0, version, false), None);
        }
        assert_eq!(scheduler.try_commit(0, || true), Claim::Committed);
        scheduler.committed_up_to(1);
        assert_eq!(scheduler.try_commit(1, || false), Claim::Aborted);
        // Aborted: not committed, and not validated again by another worker meanwhile.
        assert_eq!(scheduler.try_commit(1, || true), Claim::Pending);
        assert!(!scheduler.try_validation_abort(Version {
            tx: 1,
            incarnation: 0
        }));
        scheduler.rerun(1);
        let again = Version {
            tx: 1,
            incarnation: 1,
        };
        assert_eq!(next_execution(&scheduler), Some(again));
        assert_eq!(scheduler.finish_execution(0, again, false), None);
        assert_eq!(run_with_commits(&scheduler, 1, 2), Vec::<TxIdx>::new());
        assert_eq!(scheduler.counters.aborts.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_block_is_not_done_while_another_worker_holds_a_task() {
        let zero = Version {
            tx: 0,
            incarnation: 0,
        };
        let one = Version { tx: 1, ..zero };
        // Workers 0 and 1, and a worker numbered past them.
        for other in [1, 5] {
            let scheduler = Scheduler::new(2, &[], 2, 0);
            // Worker 0 takes what it is given for a few turns, validating what it can.
            let validate_what_it_can = || {
                for _ in 0..5 {
                    if let Some(Task::Validate(version)) = scheduler.next_task(0) {
                        assert_eq!(scheduler.finish_validation(0, version.tx, false), None);
                    }
                }
            };
            assert_eq!(scheduler.next_task(other), Some(Task::Execute(zero)));
            // (First the validation of transaction 0, which is not executed yet.)
            let next = (0..3).find_map(|_| scheduler.next_task(0));
            assert_eq!(next, Some(Task::Execute(one)));
            assert_eq!(scheduler.finish_execution(0, one, true), None);
            // Worker 0 validates what it can, then finds nothing while the other executes.
            validate_what_it_can();
            assert!(
                !scheduler.done(),
                "worker {other} still executes transaction 0"
            );
            assert_eq!(scheduler.finish_execution(other, zero, true), None);
            validate_what_it_can();
            assert!(scheduler.done(), "worker {other}");
        }
    }
}
