//! Memory the commit is done with goes back to the worker that allocated it, to be reused or
//! freed there.
//!
//! An execution's state changes and read and write sets are allocated by the worker that ran
//! it and consumed by the committing worker. mimalloc frees a block of another thread's heap
//! through an atomic list that the owner must later collect, several times the cost of a local
//! free; on two cores that was about 6% of the block's CPU time on `erc20` (perf). So the
//! committer hands what it no longer needs back in batches, and each worker takes its own
//! between tasks, keeping the emptied containers for its next executions (see
//! `vm::Spares`).

use super::{locks::lock, padded::Padded, vm::Execution};
use revm::{database::OnStateHook, state::EvmState};
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Items handed back at once: one lock per batch instead of one per transaction.
const BATCH: usize = 32;

/// What a worker allocated and the committer no longer needs.
#[derive(Debug)]
pub(crate) enum Garbage {
    /// State changes, after `State::commit` has copied what it keeps.
    State(EvmState),
    /// The rest of an execution (read and write sets).
    Execution(Box<Execution>),
}

/// One worker's queue of returned memory.
#[derive(Debug, Default)]
struct Queue {
    items: Mutex<Vec<Garbage>>,
    filled: AtomicBool,
}

/// The queues of one block's workers, and which worker owns the state changes being
/// committed.
#[derive(Debug)]
pub(crate) struct Returns {
    /// Each on lines of its own: the committer fills them while their workers poll them.
    queues: Vec<Padded<Queue>>,
    owner: AtomicUsize,
}

impl Returns {
    /// Queues for `workers` workers; worker 0 is the committer.
    pub(crate) fn new(workers: usize) -> Arc<Self> {
        Arc::new(Self {
            queues: (0..workers).map(|_| Padded::default()).collect(),
            owner: AtomicUsize::new(0),
        })
    }

    /// Says whose state changes the committer commits next.
    pub(crate) fn set_owner(&self, worker: usize) {
        self.owner.store(worker, Ordering::Relaxed);
    }

    /// What the committer handed back to `worker` since the last call (mostly nothing): call
    /// from that worker, which reuses or frees it.
    pub(crate) fn take_returned(&self, worker: usize) -> Vec<Garbage> {
        match self.queues.get(worker) {
            Some(queue) if queue.filled.load(Ordering::Relaxed) => {
                let items = std::mem::take(&mut *lock(&queue.items));
                queue.filled.store(false, Ordering::Relaxed);
                items
            }
            _ => Vec::new(),
        }
    }

    fn send(&self, worker: usize, items: &mut Vec<Garbage>) {
        if let Some(queue) = self.queues.get(worker) {
            let mut queued = lock(&queue.items);
            queued.append(items);
            queue.filled.store(true, Ordering::Relaxed);
        }
    }
}

/// The committer's side: batches per worker, sent when full. What is left at the end of the
/// block is freed with the block.
#[derive(Debug)]
pub(crate) struct Sender {
    returns: Arc<Returns>,
    batches: Vec<Vec<Garbage>>,
}

impl Sender {
    pub(crate) fn new(returns: Arc<Returns>) -> Self {
        let batches = (0..returns.queues.len()).map(|_| Vec::new()).collect();
        Self { returns, batches }
    }

    /// Says whose state changes the committer commits next.
    pub(crate) fn set_owner(&self, worker: usize) {
        self.returns.set_owner(worker);
    }

    /// Hands `garbage`, allocated by `worker`, back to it, the committer's own included.
    pub(crate) fn give_back(&mut self, worker: usize, garbage: Garbage) {
        let Some(batch) = self.batches.get_mut(worker) else {
            return;
        };
        batch.push(garbage);
        if batch.len() >= BATCH {
            self.returns.send(worker, batch);
        }
    }
}

/// The hook on the committer's `State`: receives each commit's state changes after `State`
/// copied what it keeps, and returns them to the worker that built them.
pub(crate) struct ReturnStates(pub(crate) Sender);

impl OnStateHook for ReturnStates {
    fn on_state(&mut self, state: EvmState) {
        let owner = self.0.returns.owner.load(Ordering::Relaxed);
        self.0.give_back(owner, Garbage::State(state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(returns: &Returns, worker: usize) -> usize {
        returns.queues[worker]
            .items
            .lock()
            .map_or(0, |items| items.len())
    }

    #[test]
    fn garbage_reaches_its_worker_in_batches() {
        let returns = Returns::new(2);
        let mut sender = Sender::new(Arc::clone(&returns));
        for _ in 0..BATCH - 1 {
            sender.give_back(1, Garbage::State(EvmState::default()));
        }
        assert_eq!(queued(&returns, 1), 0, "a batch is sent once full");
        sender.give_back(1, Garbage::State(EvmState::default()));
        assert_eq!(queued(&returns, 1), BATCH);
        assert_eq!(returns.take_returned(1).len(), BATCH);
        assert_eq!(queued(&returns, 1), 0);
        assert!(returns.take_returned(1).is_empty());
    }

    #[test]
    fn the_state_hook_returns_changes_to_the_owner_it_was_told() {
        let returns = Returns::new(3);
        let mut hook = ReturnStates(Sender::new(Arc::clone(&returns)));
        returns.set_owner(2);
        for _ in 0..BATCH {
            hook.on_state(EvmState::default());
        }
        assert_eq!(queued(&returns, 2), BATCH);
        assert_eq!(queued(&returns, 1), 0);
    }
}
