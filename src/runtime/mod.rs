//! The runtime handle: what every actor of a system shares, below the cell.
//!
//! A cell holds an `Arc<Shared>` and reaches through it the pool, the timer,
//! the in-flight count, the registry, the wait-for graph of suspended sends
//! and the dead letters. Nothing here knows an actor's type: the registry and
//! parents see actors through [`AnyCell`]. The cell, addresses and contexts
//! build on this layer; the system owns it and sits above them all.
//!
//! # The layers of the crate, bottom up
//!
//! 1. `sync` (the loom shim); plain data: `error`, `exit`, `panic`, `spare`.
//! 2. `pool`, `timer`, `mailbox`, `quiet` (the in-flight count), `watch`;
//!    then `dedicated` (an actor's own thread) and `reply` (ask slots).
//! 3. `runtime`: this handle.
//! 4. `actor`, the actor core in one module: the trait, `context`, `addr`,
//!    `spawn` and `cell` (an actor as the runtime runs it). Their types are
//!    mutually recursive (an `Actor`'s hooks take a `Context<Self>`, which
//!    borrows the actor's `Cell`, which runs those hooks), so they import
//!    one another inside the module, and nothing below it imports it.
//! 5. `system`: owns the pool, the timer and this handle; shutdown.
//! 6. `supervisor`, then the patterns (`bus`, `breaker`, `stream`,
//!    `persist`, `testkit`), which use only the crate's root exports;
//!    `guide` is documentation.
//!
//! Each layer imports only those below it; `tests/architecture.rs` checks it.
//!
//! # Map
//!
//! - `mod.rs`: [`Shared`], its counters and quiescence, deadlines.
//! - `any_cell.rs`: [`AnyCell`], the type-erased actor, and what is said to it.
//! - `registry.rs`: the live actors, by slot and name.
//! - `dead_letter.rs`: [`DeadLetter`], its reason, and the hook.
//! - `wait_graph.rs`: which actors are suspended on which.
//! - `sim.rs`: the seeded scheduler of a simulated system (`testkit::Simulation`).

use crate::dedicated::DEDICATED;
use crate::error::QuiescenceTimeout;
use crate::pool::PoolHandle;
use crate::quiet::Quiet;
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::timer::Timer;
use std::time::{Duration, Instant};

mod any_cell;
mod dead_letter;
mod registry;
#[cfg(not(loom))]
pub(crate) mod sim;
#[cfg(loom)]
pub(crate) mod sim {
    //! Simulation is not built under loom; the field is always `None`.
    /// Never constructed under loom.
    #[derive(Debug)]
    pub(crate) enum Sim {}
}
mod wait_graph;

pub(crate) use any_cell::{AnyCell, ChildNotice, Command, Exit, StopReason};
pub(crate) use dead_letter::DeadLetterHook;
pub use dead_letter::{DeadLetter, DeadLetterReason};
pub(crate) use registry::Registry;
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub use wait_graph::WaitGraph;

/// The instant `d` from now; a duration too long to add (`Duration::MAX`)
/// means "never" and is clamped to a century.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(d.min(CENTURY)).unwrap_or(now)
}

/// The most in-flight units a worker keeps between turns (see
/// `Shared::turn_done`).
const HELD_MAX: usize = 1024;
/// What a worker keeps when it holds more than [`HELD_MAX`]: a chunk of
/// credit for its next turn's sends.
const CREDIT_KEPT: usize = 32;

/// What every actor of a system shares.
///
/// Aligned to a cache line pair so that the `Arc`'s counts, which every
/// spawn increments, have their line to themselves: the fields behind them
/// are read by the workers on every turn, and a count on their line would
/// cost each spawn a cache miss.
#[repr(align(128))]
pub(crate) struct Shared {
    pub(crate) pool: PoolHandle,
    pub(crate) timer: Timer,
    pub(crate) waits: WaitGraph,
    pub(crate) registry: Mutex<Registry>,
    pub(crate) closing: AtomicBool,
    /// Shared with the pool, whose idle hook gives back the units a
    /// worker's turns hold (see `Shared::turn_done`).
    pub(crate) quiet: Arc<Quiet>,
    pub(crate) alive: AtomicUsize,
    pub(crate) dead_letters: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) restarts: AtomicU64,
    /// Dead letters of accepted messages whose actor stopped
    /// ([`DeadLetterReason::Stopped`]): what a shutdown reports as lost.
    pub(crate) lost: AtomicU64,
    /// User messages handled on dedicated threads (the pool counts the rest).
    pub(crate) dedicated_messages: AtomicU64,
    /// The dedicated threads started and not yet joined.
    pub(crate) runners: Mutex<Vec<crate::dedicated::Started>>,
    /// The threads' name prefix.
    pub(crate) prefix: String,
    pub(crate) on_dead_letter: Option<DeadLetterHook>,
    pub(crate) capacity: usize,
    pub(crate) throughput: usize,
    /// The scheduler of a simulated system (see [`sim`]); `None` otherwise.
    /// Looked at only where a thread outside the pool would block.
    pub(crate) sim: Option<sim::Sim>,
}

impl Shared {
    /// Counts an actor's failure (only on the failure path).
    pub(crate) fn count_failure(&self) {
        // ORDERING: Relaxed; a statistic.
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a restart of a supervised actor (only on the restart path).
    pub(crate) fn count_restart(&self) {
        // ORDERING: Relaxed; a statistic.
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn is_closing(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `System::shutdown_timeout`;
        // a refused sender needs nothing else from the shutting-down thread, so
        // this is only about seeing the flag promptly, not about data.
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn work_added(&self, n: usize) {
        self.quiet.added(n);
    }

    pub(crate) fn work_done(&self, n: usize) {
        self.quiet.done(n);
    }

    /// The end of a turn on worker `worker`: its `n` units (its items and
    /// the credit its sends did not use) stay with the worker, as credit
    /// for its next turns, instead of being uncounted now. The worker gives
    /// them back when it runs out of work (the pool's idle hook), so the
    /// count stays above the work in flight and reaches zero only once every
    /// worker is out of work. A worker keeps at most [`HELD_MAX`]; the rest
    /// is uncounted at once, so the count is never high by much.
    #[inline]
    pub(crate) fn turn_done(&self, worker: usize, n: usize) {
        if worker == DEDICATED {
            // A dedicated thread has no next turn of other actors to lend
            // its units to.
            self.quiet.done(n);
            return;
        }
        if n > HELD_MAX {
            self.quiet.hold(worker, CREDIT_KEPT);
            self.quiet.done(n - CREDIT_KEPT);
        } else {
            self.quiet.hold(worker, n);
        }
    }

    /// The units worker `worker` holds from its earlier turns, for the
    /// credit of the turn starting on it.
    #[inline]
    pub(crate) fn turn_credit(&self, worker: usize) -> usize {
        if worker == DEDICATED {
            return 0;
        }
        self.quiet.take_held(worker)
    }

    /// Counts `n` user messages handled by a turn on `worker`.
    #[inline]
    pub(crate) fn count_messages(&self, worker: usize, n: u64) {
        if worker == DEDICATED {
            // ORDERING: Relaxed; a statistic.
            self.dedicated_messages.fetch_add(n, Ordering::Relaxed);
        } else {
            self.quiet.count_messages(worker, n);
        }
    }

    /// Whether the caller runs on one of this system's threads (a pool
    /// worker or a dedicated thread), where waiting for the system's own
    /// work would wait for the caller's own turn.
    pub(crate) fn on_own_thread(&self) -> bool {
        self.pool.is_own_worker() || crate::dedicated::is_runner_of(self)
    }

    /// The in-flight count, for a turn's [`Credit`](crate::quiet::Credit).
    pub(crate) fn quiet(&self) -> &Quiet {
        &self.quiet
    }

    pub(crate) fn actor_stopped(&self) {
        // ORDERING: AcqRel; the shutdown waiter reads it under `quiet`, which we
        // take below before notifying.
        if self.alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.quiet.notify();
        }
    }

    /// Waits for quiescence until `deadline` (for ever when `None`).
    pub(crate) fn await_quiescent(
        &self,
        deadline: Option<Instant>,
    ) -> Result<(), QuiescenceTimeout> {
        #[cfg(not(loom))]
        if let Some(sim) = &self.sim {
            // Steps run until nothing is ready and no timer is due; time
            // does not move, as with a manual clock on threads.
            return if sim.drive(self, sim::Jump::No, || false).is_ok() && self.quiet.count() == 0 {
                Ok(())
            } else {
                Err(QuiescenceTimeout {
                    in_flight: self.quiet.count(),
                    on_worker: false,
                })
            };
        }
        self.quiet
            .wait_idle(deadline, || {
                // The timer is asked without the count's lock held: it may drop
                // cancelled entries, whose drops can reach `work_done`. And it
                // is asked first: a firing callback raises the count before it
                // stops counting as firing. The workers wake the waiter when
                // the count reaches zero; the timer does not, so while it is
                // busy (or has an entry due) the waiter looks again soon.
                let busy = self.timer.due_or_firing();
                let next = if busy {
                    Some(Instant::now() + Duration::from_millis(1))
                } else if self.timer.is_manual() {
                    // A manual deadline comes due only when the clock is
                    // advanced, not with wall time: no point looking then.
                    None
                } else {
                    self.timer
                        .next_deadline()
                        .map(|t| t + Duration::from_micros(100))
                };
                (busy, next)
            })
            .map_err(|in_flight| QuiescenceTimeout {
                in_flight,
                on_worker: false,
            })
    }
}
