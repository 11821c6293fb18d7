//! Per-worker counters: the statistics behind [`PoolMetrics`], the worker's
//! tick that watching reads, and the units a worker holds for its system.

use super::PoolMetrics;
use super::shared::{Remote, Shared};
use crate::sync::{AtomicU64, AtomicUsize, Ordering};

/// Statistics of one worker, padded to its own cache line so workers do not
/// contend on them.
///
/// Every access is `Relaxed`: each counter is an independent tally that no
/// decision depends on and that publishes no other data; only its own worker
/// writes it, and readers ([`Shared::metrics`]) want a recent value, not a
/// consistent snapshot.
///
/// `tasks_run` doubles as the worker's tick: a thief that sees the same value
/// before and after a watch knows the owner has been inside one task all that
/// time. That is a liveness heuristic, not a safety property: a stale read only
/// delays or hastens a steal, and the queue lock decides who gets the task.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) tasks_run: AtomicU64,
    pub(super) steals: AtomicU64,
    pub(super) parks: AtomicU64,
    /// User messages that actor turns on this worker handled (for the
    /// system's metrics): a tally per worker instead of one shared counter,
    /// so a turn adds to it without a read-modify-write.
    messages: AtomicU64,
    /// Units of the system's in-flight count that this worker's turns hold
    /// (see `PoolHandle::hold`); given back through the pool's release hook
    /// whenever the worker runs out of work.
    held: AtomicUsize,
}

impl Shared {
    /// Adds `n` user messages handled by a turn on worker `worker`; only that
    /// worker's thread calls it.
    /// Takes the units worker `worker` holds; called only from that
    /// worker's thread.
    #[inline]
    pub(crate) fn take_held(&self, worker: usize) -> usize {
        let held = &self.workers[worker].counters.held;
        // ORDERING: Relaxed, see `Counters`; only this worker touches it, so
        // a load and a store, not an RMW.
        let n = held.load(Ordering::Relaxed);
        if n != 0 {
            held.store(0, Ordering::Relaxed);
        }
        n
    }

    /// Makes worker `worker` hold `n` units; called only from that worker's
    /// thread, which holds none (it took them with `take_held`).
    #[inline]
    pub(crate) fn hold(&self, worker: usize, n: usize) {
        // ORDERING: Relaxed, as in `take_held`.
        self.workers[worker]
            .counters
            .held
            .store(n, Ordering::Relaxed);
    }

    /// Gives back what this worker holds, through the release hook.
    pub(super) fn release_held(&self, worker: usize) {
        if let Some(release) = &self.release {
            let n = self.take_held(worker);
            if n != 0 {
                (release.0)(n);
            }
        }
    }

    pub(crate) fn count_messages(&self, worker: usize, n: u64) {
        let c = &self.workers[worker].counters.messages;
        // ORDERING: Relaxed, see `Counters`; a load and a store, not an RMW,
        // since only this worker writes it.
        c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    /// User messages handled on all workers (see `count_messages`).
    pub(crate) fn messages(&self) -> u64 {
        // ORDERING: Relaxed, see `Counters`.
        self.workers
            .iter()
            .map(|w| w.counters.messages.load(Ordering::Relaxed))
            .sum()
    }

    /// The counters of all workers, summed.
    pub(crate) fn metrics(&self) -> PoolMetrics {
        let mut metrics = PoolMetrics::default();
        for worker in self.workers.iter() {
            let c = &worker.counters;
            // ORDERING: Relaxed, see `Counters`.
            metrics.tasks_run += c.tasks_run.load(Ordering::Relaxed);
            metrics.steals += c.steals.load(Ordering::Relaxed);
            metrics.parks += c.parks.load(Ordering::Relaxed);
        }
        metrics
    }
}

impl Remote {
    /// The worker's tick: the number of tasks it has finished.
    pub(super) fn tick(&self) -> u64 {
        // ORDERING: Relaxed, see `Counters`.
        self.counters.tasks_run.load(Ordering::Relaxed)
    }
}
