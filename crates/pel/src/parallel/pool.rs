//! Helper threads kept from one block to the next.
//!
//! Starting a thread on the 2-core machine takes 30-50 us before it runs its first
//! instruction, and joining it more: a few percent of a block that takes one or two
//! milliseconds on two threads, paid at its start, where the other worker waits for it. A
//! helper that waits for its next block instead wakes within microseconds, with its
//! allocator's heap already warm. Helpers are taken from the idle ones, and started only when
//! none is idle, so blocks run from several threads at once each get the workers they ask
//! for; they are never stopped.

use super::locks::{lock, wait};
use std::{
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    sync::{Arc, Condvar, Mutex},
};

/// The helpers waiting for work, shared by every block of the process.
static IDLE: Mutex<Vec<Arc<Inbox>>> = Mutex::new(Vec::new());

/// Runs `main` on this thread and `work(index)` for each index in `1..workers` on a helper,
/// and returns `main`'s result once every helper is done with `work`, with the number of
/// workers that ran, `main`'s included. A helper that cannot be started is left out:
/// Block-STM's workers share the tasks, so fewer of them only take longer. A panic of `main`
/// is resumed once the helpers are done.
pub(crate) fn run_workers<R>(
    workers: usize,
    work: &(dyn Fn(usize) + Sync),
    main: impl FnOnce() -> R,
) -> (R, usize) {
    let latch = Arc::new(Latch::default());
    let task = TaskRef::new(work);
    let mut ran = 1;
    for index in 1..workers {
        let Some(helper) = take_helper() else {
            break;
        };
        latch.add_one();
        helper.send(Job::Work {
            task,
            index,
            latch: Arc::clone(&latch),
        });
        ran += 1;
    }
    let result = catch_unwind(AssertUnwindSafe(main));
    // `task` borrows `work`, which this frame owns: no helper may still hold it on return.
    latch.wait();
    (result.unwrap_or_else(|panic| resume_unwind(panic)), ran)
}

/// Drops `value` on a helper, so that the thread finishing the block does not spend the
/// millisecond that freeing a large block's multi-version memory takes. If no helper is idle
/// or can be started, `value` is dropped here.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    match take_helper() {
        Some(helper) => helper.send(Job::Drop(Box::new(move || drop(value)))),
        None => drop(value),
    }
}

/// A borrowed `work` with its lifetime erased, to be sent to a helper.
#[derive(Clone, Copy)]
struct TaskRef(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync`, so calling it from another thread is sound, and
// `run_workers` does not return before every helper it was sent to has finished calling it.
unsafe impl Send for TaskRef {}

impl TaskRef {
    fn new(work: &(dyn Fn(usize) + Sync)) -> Self {
        let borrowed: *const (dyn Fn(usize) + Sync + '_) = work;
        // SAFETY: only the lifetime changes; see the `Send` implementation for why the
        // pointer is not used after `work`'s borrow ends.
        Self(unsafe {
            std::mem::transmute::<
                *const (dyn Fn(usize) + Sync + '_),
                *const (dyn Fn(usize) + Sync + 'static),
            >(borrowed)
        })
    }
}

/// What a helper is asked to do.
enum Job {
    /// Worker `index` of a block; counts `latch` down when done.
    Work {
        task: TaskRef,
        index: usize,
        latch: Arc<Latch>,
    },
    /// Drop something of a block that is finished.
    Drop(Box<dyn FnOnce() + Send>),
}

/// One helper's mailbox: at most one job, since a helper is given one only while idle.
#[derive(Default)]
struct Inbox {
    job: Mutex<Option<Job>>,
    arrived: Condvar,
}

impl Inbox {
    fn send(&self, job: Job) {
        *lock(&self.job) = Some(job);
        self.arrived.notify_one();
    }

    fn receive(&self) -> Job {
        let mut slot = lock(&self.job);
        loop {
            if let Some(job) = slot.take() {
                return job;
            }
            slot = wait(&self.arrived, slot);
        }
    }
}

/// Counts the helpers still running a block's work.
#[derive(Default)]
struct Latch {
    running: Mutex<usize>,
    finished: Condvar,
}

impl Latch {
    fn add_one(&self) {
        *lock(&self.running) += 1;
    }

    fn count_down(&self) {
        let mut running = lock(&self.running);
        *running = running.saturating_sub(1);
        if *running == 0 {
            self.finished.notify_all();
        }
    }

    fn wait(&self) {
        let mut running = lock(&self.running);
        while *running > 0 {
            running = wait(&self.finished, running);
        }
    }
}

/// An idle helper, or else a new one; `None` if none is idle and the system refuses a thread.
fn take_helper() -> Option<Arc<Inbox>> {
    let idle = lock(&IDLE).pop();
    idle.or_else(start_helper)
}

/// Starts a helper; `None` if the system refuses a thread.
fn start_helper() -> Option<Arc<Inbox>> {
    let inbox = Arc::new(Inbox::default());
    let own = Arc::clone(&inbox);
    std::thread::Builder::new()
        .name("pel-worker".into())
        .spawn(move || serve(&own))
        .ok()?;
    Some(inbox)
}

/// A helper's life: run each job, then wait among the idle for the next.
fn serve(inbox: &Arc<Inbox>) {
    loop {
        match inbox.receive() {
            Job::Work { task, index, latch } => {
                // SAFETY: `run_workers` keeps the task alive until `latch` is counted down.
                let work = unsafe { &*task.0 };
                // The engine's workers catch their own panics; one here must still not leave
                // the block waiting.
                let _ = catch_unwind(AssertUnwindSafe(|| work(index)));
                // Idle again before the block hears of it, so that its next block finds this
                // helper instead of starting another.
                lock(&IDLE).push(Arc::clone(inbox));
                latch.count_down();
            }
            Job::Drop(drop) => {
                let _ = catch_unwind(AssertUnwindSafe(drop));
                lock(&IDLE).push(Arc::clone(inbox));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_worker_runs_once_on_helpers_kept_between_blocks() {
        let mut helpers = std::collections::HashSet::new();
        for _ in 0..20 {
            let ran = [(); 4].map(|()| AtomicUsize::new(0));
            let threads = Mutex::new(Vec::new());
            let work = |index: usize| {
                if let Some(count) = ran.get(index) {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                if index > 0 {
                    lock(&threads).push(std::thread::current().id());
                }
            };
            let (main, workers) = run_workers(4, &work, || {
                work(0);
                "main"
            });
            assert_eq!((main, workers), ("main", 4));
            assert!(ran.iter().all(|count| count.load(Ordering::SeqCst) == 1));
            helpers.extend(lock(&threads).iter().copied());
        }
        // 60 helper runs, each on a new thread if none were kept. Tests running beside this
        // one take idle helpers too, so only a bound far from 3 is certain.
        assert!(
            helpers.len() < 60,
            "{} threads for 60 helper runs",
            helpers.len()
        );
    }

    #[test]
    fn a_panic_of_main_waits_for_the_helpers_and_is_resumed() {
        let finished = AtomicUsize::new(0);
        let work = |_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            finished.fetch_add(1, Ordering::SeqCst);
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            run_workers(3, &work, || panic!("main fails"))
        }));
        assert!(result.is_err());
        assert_eq!(finished.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_panicking_helper_does_not_hang_the_block() {
        let work = |index: usize| assert!(index == 0, "helper fails");
        assert_eq!(run_workers(2, &work, || 7), (7, 2));
    }
}
