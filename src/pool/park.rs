//! A one-token parker: how a sleeping worker blocks until another thread wakes it.
//!
//! Each worker owns one [`Parker`]; only that worker calls [`Parker::park`],
//! any thread may call [`Parker::unpark`]. The token semantics are those of
//! `std::thread::park` (and crossbeam-utils' `Parker`), built on the crate's
//! sync shim so loom can model them (`loom-tests/pool_park.rs`).
//!
//! # Invariants
//!
//! - `state` is one of [`EMPTY`], [`PARKED`], [`NOTIFIED`].
//! - Only the owner moves the state to `PARKED` or consumes `NOTIFIED`, so at
//!   most one thread ever waits on `condvar`.
//! - The state becomes `PARKED` only while `lock` is held, and stays `PARKED`
//!   until an unparker swaps in `NOTIFIED`.
//!
//! # Protocol
//!
//! 1. `park` first tries to consume a token (`NOTIFIED -> EMPTY`) without
//!    locking: an `unpark` that came earlier makes `park` return at once.
//! 2. Otherwise it locks and moves `EMPTY -> PARKED`. If that fails, a token
//!    arrived in between: it consumes it and returns.
//! 3. It waits on the condvar until it can consume a token; a wake-up that
//!    finds no token is spurious and it waits again.
//! 4. `unpark` swaps in `NOTIFIED`. If the old state was `PARKED`, it takes and
//!    releases the lock before notifying: the parker holds the lock from step 2
//!    until it is inside `Condvar::wait`, so the notification cannot fall
//!    between its state change and its wait.
//!
//! # Memory ordering
//!
//! `unpark` swaps with `Release` and every successful token consumption in
//! `park` is an `Acquire`, so whatever the unparker wrote before `unpark`
//! happens before whatever the parker does after `park` returns. The other
//! operations (`EMPTY -> PARKED`) publish nothing: the lock orders them.

use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};
use std::fmt;

/// No token, nobody waiting.
const EMPTY: usize = 0;
/// The owner is (about to be) blocked on the condvar.
const PARKED: usize = 1;
/// A token is available: the next `park` consumes it and returns.
const NOTIFIED: usize = 2;

/// Blocks its owner thread until a token is available.
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub struct Parker {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

#[cfg_attr(not(loom), allow(unreachable_pub))]
impl Parker {
    /// A parker without a token.
    pub fn new() -> Self {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Blocks until a token is available, then consumes it.
    ///
    /// Returns at once if [`Parker::unpark`] was called since the last `park`
    /// returned. Must only be called by the parker's owner thread.
    pub fn park(&self) {
        // ORDERING: Acquire on success pairs with the Release swap in `unpark`;
        // Relaxed on failure, as nothing was handed over.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }

        let mut guard = self.lock.lock();
        // ORDERING: Relaxed. Announcing PARKED publishes nothing; the lock we
        // hold orders it before the unparker's lock/notify. On failure the
        // state is NOTIFIED, consumed by the swap below.
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // ORDERING: Acquire pairs with the Release swap in `unpark`
                // that stored this token.
                let old = self.state.swap(EMPTY, Ordering::Acquire);
                debug_assert_eq!(old, NOTIFIED, "only the owner consumes a token");
                return;
            }
            Err(other) => unreachable!("parker in state {other} while its owner parks"),
        }

        loop {
            guard = self.condvar.wait(guard);
            // ORDERING: Acquire on success pairs with the Release swap in
            // `unpark`; a failure means a spurious wake-up (state still
            // PARKED), which hands over nothing.
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Like [`park`](Parker::park), but returns after about `timeout` even
    /// without a token; a token present on return is consumed either way.
    /// Under loom, which does not model time, it yields instead of sleeping.
    pub fn park_timeout(&self, timeout: std::time::Duration) {
        // ORDERING: Acquire on success, as in `park`.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        #[cfg(loom)]
        {
            let _ = timeout;
            crate::sync::thread::yield_now();
        }
        #[cfg(not(loom))]
        {
            let guard = self.lock.lock();
            // ORDERING: Relaxed, as in `park`: the lock orders it with `unpark`.
            match self
                .state
                .compare_exchange(EMPTY, PARKED, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => drop(self.condvar.wait_timeout(guard, timeout)),
                Err(NOTIFIED) => {}
                Err(other) => unreachable!("parker in state {other} while its owner parks"),
            }
        }
        // Back to EMPTY whether we were notified or timed out. ORDERING:
        // Acquire, so a token consumed here publishes what its `unpark` did.
        // An `unpark` that saw PARKED and notifies late wakes nobody.
        self.state.swap(EMPTY, Ordering::Acquire);
    }

    /// Makes a token available, waking the owner if it is parked.
    ///
    /// Tokens do not accumulate: several `unpark`s before one `park` let
    /// exactly one `park` return at once.
    pub fn unpark(&self) {
        // ORDERING: Release publishes everything written before this call to
        // the owner, whose token-consuming Acquire in `park` pairs with it.
        match self.state.swap(NOTIFIED, Ordering::Release) {
            EMPTY | NOTIFIED => return,
            PARKED => {}
            other => unreachable!("parker in state {other}"),
        }
        // The owner set PARKED under the lock and holds it until it waits, so
        // once we hold the lock it is either waiting (and gets the notify) or
        // about to re-check the state after a wake-up (and sees NOTIFIED).
        drop(self.lock.lock());
        self.condvar.notify_one();
    }
}

impl Default for Parker {
    fn default() -> Self {
        Parker::new()
    }
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parker { .. }")
    }
}
