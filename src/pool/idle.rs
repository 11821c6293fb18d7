//! The idle protocol: which workers are searching or sleeping, and whom a submitter wakes.
//!
//! Two promises at once: *no lost wake-up* (a task pushed while workers go to
//! sleep is always run) and *no idle CPU* (a pool with nothing to do has every
//! worker parked without a timeout). A worker is *active*, *searching* (found
//! no work, spinning over the queues; at most about half of the workers) or
//! *sleeping* (on the sleeper list, parked on its own [`Parker`]). The
//! protocol, step by step, and the argument that no wake-up is lost are in
//! `src/pool/README.md`, beside this file; the steps are numbered as there.
//!
//! # Invariants
//!
//! - `state` packs two counts (layout below); the sleeping count equals the
//!   length of `sleepers` whenever the `sleepers` lock is free, because both
//!   only change together under that lock.
//! - A worker is on `sleepers` at most once. A worker taken off the list by a
//!   waker is counted as searching from that moment (the waker does both in one
//!   read-modify-write), so submitters that come right after do not wake a
//!   second worker for the same task.
//!
//! # Memory ordering
//!
//! Every operation on `state` is SeqCst, so that loads and RMWs of `state`
//! share one order with each other. Nothing is published *through* `state`:
//! tasks are published by the queue locks, sleeper membership by the
//! `sleepers` lock; the SeqCst fence after registering (step 4) is the
//! sleeper's side of the argument in the README.
//!
//! [`Parker`]: super::park::Parker

use crate::sync::{AtomicUsize, CachePadded, Mutex, Ordering, fence};
use std::fmt;

/// Bit layout of `state`: the low half of the word counts searching workers,
/// the high half sleeping ones (16 + 16 bits on 32-bit targets, 32 + 32 on
/// 64-bit; a pool has far fewer workers than either bound).
const SLEEPING_SHIFT: u32 = usize::BITS / 2;
const SEARCHING_ONE: usize = 1;
const SEARCHING_MASK: usize = (1 << SLEEPING_SHIFT) - 1;
const SLEEPING_ONE: usize = 1 << SLEEPING_SHIFT;

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn sleeping(state: usize) -> usize {
    state >> SLEEPING_SHIFT
}

/// The searching and sleeping workers of one pool.
pub(crate) struct Idle {
    /// Packed counts: searching (low half) and sleeping (high half). Read by
    /// every push, so on a line of its own, away from the injector's lock.
    state: CachePadded<AtomicUsize>,
    /// Indices of the sleeping workers, most recent last.
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Self {
        debug_assert!(workers < SEARCHING_MASK, "too many workers to count");
        Idle {
            state: CachePadded::new(AtomicUsize::new(0)),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    /// Protocol step 2: becomes searching unless half the workers already
    /// are. Returns whether the caller is now searching.
    pub(crate) fn transition_to_searching(&self) -> bool {
        // ORDERING: SeqCst, in the one order of `state` operations (module
        // docs). The cap is a heuristic: two workers may both pass the
        // check, which only lets one more search.
        let state = self.state.load(Ordering::SeqCst);
        if 2 * searching(state) >= self.workers {
            return false;
        }
        // ORDERING: SeqCst, as above; the increment publishes nothing.
        self.state.fetch_add(SEARCHING_ONE, Ordering::SeqCst);
        true
    }

    /// Protocol step 3: a searching worker found a task. Returns whether it
    /// was the last searcher, in which case the caller must wake another
    /// sleeper (through [`Idle::worker_to_notify`]) if a queue still holds
    /// work once it has looked at every queue under its lock.
    #[must_use]
    pub(crate) fn transition_from_searching(&self) -> bool {
        // ORDERING: SeqCst. This RMW is the "step out of searching" of the
        // module docs: it must come after any submitter load that saw this
        // worker searching, in the one total order.
        let prev = self.state.fetch_sub(SEARCHING_ONE, Ordering::SeqCst);
        debug_assert!(searching(prev) > 0, "not searching");
        searching(prev) == 1
    }

    /// Protocol step 4: puts worker `index` on the sleeper list, counting it
    /// sleeping and (if `searching`) no longer searching, then fences. The
    /// caller must re-check every queue before it parks.
    pub(crate) fn register_sleeper(&self, index: usize, searching: bool) {
        {
            let mut sleepers = self.sleepers.lock();
            debug_assert!(!sleepers.contains(&index), "worker {index} sleeps twice");
            sleepers.push(index);
            let delta = if searching {
                SLEEPING_ONE - SEARCHING_ONE
            } else {
                SLEEPING_ONE
            };
            // ORDERING: SeqCst. The registration RMW `R` of the module docs,
            // ordered before the fence below.
            self.state.fetch_add(delta, Ordering::SeqCst);
        }
        // ORDERING: SeqCst fence after `R`. The queue locks already order `R`
        // with a submitter's push and load (module docs); the fence keeps
        // this side sound for a queue read without a lock, off the hot path.
        fence(Ordering::SeqCst);
    }

    /// Protocol step 5: takes worker `index` off the sleeper list after its
    /// re-check found something. Returns `true` if it was still on it (it is
    /// now active), `false` if a waker took it off first (it is now searching,
    /// and a stale token is on its way to its parker).
    pub(crate) fn unregister_sleeper(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(at) = sleepers.iter().position(|&i| i == index) else {
            return false;
        };
        sleepers.swap_remove(at);
        // ORDERING: SeqCst, like every `state` operation; publishes nothing.
        self.state.fetch_sub(SLEEPING_ONE, Ordering::SeqCst);
        true
    }

    /// Protocol step 6: whether worker `index` is still on the sleeper list.
    pub(crate) fn is_sleeping(&self, index: usize) -> bool {
        self.sleepers.lock().contains(&index)
    }

    /// Protocol step 1: after a push (or when the last searcher found work),
    /// picks a sleeping worker to wake, if no worker is searching. The worker
    /// is taken off the list and counted as searching; the caller unparks it.
    #[inline]
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // No fence before `L`: the caller's push released a queue lock that a
        // worker re-checks under (module docs, "Memory ordering").
        if !self.may_notify() {
            return None;
        }
        self.take_sleeper()
    }

    /// The first look of step 1: whether some worker sleeps and none is
    /// searching, so that a wake-up may be due.
    #[inline]
    pub(crate) fn may_notify(&self) -> bool {
        // ORDERING: SeqCst load `L`, in the total order with the registration
        // and searching RMWs (module docs).
        let state = self.state.load(Ordering::SeqCst);
        searching(state) == 0 && sleeping(state) > 0
    }

    /// The rest of step 1, once `L` saw a sleeper and no searcher: off the
    /// hot path of a push, so not inlined into it.
    #[cold]
    #[inline(never)]
    fn take_sleeper(&self) -> Option<usize> {
        let mut sleepers = self.sleepers.lock();
        // ORDERING: SeqCst, as above. Under the lock the sleeping count is
        // exact; a searcher that appeared since `L` will find the task.
        let state = self.state.load(Ordering::SeqCst);
        if searching(state) > 0 {
            return None;
        }
        let index = sleepers.pop()?;
        // ORDERING: SeqCst. One RMW turns the woken worker from sleeping into
        // searching, so a submitter loading `state` next does not wake another.
        self.state
            .fetch_sub(SLEEPING_ONE - SEARCHING_ONE, Ordering::SeqCst);
        Some(index)
    }

    /// The sleeping count (for tests).
    #[cfg(test)]
    pub(crate) fn sleeping_workers(&self) -> usize {
        // ORDERING: SeqCst, like every `state` operation; a test's look only.
        sleeping(self.state.load(Ordering::SeqCst))
    }

    /// Protocol step 7: takes every worker off the sleeper list, counting
    /// them searching. The caller (shutdown) then unparks every worker.
    pub(crate) fn unregister_all(&self) {
        let mut sleepers = self.sleepers.lock();
        let woken = sleepers.len();
        sleepers.clear();
        // ORDERING: SeqCst, like every `state` operation; publishes nothing
        // (the shutdown flag is stored before this, and the lock orders it
        // before any later registration).
        self.state
            .fetch_sub(woken * (SLEEPING_ONE - SEARCHING_ONE), Ordering::SeqCst);
    }
}

impl fmt::Debug for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ORDERING: Relaxed. A diagnostic snapshot; nothing is read through it.
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Idle")
            .field("searching", &searching(state))
            .field("sleeping", &sleeping(state))
            .finish_non_exhaustive()
    }
}
