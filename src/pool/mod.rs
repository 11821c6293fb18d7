//! A work-stealing thread pool of hand-rolled worker threads.
//!
//! INTERFACE STUB: the bodies are being written; the signatures below are the
//! contract the actor runtime builds on.

use crate::error::BuildError;
use crate::sync::Arc;
use std::fmt;
use std::time::Duration;

/// A unit of work the pool can run repeatedly: an actor's turn.
///
/// `run` is called by one worker at a time; the task re-submits itself through
/// [`PoolHandle::schedule`] when it has more to do.
pub(crate) trait Runnable: Send + Sync + 'static {
    fn run(self: Arc<Self>);
}

/// A cheap, cloneable handle that schedules tasks onto a pool.
#[derive(Clone)]
pub(crate) struct PoolHandle {
    _private: (),
}

impl PoolHandle {
    /// Queues `task`: on the current worker's local queue (at the back) when the
    /// caller is a worker of this pool, else on the global injector, waking a
    /// sleeping worker if needed. Never blocks, never loses the task.
    pub(crate) fn schedule(&self, task: Arc<dyn Runnable>) {
        let _ = task;
        todo!()
    }
}

/// Counters of a pool, summed over its workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Tasks (jobs and actor turns) run to completion or to a caught panic.
    pub tasks_run: u64,
    /// Tasks taken from another worker's local queue.
    pub steals: u64,
    /// Times a worker went to sleep because it found no work.
    pub parks: u64,
}

/// Builds a [`ThreadPool`].
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    threads: Option<usize>,
    name_prefix: String,
    stack_size: Option<usize>,
}

impl PoolBuilder {
    /// The number of worker threads (default: one per CPU).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }
    /// Worker threads are named `{prefix}-{index}` (default `playhouse-worker`).
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }
    /// The stack size of each worker thread, in bytes.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }
    /// Starts the workers.
    ///
    /// # Errors
    /// Zero threads or a zero stack size; a thread the OS refused to start.
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        todo!()
    }
}

/// A work-stealing thread pool.
pub struct ThreadPool {
    _private: (),
}

impl ThreadPool {
    /// A builder with the defaults.
    pub fn builder() -> PoolBuilder {
        PoolBuilder {
            threads: None,
            name_prefix: "playhouse-worker".into(),
            stack_size: None,
        }
    }
    /// Runs `job` on some worker. A panicking job is caught and logged.
    pub fn execute<F: FnOnce() + Send + 'static>(&self, job: F) {
        let _ = job;
        todo!()
    }
    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        todo!()
    }
    /// Counters summed over all workers.
    pub fn metrics(&self) -> PoolMetrics {
        todo!()
    }
    /// Runs every queued job, then stops and joins every worker.
    pub fn shutdown(self) {}

    /// The thread name of worker `index`.
    pub(crate) fn worker_name(&self, index: usize) -> String {
        let _ = index;
        todo!()
    }

    pub(crate) fn handle(&self) -> PoolHandle {
        todo!()
    }
    /// Signals the workers to exit once no work is left, and joins them until
    /// `timeout`. Returns the names of the workers that had not exited (they are
    /// detached). Idempotent.
    pub(crate) fn terminate(&self, timeout: Duration) -> Result<(), Vec<String>> {
        let _ = timeout;
        todo!()
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadPool { .. }")
    }
}

/// Whether the calling thread is a worker of any playhouse pool.
pub(crate) fn on_worker_thread() -> bool {
    todo!()
}

/// The index of the calling worker thread within its pool, if it is one.
pub(crate) fn current_worker_index() -> Option<usize> {
    todo!()
}

/// The name of the calling worker thread, if it is one.
pub(crate) fn current_worker_name() -> Option<String> {
    todo!()
}
