//! Per-worker counters: the statistics behind [`PoolMetrics`] and the
//! worker's tick that watching reads.

use super::PoolMetrics;
use super::shared::{Remote, Shared};
use crate::sync::{AtomicU64, Ordering};

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
}

impl Shared {
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
