//! Helper threads kept from one block to the next.
//!
//! Starting a thread on the 2-core machine takes 30-50 us before it runs its first
//! instruction, and joining it more: a few percent of a block that takes one or two
//! milliseconds on two threads, paid at its start, where the other worker waits for it. A
//! helper that waits for its next block instead wakes within microseconds, with its
//! allocator's heap already warm. Helpers are taken from the idle ones, and started only when
//! none is idle, so blocks run from several threads at once each get the workers they ask
//! for; they are never stopped.
//!
//! Even a waiting helper takes tens of microseconds to wake (on a virtual machine, up to
//! hundreds), so a block calls its helpers up before it is set up: they wake while it builds
//! its multi-version memory and scheduler, and wait for their work spinning.

use super::locks::{lock, wait};
use std::{
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// How long a helper called up spins for its work before it waits on the system: longer than
/// any block's setup (half a millisecond for thousands of transactions).
const STANDBY_SPIN: Duration = Duration::from_millis(2);

/// The helpers waiting for work, shared by every block of the process.
static IDLE: Mutex<Vec<Arc<Inbox>>> = Mutex::new(Vec::new());

/// The helpers of one block, called up before it is set up (see the module documentation).
/// Dropped without running, it sends them back to the idle ones.
pub(crate) struct Crew {
    helpers: Vec<Arc<Inbox>>,
}

/// Calls up helpers for a block of `workers` workers, the calling thread included: each is
/// woken now, and spins until [`Crew::run`] gives it its work. A helper that cannot be started
/// is left out: Block-STM's workers share the tasks, so fewer of them only take longer.
pub(crate) fn call_up(workers: usize) -> Crew {
    let helpers: Vec<_> = (1..workers).map_while(|_| take_helper()).collect();
    for helper in &helpers {
        helper.send(Job::Standby);
    }
    Crew { helpers }
}

impl Crew {
    /// Runs `main` on this thread and `work(index)` on each helper, numbered from 1, and
    /// returns `main`'s result once every helper is done with `work`, with the number of
    /// workers that ran, `main`'s included. A panic of `main` is resumed once the helpers are
    /// done.
    pub(crate) fn run<R>(
        mut self,
        work: &(dyn Fn(usize) + Sync),
        main: impl FnOnce() -> R,
    ) -> (R, usize) {
        let latch = Arc::new(Latch::default());
        let task = TaskRef::new(work);
        let helpers = std::mem::take(&mut self.helpers);
        for (index, helper) in (1..).zip(&helpers) {
            latch.add_one();
            helper.send(Job::Work {
                task,
                index,
                latch: Arc::clone(&latch),
            });
        }
        let result = catch_unwind(AssertUnwindSafe(main));
        // `task` borrows `work`, which this frame owns: no helper may still hold it on return.
        latch.wait();
        (
            result.unwrap_or_else(|panic| resume_unwind(panic)),
            helpers.len() + 1,
        )
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        for helper in self.helpers.drain(..) {
            helper.send(Job::Release);
        }
    }
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
// `Crew::run` does not return before every helper it was sent to has finished calling it.
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
    /// Wake: work follows soon (see [`call_up`]).
    Standby,
    /// Called up but not needed after all: back to the idle ones.
    Release,
    /// Worker `index` of a block; counts `latch` down when done.
    Work {
        task: TaskRef,
        index: usize,
        latch: Arc<Latch>,
    },
    /// Drop something of a block that is finished.
    Drop(Box<dyn FnOnce() + Send>),
}

/// One helper's mailbox: at most one job, since a helper is given one only while idle or
/// called up.
#[derive(Default)]
struct Inbox {
    job: Mutex<Option<Job>>,
    arrived: Condvar,
    /// Whether `job` holds one, for a helper that spins instead of waiting.
    posted: AtomicBool,
}

impl Inbox {
    fn send(&self, job: Job) {
        let mut slot = lock(&self.job);
        *slot = Some(job);
        self.posted.store(true, Ordering::Release);
        drop(slot);
        self.arrived.notify_one();
    }

    /// The next job, spinning for it up to [`STANDBY_SPIN`] before waiting on the system.
    fn receive_soon(&self) -> Job {
        let start = Instant::now();
        while !self.posted.load(Ordering::Acquire) && start.elapsed() < STANDBY_SPIN {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
        self.receive()
    }

    fn receive(&self) -> Job {
        let mut slot = lock(&self.job);
        loop {
            if let Some(job) = slot.take() {
                self.posted.store(false, Ordering::Relaxed);
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
    let mut called_up = false;
    loop {
        let job = if called_up {
            inbox.receive_soon()
        } else {
            inbox.receive()
        };
        called_up = matches!(job, Job::Standby);
        match job {
            Job::Standby => {}
            Job::Release => lock(&IDLE).push(Arc::clone(inbox)),
            Job::Work { task, index, latch } => {
                // SAFETY: `Crew::run` keeps the task alive until `latch` is counted down.
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
            let (main, workers) = call_up(4).run(&work, || {
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
            call_up(3).run(&work, || panic!("main fails"))
        }));
        assert!(result.is_err());
        assert_eq!(finished.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn helpers_called_up_but_not_run_go_back_to_the_idle_ones() {
        let crew = call_up(2);
        let called = crew.helpers.first().map(Arc::clone).expect("a helper");
        drop(crew);
        // Other tests take idle helpers too, but give them back after their block.
        let deadline = Instant::now() + Duration::from_secs(10);
        let idle = || {
            lock(&IDLE)
                .iter()
                .any(|helper| Arc::ptr_eq(helper, &called))
        };
        while !idle() {
            assert!(
                Instant::now() < deadline,
                "the released helper never came back"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_panicking_helper_does_not_hang_the_block() {
        let work = |index: usize| assert!(index == 0, "helper fails");
        assert_eq!(call_up(2).run(&work, || 7), (7, 2));
    }
}
