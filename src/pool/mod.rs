//! A work-stealing thread pool of hand-rolled worker threads.
//!
//! The pieces, one per file: `worker.rs` (run loop, shutdown, current-worker
//! thread-local), `shared.rs` (what all workers share: submission, wake-ups,
//! the shutdown flag), `staged.rs` (starts from outside the pool, batched),
//! `watch.rs` (watching a stuck owner's run-next slot), `counters.rs`
//! (per-worker counters), `queue.rs` (local queues and the injector),
//! `idle.rs` (searching and sleeping workers, the no-lost-wake-up argument),
//! `park.rs` (the per-worker parker), `sim.rs` (the thread-less pool of a
//! simulation, run step by step). The idle protocol (searching, sleeping,
//! waking, and why no wake-up is lost) is argued at length in
//! `src/pool/README.md`. This file holds the public face:
//! [`ThreadPool`], [`PoolBuilder`], [`PoolMetrics`], and the crate-internal
//! [`PoolHandle`] the actor runtime schedules through.

mod blocks;
mod counters;
mod idle;
pub(crate) mod park;
pub(crate) mod queue;
mod shared;
#[cfg(not(loom))]
pub(crate) mod sim;
mod staged;
mod watch;
mod worker;

#[cfg(all(test, not(loom)))]
mod tests;

use self::shared::Shared;
use crate::error::BuildError;
use crate::sync::{Arc, Mutex, num_cpus, thread};
use std::fmt;
use std::time::{Duration, Instant};

/// A unit of work the pool can run repeatedly: an actor's turn.
///
/// `run` is called by one worker at a time. A task that has more to do
/// returns itself, and the worker queues it behind the tasks queued meanwhile;
/// a task woken from elsewhere is submitted through [`PoolHandle::schedule`].
pub(crate) trait Runnable: Send + Sync + 'static {
    /// Runs on the worker with index `worker` (passed in, so the task need not
    /// look its worker up in a thread-local). Returns the task to run again
    /// after the others, if it wants to: the worker moves the reference back
    /// into its queue instead of a clone going in and this one being dropped.
    fn run(self: Arc<Self>, worker: usize) -> Option<Arc<dyn Runnable>>;

    /// The pool is being given up on with this task still queued (a shutdown
    /// that ran out of time): an actor closes its user lane, so that blocked
    /// senders are released and queued messages become dead letters, even if
    /// it never runs again. Nothing for other tasks.
    fn abandon(&self) {}

    /// [`Runnable::run`] for a simulation, with `draw` (a random number) to
    /// vary the run: an actor's turn takes at most `1 + draw % throughput`
    /// messages. Never called by the threaded pool.
    #[cfg(not(loom))]
    fn run_drawn(self: Arc<Self>, worker: usize, draw: u64) -> Option<Arc<dyn Runnable>> {
        let _ = draw;
        self.run(worker)
    }

    /// The actor this task is a turn of (id and name), for a simulation's
    /// trace; `None` for other tasks. Never called by the threaded pool.
    #[cfg(not(loom))]
    fn label(&self) -> Option<(u64, Option<String>)> {
        None
    }
}

/// One submission to the pool: a closure run once, or an actor's turn.
///
/// A single fat pointer (16 bytes), so that it moves between the queues and
/// the run loop in two registers; a larger task (an enum with a closure
/// variant is 24 bytes) is copied through the stack in pieces whose reloads
/// the store buffer cannot forward.
#[cfg_attr(not(loom), allow(unreachable_pub))]
#[cfg_attr(loom, allow(private_interfaces))]
pub struct Task(Arc<dyn Runnable>);

/// A closure from [`ThreadPool::execute`], as a task, run once. The mutex
/// only makes the closure shareable (`Runnable` is `Sync`); the one task
/// holding it is the only one to lock it.
struct Job(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Runnable for Job {
    fn run(self: Arc<Self>, _worker: usize) -> Option<Arc<dyn Runnable>> {
        let job = self.0.lock().take();
        if let Some(job) = job {
            job();
        }
        None
    }
}

#[cfg_attr(not(loom), allow(unreachable_pub))]
impl Task {
    /// A task that runs `job` once.
    pub fn job(job: impl FnOnce() + Send + 'static) -> Self {
        Task(Arc::new(Job(Mutex::new(Some(Box::new(job))))))
    }

    /// An actor's turn (or any task that may run again).
    pub(crate) fn turn(turn: Arc<dyn Runnable>) -> Self {
        Task(turn)
    }

    /// What [`Runnable::label`] says of the task.
    #[cfg(not(loom))]
    fn label(&self) -> Option<(u64, Option<String>)> {
        self.0.label()
    }

    /// [`Runnable::run_drawn`] on the task.
    #[cfg(not(loom))]
    fn run_drawn(self, worker: usize, draw: u64) -> Option<Task> {
        self.0.run_drawn(worker, draw).map(Task)
    }

    /// Another reference to the same task, to look at it outside the queues.
    fn share(&self) -> Task {
        Task(self.0.clone())
    }

    /// Runs the task on worker 0 (for the loom models, which run tasks
    /// outside any pool).
    #[cfg(loom)]
    pub fn run(self) {
        let again = self.run_on(0);
        debug_assert!(again.is_none(), "the loom models run only jobs");
    }

    /// Runs the task on worker `worker` (panics propagate; the worker catches
    /// them). Returns the task if it wants to run again after the others.
    #[inline]
    pub(crate) fn run_on(self, worker: usize) -> Option<Task> {
        self.0.run(worker).map(Task)
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Task(..)")
    }
}

/// A cheap, cloneable handle that schedules tasks onto a pool.
#[derive(Clone)]
pub(crate) struct PoolHandle {
    shared: Arc<Shared>,
}

impl PoolHandle {
    /// Whether the calling thread is one of this pool's workers.
    pub(crate) fn is_own_worker(&self) -> bool {
        worker::current_index(&self.shared).is_some()
    }

    /// Queues `task`: in the current worker's run-next slot when the caller is
    /// a worker of this pool (the task it displaces goes to the back of the
    /// local queue), else on the global injector, waking a sleeping worker if
    /// needed. Never blocks, never loses the task.
    ///
    /// Typed rather than `dyn`: behind a backlog in the injector, tasks of
    /// one type queue in half the room (thin pointers, see `blocks.rs`).
    #[inline]
    pub(crate) fn submit<C: Runnable>(&self, task: Arc<C>) {
        self.shared.submit_typed(task);
    }

    /// Queues `task` as [`PoolHandle::submit`] does on one of this pool's
    /// workers; from any other thread, staged with other tasks submitted so,
    /// and handed to the injector as one batch (see `staged.rs`). For a
    /// thread submitting many new tasks, such as an actor's first turns.
    #[inline]
    pub(crate) fn submit_batched(&self, task: Arc<dyn Runnable>) {
        self.shared.submit_start(Task::turn(task));
    }
}

impl fmt::Debug for PoolHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolHandle")
            .field("shared", &self.shared)
            .finish()
    }
}

/// Counters of a pool, summed over its workers.
///
/// # Examples
///
/// ```
/// use playhouse::ThreadPool;
/// use std::sync::mpsc;
///
/// let pool = ThreadPool::builder().threads(2).build()?;
/// let (tx, rx) = mpsc::channel();
/// for _ in 0..4 {
///     let tx = tx.clone();
///     pool.execute(move || tx.send(()).unwrap());
/// }
/// rx.iter().take(4).for_each(drop);
/// // A task counts once it has returned: wait for the last few to be counted.
/// while pool.metrics().tasks_run < 4 {
///     std::thread::yield_now();
/// }
/// assert_eq!(pool.metrics().tasks_run, 4);
/// pool.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::ThreadPool;
/// use std::sync::mpsc;
///
/// let pool = ThreadPool::builder()
///     .threads(2)
///     .thread_name_prefix("io")
///     .stack_size(256 * 1024)
///     .build()?;
/// let (tx, rx) = mpsc::channel();
/// pool.execute(move || tx.send(std::thread::current().name().map(String::from)).unwrap());
/// assert!(rx.recv()?.unwrap().starts_with("io-"));
/// pool.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    threads: Option<usize>,
    name_prefix: String,
    stack_size: Option<usize>,
    idle_hook: Option<shared::IdleHook>,
}

impl PoolBuilder {
    /// The number of worker threads (default: one per CPU).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().threads(3).build()?;
    /// assert_eq!(pool.threads(), 3);
    /// assert!(ThreadPool::builder().threads(0).build().is_err());
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }
    /// Worker threads are named `{prefix}-{index}` (default `playhouse-worker`).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPool::builder().threads(1).thread_name_prefix("render").build()?;
    /// let (tx, rx) = mpsc::channel();
    /// pool.execute(move || tx.send(std::thread::current().name().map(String::from)).unwrap());
    /// assert_eq!(rx.recv()?.as_deref(), Some("render-0"));
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }
    /// The stack size of each worker thread, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().threads(1).stack_size(4 << 20).build()?;
    /// pool.shutdown();
    /// let err = ThreadPool::builder().stack_size(0).build().unwrap_err();
    /// assert_eq!(err.setting(), Some("stack size"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }
    /// Calls `hook` with a worker's index on that worker's thread whenever
    /// it runs out of work (before it searches, sleeps, watches or retires),
    /// so the layer above can settle what it keeps per worker.
    pub(crate) fn on_idle(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.idle_hook = Some(shared::IdleHook(Arc::new(hook)));
        self
    }
    /// Starts the workers.
    ///
    /// # Errors
    /// Zero threads or a zero stack size; a thread the OS refused to start.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().threads(2).build()?;
    /// assert_eq!(pool.threads(), 2);
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        let threads = self.threads.unwrap_or_else(num_cpus);
        if threads == 0 {
            return Err(BuildError::zero("workers"));
        }
        if self.stack_size == Some(0) {
            return Err(BuildError::zero("stack size"));
        }
        let names = (0..threads)
            .map(|i| format!("{}-{i}", self.name_prefix))
            .collect();
        let (locals, steals): (Vec<_>, Vec<_>) = (0..threads).map(|_| queue::local()).unzip();
        let pool = ThreadPool {
            shared: Arc::new(Shared::new(names, steals, self.idle_hook)),
            slots: Mutex::new(Slots {
                handles: Vec::with_capacity(threads),
                terminated: false,
            }),
        };
        for (index, local) in locals.into_iter().enumerate() {
            match worker::spawn(&pool.shared, index, local, self.stack_size) {
                Ok(handle) => pool.slots.lock().handles.push(Some(handle)),
                Err(err) => {
                    // Stop and join the workers already started; `Drop` then
                    // has nothing left to do.
                    let stopped = pool.terminate_until(None);
                    debug_assert!(stopped.is_ok(), "waiting without deadline");
                    return Err(BuildError::thread(err));
                }
            }
        }
        Ok(pool)
    }
}

impl PoolBuilder {
    /// A simulated pool (see [`sim`]): one worker slot and no thread; the
    /// returned runner runs its tasks on the caller's thread.
    #[cfg(not(loom))]
    pub(crate) fn build_simulated(self) -> (ThreadPool, sim::SimRunner) {
        let (local, steal) = queue::local();
        let pool = ThreadPool {
            shared: Arc::new(Shared::new(
                vec![format!("{}-0", self.name_prefix)],
                vec![steal],
                self.idle_hook,
            )),
            slots: Mutex::new(Slots {
                handles: Vec::new(),
                terminated: false,
            }),
        };
        (pool, sim::SimRunner::new(local))
    }
}

/// A work-stealing thread pool.
///
/// Each worker has a local run queue; jobs submitted from outside the pool go
/// to a global queue, jobs submitted by a job go to its worker's local queue,
/// and a worker that runs dry steals half of another's queue. Idle workers
/// park without a timeout, so an idle pool uses no CPU.
///
/// Dropping the pool does what [`ThreadPool::shutdown`] does.
///
/// # Examples
///
/// ```
/// use playhouse::ThreadPool;
/// use std::sync::mpsc;
///
/// let pool = ThreadPool::builder().threads(2).build()?;
/// let (tx, rx) = mpsc::channel();
/// for i in 0..8u64 {
///     let tx = tx.clone();
///     pool.execute(move || tx.send(i * i).unwrap());
/// }
/// drop(tx);
/// pool.shutdown(); // runs every queued job, then joins the workers
/// assert_eq!(rx.iter().sum::<u64>(), 140);
/// # Ok::<(), playhouse::BuildError>(())
/// ```
pub struct ThreadPool {
    shared: Arc<Shared>,
    slots: Mutex<Slots>,
}

/// The join handles of the workers, and whether the pool was terminated.
struct Slots {
    /// One entry per started worker; `None` once joined or detached.
    handles: Vec<Option<thread::JoinHandle<()>>>,
    terminated: bool,
}

impl ThreadPool {
    /// A builder with the defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().build()?; // one worker per CPU
    /// assert!(pool.threads() >= 1);
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder {
            threads: None,
            name_prefix: "playhouse-worker".into(),
            stack_size: None,
            idle_hook: None,
        }
    }
    /// Runs `job` on some worker. A panicking job is caught and logged.
    ///
    /// Called from a job running on this pool, it queues `job` on that
    /// worker's local queue; otherwise on the global queue. A job submitted
    /// after the pool has shut down is logged and dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPool::builder().threads(2).build()?;
    /// let (tx, rx) = mpsc::channel();
    /// for chunk in [1..=50u64, 51..=100] {
    ///     let tx = tx.clone();
    ///     pool.execute(move || tx.send(chunk.sum::<u64>()).unwrap());
    /// }
    /// drop(tx);
    /// assert_eq!(rx.iter().sum::<u64>(), 5050);
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute<F: FnOnce() + Send + 'static>(&self, job: F) {
        self.shared.submit(Task::job(job), false);
    }
    /// The number of worker threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().threads(2).build()?;
    /// assert_eq!(pool.threads(), 2);
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn threads(&self) -> usize {
        self.shared.workers.len()
    }
    /// Counters summed over all workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPool::builder().threads(1).build()?;
    /// let (tx, rx) = mpsc::channel();
    /// pool.execute(move || tx.send(()).unwrap());
    /// rx.recv()?;
    /// while pool.metrics().tasks_run < 1 {
    ///     std::thread::yield_now(); // counted once the job has returned
    /// }
    /// assert_eq!(pool.metrics().tasks_run, 1);
    /// pool.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> PoolMetrics {
        self.shared.metrics()
    }
    /// Runs every queued job, then stops and joins every worker.
    ///
    /// Called from one of the pool's own jobs, it waits for the other workers
    /// only; the calling worker exits once its job returns and its queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ThreadPool;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = ThreadPool::builder().threads(2).build()?;
    /// let done = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..100 {
    ///     let done = Arc::clone(&done);
    ///     pool.execute(move || { done.fetch_add(1, Ordering::Relaxed); });
    /// }
    /// pool.shutdown(); // every queued job runs first
    /// assert_eq!(done.load(Ordering::Relaxed), 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(self) {
        let stopped = self.terminate_until(None);
        debug_assert!(stopped.is_ok(), "waiting without deadline");
    }

    /// Workers on the sleeper list (parked or about to park).
    #[cfg(test)]
    pub(crate) fn sleeping_workers(&self) -> usize {
        self.shared.sleeping_workers()
    }

    /// Runs `job` as the pool runs an actor's first turn: staged when
    /// submitted from outside the pool (`Shared::submit_start`). For the
    /// tests and the loom models of the staged starts.
    #[cfg(any(test, loom))]
    pub(crate) fn execute_as_start(&self, job: impl FnOnce() + Send + 'static) {
        self.shared.submit_start(Task::job(job));
    }

    /// The thread name of worker `index`.
    pub(crate) fn worker_name(&self, index: usize) -> String {
        self.shared.workers[index].name.clone()
    }

    pub(crate) fn handle(&self) -> PoolHandle {
        PoolHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Calls [`Runnable::abandon`] on every task queued now (the staged
    /// starts, the injector, every worker's queue and run-next slot),
    /// outside the queues' locks.
    pub(crate) fn abandon_queued(&self) {
        let mut queued = Vec::new();
        // In the direction tasks move (staged starts to the injector, the
        // injector to the workers' queues), so a task moving meanwhile is
        // seen twice rather than missed; abandoning twice drops nothing more.
        self.shared.staged.share_queued(&mut queued);
        self.shared.injector.share_queued(&mut queued);
        for worker in self.shared.workers.iter() {
            worker.steal.share_queued(&mut queued);
        }
        for task in &queued {
            task.0.abandon();
        }
    }

    /// Signals the workers to exit once no work is left, and joins them until
    /// `timeout`. Returns the names of the workers that had not exited (they are
    /// detached). Idempotent.
    pub(crate) fn terminate(&self, timeout: Duration) -> Result<(), Vec<String>> {
        self.terminate_until(Instant::now().checked_add(timeout))
    }

    /// [`ThreadPool::terminate`] with an optional deadline (`None`: wait for
    /// ever). A worker calling it on its own pool skips itself.
    fn terminate_until(&self, deadline: Option<Instant>) -> Result<(), Vec<String>> {
        let me = worker::current_index(&self.shared);
        self.shared.begin_shutdown();
        let started = self.slots.lock().handles.len();
        let running = self.shared.wait_exited(started, me, deadline);

        let mut slots = self.slots.lock();
        for (index, slot) in slots.handles.iter_mut().enumerate() {
            if Some(index) == me {
                continue;
            }
            let Some(handle) = slot.take() else { continue };
            if running.contains(&index) {
                drop(handle); // detach: Rust cannot stop a thread
            } else if handle.join().is_err() {
                log::error!(
                    "playhouse pool: worker {} panicked outside a task",
                    self.shared.workers[index].name
                );
            }
        }
        slots.terminated = true;
        if running.is_empty() {
            Ok(())
        } else {
            Err(running
                .into_iter()
                .map(|i| self.shared.workers[i].name.clone())
                .collect())
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        let terminated = self.slots.lock().terminated;
        if !terminated {
            let stopped = self.terminate_until(None);
            debug_assert!(stopped.is_ok(), "waiting without deadline");
        }
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

/// Whether the calling thread is a worker of any playhouse pool.
pub(crate) fn on_worker_thread() -> bool {
    worker::on_worker_thread()
}

/// The name of the calling worker thread, if it is one.
#[cfg(test)]
pub(crate) fn current_worker_name() -> Option<String> {
    worker::current_worker_name()
}
