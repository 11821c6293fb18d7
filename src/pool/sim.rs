//! The simulated pool: no threads; the caller's thread runs one ready task at
//! a time, chosen by the caller (a seeded random scheduler in
//! `crate::runtime::sim`).
//!
//! # How it fits the threaded pool
//!
//! A simulated pool is an ordinary [`Shared`] with one worker slot (index 0)
//! whose thread is never started. Submission is unchanged: from outside a
//! step, tasks go to the injector (or are staged, for starts); inside a step
//! the current-worker thread-local points to a [`Worker`] for slot 0, so
//! handlers take the worker paths (suspend instead of block, credit and
//! message counts of slot 0) and their submissions go to slot 0's local queue.
//! Before every step [`SimRunner::collect`] moves everything queued anywhere
//! onto one ready list; the run-next slot, stealing, parking and wake-ups
//! are thereby bypassed, and the threaded hot paths carry no simulation
//! check at all.
//!
//! # Invariants
//!
//! - Only the thread holding the [`SimRunner`] runs tasks of the pool, one at
//!   a time; between steps no task is running.
//! - Every task submitted is on the ready list after the next `collect`, or
//!   still queued (never lost): `collect` drains the staged starts, the
//!   injector and slot 0's queue.

use super::Task;
use super::queue::Local;
use super::shared::Shared;
use super::worker::{Worker, run_as_worker};
use crate::sync::Arc;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What one simulated step ran: the actor's id and name, for an actor's
/// turn (`None` for a job).
pub(crate) type Ran = Option<(u64, Option<String>)>;

/// The thread-less worker 0 of a simulated pool and its ready list.
pub(crate) struct SimRunner {
    /// Slot 0's local queue; lent to a [`Worker`] during a step.
    local: Option<Local>,
    ready: Vec<Task>,
}

impl SimRunner {
    pub(super) fn new(local: Local) -> Self {
        SimRunner {
            local: Some(local),
            ready: Vec::new(),
        }
    }

    /// Moves every queued task (staged starts, the injector, slot 0's queue)
    /// onto the ready list, in that order; returns how many are ready.
    pub(crate) fn collect(&mut self, handle: &super::PoolHandle) -> usize {
        let shared = &handle.shared;
        shared.injector.take_staged(&shared.staged, true);
        while let Some(task) = shared.injector.pop() {
            self.ready.push(task);
        }
        if let Some(local) = &self.local {
            while let Some((task, _)) = local.pop(true) {
                self.ready.push(task);
            }
        }
        self.ready.len()
    }

    /// Runs ready task `index` (below the count [`SimRunner::collect`]
    /// returned) as worker 0, on the calling thread, varied by `draw` (see
    /// `Runnable::run_drawn`). A task that wants to run
    /// again goes back on the ready list. A panic is caught and logged, as a
    /// worker does.
    pub(crate) fn run(&mut self, handle: &super::PoolHandle, index: usize, draw: u64) -> Ran {
        let shared: &Arc<Shared> = &handle.shared;
        let task = self.ready.swap_remove(index);
        let actor = task.label();
        let worker = Worker {
            shared: Arc::clone(shared),
            index: 0,
            local: self
                .local
                .take()
                .expect("a simulated step is not re-entered"),
        };
        let outcome = run_as_worker(&worker, || {
            catch_unwind(AssertUnwindSafe(|| task.run_drawn(0, draw)))
        });
        self.local = Some(worker.local);
        match outcome {
            Ok(Some(again)) => self.ready.push(again),
            Ok(None) => {}
            Err(_) => log::error!("playhouse simulation: a task panicked"),
        }
        // A worker runs its idle hook (which gives back what its turns
        // hold) when it runs out of work; here every step ends that way, so
        // the in-flight count stays exact.
        shared.run_idle_hook(0);
        actor
    }

    /// Calls [`super::Runnable::abandon`] on every ready task and drops them.
    pub(crate) fn abandon(&mut self) {
        for task in self.ready.drain(..) {
            task.0.abandon();
        }
    }
}

impl fmt::Debug for SimRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRunner")
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}
