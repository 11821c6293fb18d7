//! The count of work in flight behind `System::await_quiescent`, and waiting for it to reach zero.
//!
//! # Protocol
//!
//! `in_flight` counts every item in any mailbox (queued or parked) plus the one
//! being handled: it is raised before a push and lowered after the item is
//! handled or dropped. An item's effects (the messages its handler sends) are
//! counted before the item itself is uncounted, so zero means no actor has work.
//!
//! 1. A waiter registers in `waiters`, then (each round) takes `lock` and reads
//!    `in_flight`; if it is not zero it waits on `cv`, which releases `lock`.
//! 2. A worker lowers `in_flight`; if that made it zero, it reads `waiters`,
//!    and only if someone waits does it take `lock` and notify.
//!
//! # Memory ordering
//!
//! Step 1's registration and read and step 2's decrement and read form the
//! store-buffering pattern, with a `SeqCst` fence between the write and the
//! read on each side (`Fw` in `wait_idle`, `Fd` in `done`): whichever fence
//! comes first in the total order, the read after the other one sees its side's
//! write, so the waiter sees zero or the worker sees the waiter. (`SeqCst` on
//! the accesses alone is not enough for loom, which models them as `AcqRel`;
//! the fences are what C++ and loom both guarantee.) The notification is
//! sent under the lock the waiter checks under, so it cannot fall between the
//! check and the wait. Increments are `Relaxed`: one made while handling an item
//! happens before that item's decrement on the same thread, so coherence keeps
//! it ahead in the counter's modification order and no reader can see the
//! decrement without it. Modelled in `loom-tests/quiescence.rs`.
//!
//! A turn counts the messages its handlers send from a [`Credit`]: units
//! added in chunks before the sends they cover. When the turn ends, its own
//! items and the unused credit are not uncounted but kept by its worker, as
//! the credit of the worker's next turns, in this worker's tally
//! ([`Quiet::hold`]); the worker gives back what it holds (one decrement)
//! whenever it runs out of work (the pool's idle hook calls
//! [`Quiet::worker_idle`]), and keeps at most `system::HELD_MAX` units. The increments still come before the sends on the
//! same thread, and an item stays counted until its worker's decrement, which
//! comes after the item's effects on that thread; so the count never falls
//! below the work in flight, and reaches zero only once every worker is out
//! of work. A worker passing messages back and forth (ping-pong, a ring)
//! thus writes the shared count about once per 32 messages, not twice per
//! message. Modelled in `loom-tests/quiescence.rs`.

use crate::sync::{AtomicU64, AtomicUsize, CachePadded, Condvar, Mutex, Ordering, fence};
use std::time::{Duration, Instant};

/// In-flight units a turn takes at once for the messages it sends.
const CREDIT_CHUNK: usize = 32;

/// In-flight units a turn has counted ahead for the messages its handlers
/// send, so that a handler sending many messages raises the shared count once
/// per [`CREDIT_CHUNK`] sends instead of once per send (the count's cache
/// line is the one every worker and outside sender writes).
///
/// The count stays an upper bound: units are added before the sends they
/// cover, and the unused ones are given back only at the end of the turn,
/// together with the turn's own items ([`Credit::take_left`]). Until then the
/// count is high by at most a chunk, which only delays a quiescence the
/// running turn rules out anyway, since its own item is still counted.
#[derive(Debug, Default)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub struct Credit {
    left: std::cell::Cell<usize>,
}

#[allow(unreachable_pub)]
impl Credit {
    /// Counts one message in flight for a send from an actor of the system
    /// counted by `mine` to one counted by `to`. Returns `false`, counting
    /// nothing, when the two differ: the caller counts it with `to` itself.
    pub fn take(&self, mine: &Quiet, to: &Quiet) -> bool {
        if !std::ptr::eq(mine, to) {
            return false;
        }
        match self.left.get() {
            0 => {
                mine.added(CREDIT_CHUNK);
                self.left.set(CREDIT_CHUNK - 1);
            }
            n => self.left.set(n - 1),
        }
        true
    }

    /// Adds `n` units counted earlier (a worker's, kept from its last turns).
    pub fn add(&self, n: usize) {
        self.left.set(self.left.get() + n);
    }

    /// Returns a unit [`take`](Credit::take) counted for a send that did not
    /// go through.
    pub fn give_back(&self) {
        self.left.set(self.left.get() + 1);
    }

    /// Takes the units not used, for the turn to uncount with its items.
    pub fn take_left(&self) -> usize {
        self.left.replace(0)
    }
}

/// How long one wait may last when there is no deadline (a wake-up is never
/// missed, see the protocol; this only bounds a spurious sleep).
const LONG_WAIT: Duration = Duration::from_secs(3600);

/// The in-flight count and its waiters.
#[derive(Debug)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub struct Quiet {
    in_flight: CachePadded<AtomicUsize>,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    cv: Condvar,
    /// `workers[i]`: what pool worker `i` keeps for this system.
    workers: Box<[CachePadded<WorkerTally>]>,
}

/// What one pool worker keeps for the actor layer, on a cache line of its
/// own: written only by that worker's thread, so every write is a load and a
/// store, not a read-modify-write.
///
/// Every access is `Relaxed`. `held` is published to waiters by the
/// decrement that gives it back ([`Quiet::worker_idle`] calls
/// [`Quiet::done`]), not by itself; `messages` is a statistic that no
/// decision depends on, and readers want a recent value, not a snapshot.
#[derive(Debug, Default)]
struct WorkerTally {
    /// Units of `in_flight` this worker's turns hold (see the module docs).
    held: AtomicUsize,
    /// User messages that turns on this worker handled.
    messages: AtomicU64,
}

impl Default for Quiet {
    fn default() -> Self {
        Quiet::new()
    }
}

#[allow(unreachable_pub)]
impl Quiet {
    /// Nothing in flight, nobody waiting, no pool workers.
    pub fn new() -> Self {
        Quiet::with_workers(0)
    }

    /// Nothing in flight, nobody waiting, and a tally for each of `workers`
    /// pool workers.
    pub fn with_workers(workers: usize) -> Self {
        Quiet {
            in_flight: CachePadded::new(AtomicUsize::new(0)),
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            cv: Condvar::new(),
            workers: (0..workers).map(|_| CachePadded::default()).collect(),
        }
    }

    /// Takes the units worker `worker` holds (it then holds none); called
    /// only from that worker's thread, by a turn starting.
    #[inline]
    pub(crate) fn take_held(&self, worker: usize) -> usize {
        let held = &self.workers[worker].held;
        // ORDERING: Relaxed, see `WorkerTally`; only this worker touches it.
        let n = held.load(Ordering::Relaxed);
        if n != 0 {
            held.store(0, Ordering::Relaxed);
        }
        n
    }

    /// Makes worker `worker` hold `n` units until it runs out of work;
    /// called only from that worker's thread, which holds none (it took them
    /// with `take_held`), by a turn ending.
    #[inline]
    pub(crate) fn hold(&self, worker: usize, n: usize) {
        // ORDERING: Relaxed, as in `take_held`.
        self.workers[worker].held.store(n, Ordering::Relaxed);
    }

    /// Worker `worker` ran out of work (the pool's idle hook): what its
    /// turns hold is given back, so the count can reach zero.
    pub(crate) fn worker_idle(&self, worker: usize) {
        let n = self.take_held(worker);
        if n != 0 {
            self.done(n);
        }
    }

    /// Counts `n` user messages handled by a turn on worker `worker`; called
    /// only from that worker's thread.
    #[inline]
    pub(crate) fn count_messages(&self, worker: usize, n: u64) {
        let c = &self.workers[worker].messages;
        // ORDERING: Relaxed, see `WorkerTally`; only this worker writes it.
        c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    /// User messages handled on all workers.
    pub(crate) fn messages(&self) -> u64 {
        // ORDERING: Relaxed, see `WorkerTally`.
        self.workers
            .iter()
            .map(|w| w.messages.load(Ordering::Relaxed))
            .sum()
    }

    /// Counts `n` items in flight.
    pub fn added(&self, n: usize) {
        // ORDERING: Relaxed, see the module docs.
        self.in_flight.fetch_add(n, Ordering::Relaxed);
    }

    /// Uncounts `n` items; wakes the waiters if that reached zero.
    pub fn done(&self, n: usize) {
        if n == 0 {
            return;
        }
        // ORDERING: AcqRel; Release so a waiter that sees zero sees the
        // handlers' effects. Step 2's write of the pair.
        let prev = self.in_flight.fetch_sub(n, Ordering::AcqRel);
        debug_assert!(prev >= n, "in-flight count went negative");
        if prev != n {
            return;
        }
        // ORDERING: SeqCst fence `Fd`, paired with `Fw` (module docs).
        fence(Ordering::SeqCst);
        // ORDERING: Relaxed read after `Fd`: the fence pair makes it see a
        // registration whose `Fw` came first.
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.notify();
        }
    }

    /// The items in flight now.
    pub fn count(&self) -> usize {
        // ORDERING: Acquire pairs with the Release of `done`'s decrement.
        self.in_flight.load(Ordering::Acquire)
    }

    /// Wakes every waiter (also used when the last actor stops).
    pub fn notify(&self) {
        let _g = self.lock.lock();
        self.cv.notify_all();
    }

    /// Waits until nothing is in flight and `probe` reports nothing busy, or
    /// until `deadline`; then returns the count left. `probe` runs without the
    /// lock held (it may drop user values) and returns whether something else
    /// is busy and when to look again.
    pub fn wait_idle(
        &self,
        deadline: Option<Instant>,
        mut probe: impl FnMut() -> (bool, Option<Instant>),
    ) -> Result<(), usize> {
        // ORDERING: Relaxed write; `Fw` below orders it before the count read.
        self.waiters.fetch_add(1, Ordering::Relaxed);
        // ORDERING: SeqCst fence `Fw`, paired with `Fd` (module docs).
        fence(Ordering::SeqCst);
        let result = loop {
            let (busy, next_look) = probe();
            let guard = self.lock.lock();
            let n = self.count();
            if !busy && n == 0 {
                break Ok(());
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break Err(n);
            }
            let mut wait = deadline.map_or(LONG_WAIT, |d| d - now);
            if let Some(t) = next_look {
                wait = wait.min(t.saturating_duration_since(now));
            }
            drop(self.cv.wait_timeout(guard, wait));
        };
        // ORDERING: Relaxed; only a hint that saves workers the lock.
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Waits until `done()` holds, re-checked under the lock after every
    /// notification, or until `deadline`. Returns whether it held.
    pub fn wait_for(&self, deadline: Option<Instant>, mut done: impl FnMut() -> bool) -> bool {
        let mut guard = self.lock.lock();
        loop {
            if done() {
                return true;
            }
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if now >= d => return false,
                Some(d) => d - now,
                None => LONG_WAIT,
            };
            guard = self.cv.wait_timeout(guard, wait);
        }
    }
}
