//! The engine's locks, taken whether or not a panic poisoned them.
//!
//! A worker's panic is caught and stops the block, which then fails with that panic (see
//! `executor`), so nothing a poisoned lock guards reaches a result; the other workers only
//! need to get to the stop without panicking in turn. And what the locks guard stays whole
//! across a panic: each is a slot, a status, a queue or a count, written in one piece.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What `mutex` guards, for its only owner, poisoned or not.
pub(crate) fn get_mut<T>(mutex: &mut Mutex<T>) -> &mut T {
    mutex
        .get_mut()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits on `condvar` with `guard`, poisoned or not.
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar
        .wait(guard)
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_poisoned_by_a_panic_is_still_taken() {
        let mutex = Mutex::new(1);
        let _ = std::panic::catch_unwind(|| {
            let _guard = mutex.lock();
            panic!("poisons the lock");
        });
        assert!(mutex.is_poisoned());
        *lock(&mutex) += 1;
        assert_eq!(*lock(&mutex), 2);
        let mut mutex = mutex;
        assert_eq!(*get_mut(&mut mutex), 2);
    }
}
