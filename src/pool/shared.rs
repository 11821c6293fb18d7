//! What all workers of one pool (and its handles) share: the queues, the
//! idle state, the shutdown flag and the exit records; submission and the
//! wake-up that follows every push.

use super::counters::Counters;
use super::idle::Idle;
use super::park::Parker;
use super::queue::{Injector, Pending, Staged, Steal};
use super::worker::{push_local, push_local_as};
use super::{Runnable, Task};
use crate::sync::{Arc, AtomicBool, CachePadded, Condvar, Mutex, Ordering};
use std::fmt;
use std::time::Instant;

/// What all workers of one pool (and its handles) share.
pub(crate) struct Shared {
    pub(crate) injector: Injector,
    /// Starts of actors spawned outside the pool, on their way to the
    /// injector in batches (module docs, "Staged starts").
    pub(crate) staged: Staged,
    pub(super) idle: Idle,
    pub(crate) workers: Box<[Remote]>,
    shutdown: AtomicBool,
    /// `exits[i]`: worker `i` has left its run loop.
    pub(super) exits: Mutex<Vec<bool>>,
    pub(super) exited: Condvar,
    /// Called by a worker that runs out of work (`PoolBuilder::on_idle`).
    pub(super) idle_hook: Option<IdleHook>,
}

/// What a worker calls, with its index, each time it runs out of work: the
/// layer above the pool settles there what it keeps per worker.
#[derive(Clone)]
pub(crate) struct IdleHook(pub(crate) Arc<dyn Fn(usize) + Send + Sync>);

impl fmt::Debug for IdleHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdleHook { .. }")
    }
}

/// The part of a worker that other threads use.
pub(crate) struct Remote {
    pub(crate) steal: Steal,
    pub(super) parker: Parker,
    pub(super) counters: CachePadded<Counters>,
    /// The worker is watching: sleeping for a short while because the only
    /// work it saw was other workers' run-next tasks (see the module docs).
    pub(super) watching: AtomicBool,
    pub(crate) name: String,
}

impl Shared {
    /// Shared state for workers named `names`, with the steal sides of their
    /// queues, and `idle_hook` to call when a worker runs
    /// out of work.
    pub(crate) fn new(names: Vec<String>, steals: Vec<Steal>, idle_hook: Option<IdleHook>) -> Self {
        let workers: Box<[Remote]> = names
            .into_iter()
            .zip(steals)
            .map(|(name, steal)| Remote {
                steal,
                parker: Parker::new(),
                counters: CachePadded::new(Counters::default()),
                watching: AtomicBool::new(false),
                name,
            })
            .collect();
        let n = workers.len();
        Shared {
            injector: Injector::new(n),
            staged: Staged::new(),
            idle: Idle::new(n),
            workers,
            shutdown: AtomicBool::new(false),
            exits: Mutex::new(vec![false; n]),
            exited: Condvar::new(),
            idle_hook,
        }
    }

    /// Queues `task`: on the caller's local queue if it is a worker of this
    /// pool, else on the injector; then wakes a sleeper if needed. A task
    /// submitted after every worker has retired is logged and dropped.
    ///
    /// On a worker, `task` goes into the run-next slot unless `yielded` (a task
    /// that wants to run again after the others goes to the back of the FIFO).
    #[inline]
    pub(crate) fn submit(self: &Arc<Self>, task: Task, yielded: bool) {
        let (task, backlog) = match push_local(self, task, yielded) {
            Ok(backlog) => (None, backlog),
            Err(task) => (self.injector.push(task).err(), true),
        };
        if let Some(task) = task {
            log::warn!("playhouse pool: task submitted after shutdown was dropped");
            drop(task);
            return;
        }
        self.after_push(backlog);
    }

    /// [`Shared::submit`] (not yielded) for a task of type `C`: from
    /// outside the pool it goes to the injector as such, so that a backlog
    /// of one type queues as thin pointers (see `blocks.rs`).
    #[inline]
    pub(crate) fn submit_typed<C: Runnable>(self: &Arc<Self>, task: Arc<C>) {
        let backlog = match push_local_as(self, task, false, |t| Task::turn(t)) {
            Ok(backlog) => backlog,
            Err(task) => {
                if let Err(task) = self.injector.push_typed(task) {
                    log::warn!("playhouse pool: task submitted after shutdown was dropped");
                    drop(task);
                    return;
                }
                true
            }
        };
        self.after_push(backlog);
    }

    /// Calls the idle hook, if any, for worker `worker`, which just ran out
    /// of work; on that worker's thread.
    pub(super) fn run_idle_hook(&self, worker: usize) {
        if let Some(hook) = &self.idle_hook {
            (hook.0)(worker);
        }
    }

    /// What every push does next: wake a sleeper if nobody is searching, else
    /// cut a watcher's sleep short if the push left work anyone may take.
    pub(super) fn after_push(&self, backlog: bool) {
        if !self.notify_parked() && backlog {
            self.unpark_watchers();
        }
    }

    /// Wakes one sleeping worker if no worker is searching (idle protocol step
    /// 1). Returns whether it woke one.
    pub(super) fn notify_parked(&self) -> bool {
        match self.idle.worker_to_notify() {
            Some(index) => {
                self.workers[index].parker.unpark();
                true
            }
            None => false,
        }
    }

    /// Idle protocol step 3, for the last searcher to find a task: wakes a
    /// sleeper only if a queue still holds work after that task. A search
    /// that found the one task it was looking for (a request from a thread
    /// into an idle pool) then wakes nobody, where an unconditional wake
    /// would start a second worker searching, only to park again, on the
    /// CPU the first one needs to run the task. Returns whether it woke one.
    pub(super) fn notify_if_work_pending(&self) -> bool {
        // The cheap look first: with nobody to wake, or a searcher left to
        // find what is queued, no queue lock is taken.
        if !self.idle.may_notify() || self.pending() == Pending::Nothing {
            return false;
        }
        self.notify_parked()
    }

    /// The most urgent work any queue held when looked at (idle protocol step
    /// 5). Staged starts count as queued: the caller moves them to the
    /// injector once it is off the sleeper list.
    pub(super) fn pending(&self) -> Pending {
        if !self.staged.is_empty() || !self.injector.is_empty() {
            return Pending::Queued;
        }
        let mut pending = Pending::Nothing;
        for worker in self.workers.iter() {
            match worker.steal.pending() {
                Pending::Queued => return Pending::Queued,
                Pending::NextOnly => pending = Pending::NextOnly,
                Pending::Nothing => {}
            }
        }
        pending
    }

    #[cfg(test)]
    pub(crate) fn sleeping_workers(&self) -> usize {
        self.idle.sleeping_workers()
    }

    pub(super) fn is_shutting_down(&self) -> bool {
        // ORDERING: Acquire, pairs with the Release store in `begin_shutdown`.
        // The flag publishes nothing else; timeliness comes from the locks and
        // tokens named there.
        self.shutdown.load(Ordering::Acquire)
    }

    /// Shutdown step 1: tells every worker to drain and exit. Idempotent.
    pub(crate) fn begin_shutdown(&self) {
        // ORDERING: Release, pairs with the Acquire load in `is_shutting_down`.
        // A worker registering to sleep after `unregister_all` below takes
        // the same lock, so it sees the flag in its re-check; a worker that
        // registered earlier is taken off the list and unparked, and its
        // token's Acquire makes the flag visible after `park`.
        self.shutdown.store(true, Ordering::Release);
        self.idle.unregister_all();
        for worker in self.workers.iter() {
            worker.parker.unpark();
        }
    }

    /// Waits until every worker in `0..started` except `skip` has exited, or
    /// until `deadline`. Returns the indices still running.
    pub(crate) fn wait_exited(
        &self,
        started: usize,
        skip: Option<usize>,
        deadline: Option<Instant>,
    ) -> Vec<usize> {
        let mut exits = self.exits.lock();
        loop {
            let running: Vec<usize> = (0..started)
                .filter(|&i| Some(i) != skip && !exits[i])
                .collect();
            if running.is_empty() {
                return running;
            }
            exits = match deadline {
                None => self.exited.wait(exits),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return running;
                    }
                    self.exited.wait_timeout(exits, deadline - now)
                }
            };
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers.len())
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}
