//! The worker threads: the state they share, their run loop, and the current-worker thread-local.
//!
//! # Invariants
//!
//! - Worker `i` owns the `Local` side of queue `i`; `Shared::workers[i]` holds
//!   its `Steal` side, its `Parker` and its counters.
//! - The thread-local [`CURRENT`] is set only on a worker thread, for the
//!   duration of its run loop, so "am I a worker of this pool?" is a pointer
//!   comparison of the `Arc<Shared>`.
//! - Once a worker has seen the shutdown flag it never parks again.
//! - `exits[i]` becomes true exactly once, as worker `i`'s last action.
//!
//! # Protocol
//!
//! The run loop of one worker, in order of preference:
//!
//! 1. Every [`GLOBAL_QUEUE_INTERVAL`] ticks, one task from the injector first,
//!    so outside submissions are not starved by a worker feeding itself.
//! 2. Its own run-next slot, then its FIFO (oldest first); after
//!    [`MAX_NEXT_STREAK`] run-next tasks in a row, the FIFO first.
//! 3. A fair share of the injector: nobody else can run outside submissions,
//!    while a victim's queue still has its owner working through it.
//! 4. About half of another worker's FIFO, trying victims from a random start;
//!    or a victim's run-next task, if the victim's tick has not moved since
//!    this worker began its last watch (the owner is stuck in one task).
//! 5. Nothing found: during shutdown, retire (below). Otherwise search and then
//!    sleep as described in [`super::idle`]; but if the only work left is in
//!    run-next slots, watch instead of sleeping (see `Worker::watch`).
//!
//! Staged starts: the first turn of an actor spawned by a thread outside the
//! pool is not pushed to the injector at once but staged
//! ([`Shared::submit_start`], [`Staged`]), and the staging area reaches the
//! injector as one batch:
//!
//! - by the spawner whose start fills it ([`Staged::BATCH`] starts): one
//!   injector push and one wake-up check for the batch, where each start used
//!   to pay both (the start's hand-off was the largest single cost of a
//!   thread spawning many actors: see the spawn workload in the README);
//! - by a worker, in every look that decides to sleep (idle protocol step
//!   5), after a wake-up, after a watch, before retiring, and with step 1's
//!   periodic look at the injector, so a pool whose workers never run out of
//!   work still gets to them.
//!
//! A move holds the injector's lock and then the staging lock
//! ([`Injector::take_staged`]), so a start is always in one of the two;
//! every retiring worker moves what is staged, and the last one closes the
//! staging area in the same critical section ([`Injector::retire`]).
//!
//! Only the start staged into an empty area is announced like a push
//! (`after_push`): it makes some worker due to look, and that look takes
//! every start staged by then; a start staged after the look finds the area
//! empty and is announced in turn. Moving staged starts to the injector is
//! itself announced like a push: the mover takes only its share, and one
//! that moves them in its last look before sleeping is not searching, so
//! finding work wakes nobody else (`src/pool/tests.rs`,
//! `staged_starts_moved_to_the_injector_are_announced_to_the_sleepers`,
//! fails without it). The look before sleeping takes the staging lock, so
//! the no-lost-wake-up argument of [`super::idle`] covers staged starts as
//! it covers the queues. Messages told to such an actor wait in its
//! mailbox: its run token is out (queued and running are one state), so
//! their sends submit nothing. Modelled in `loom-tests/pool_park.rs`
//! (`staged_start_*`, `a_start_staged_*`, `a_full_batch_*`).
//!
//! A task submitted by a worker goes into its run-next slot: the actor a
//! handler just sent to runs next on the same core, with its message still in
//! cache, and no other worker is woken to steal it (which would bounce the
//! pair between cores). The push still wakes a sleeper when nobody is
//! searching, as every push does, so a worker blocked inside a task cannot
//! strand its run-next task: the woken worker watches until it sees the owner
//! stuck, then takes the task.
//!
//! Shutdown, started by `ThreadPool::terminate`:
//!
//! 1. Store the shutdown flag; take every worker off the sleeper list; unpark
//!    every worker.
//! 2. Each worker keeps running tasks until steps 1-4 above find nothing, then
//!    asks the injector to retire it. The injector hands it a task if one
//!    arrived meanwhile; otherwise it counts the worker out, and the last one
//!    out closes it in the same critical section, so a task is either run or
//!    refused (and logged by the submitter), never stranded.
//! 3. The worker sets `exits[i]` and notifies `exited`; `terminate` waits on it
//!    (until its deadline) and joins the workers that exited.
//!
//! # Memory ordering
//!
//! Tasks travel through the queue locks. The shutdown flag is a Release store
//! and Acquire loads; what makes a worker see it before parking is the
//! sleeper-list lock (or its parker token), see `begin_shutdown`. The counters
//! are `Relaxed`: see [`Counters`].

use super::idle::Idle;
use super::park::Parker;
use super::queue::{From, Injector, Local, Pending, Retire, Stage, Staged, Steal};
use super::{PoolMetrics, Task};
use crate::sync::{
    Arc, AtomicBool, AtomicU64, AtomicUsize, Backoff, CachePadded, Condvar, Mutex, Ordering,
    random_seed, thread,
};
use std::cell::Cell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::time::{Duration, Instant};

/// A worker takes one task from the injector before its local queue every
/// this many ticks (one tick per look for a task). Prime, as in tokio, so it
/// does not resonate with periodic workloads.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// A worker takes at most this many tasks in a row from its run-next slot
/// before it looks at the front of its FIFO, so two actors passing messages
/// back and forth through the slot cannot starve the rest of the queue.
const MAX_NEXT_STREAK: u32 = 16;

/// How long a watching worker (see the module docs) first sleeps between
/// looks, and the longest it sleeps once the owners keep making progress.
const WATCH_MIN: Duration = Duration::from_micros(20);
const WATCH_MAX: Duration = Duration::from_micros(500);

/// How many watches in a row a worker keeps up after it last saw a run-next
/// task, before it sleeps until woken. Between two messages of a ping-pong
/// the slot is empty half of the time; a worker that slept then would be
/// woken by the very next push, a futex call on the sender's path per message.
const WATCH_QUIET_LOOKS: u32 = 4;

crate::sync::thread_local! {
    /// The worker running on this thread, if it is a pool worker: set and
    /// cleared by `Worker::main`, null elsewhere. A plain pointer rather than
    /// a `RefCell` holding an `Rc`: a task moved into a closure over such a
    /// cell was copied through the stack twice on every submit, and
    /// `perf annotate` put a third of `Shared::submit`'s samples on those
    /// copies (16-byte loads of a fat pointer just written in two halves,
    /// which the store buffer cannot forward).
    static CURRENT: Cell<*const Worker> = Cell::new(ptr::null());
}

/// What all workers of one pool (and its handles) share.
pub(crate) struct Shared {
    pub(crate) injector: Injector,
    /// Starts of actors spawned outside the pool, on their way to the
    /// injector in batches (module docs, "Staged starts").
    pub(crate) staged: Staged,
    idle: Idle,
    pub(crate) workers: Box<[Remote]>,
    shutdown: AtomicBool,
    /// `exits[i]`: worker `i` has left its run loop.
    exits: Mutex<Vec<bool>>,
    exited: Condvar,
    /// Gives back units a worker holds (see `Counters::held`).
    release: Option<Release>,
}

/// The pool's hook for units its workers hold for the system it runs (the
/// in-flight count behind `System::await_quiescent`).
#[derive(Clone)]
pub(crate) struct Release(pub(crate) Arc<dyn Fn(usize) + Send + Sync>);

impl fmt::Debug for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Release { .. }")
    }
}

/// The part of a worker that other threads use.
pub(crate) struct Remote {
    pub(crate) steal: Steal,
    parker: Parker,
    counters: CachePadded<Counters>,
    /// The worker is watching: sleeping for a short while because the only
    /// work it saw was other workers' run-next tasks (see the module docs).
    watching: AtomicBool,
    pub(crate) name: String,
}

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
struct Counters {
    tasks_run: AtomicU64,
    steals: AtomicU64,
    parks: AtomicU64,
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
    /// Shared state for workers named `names`, with the steal sides of their
    /// queues, and `release` to give back what a worker holds when it runs
    /// out of work.
    pub(crate) fn new(names: Vec<String>, steals: Vec<Steal>, release: Option<Release>) -> Self {
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
            release,
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

    /// Queues the first turn of an actor just spawned: like [`Shared::submit`]
    /// on one of this pool's workers; from any other thread, staged, so that
    /// a thread spawning many actors hands them to the workers
    /// [`Staged::BATCH`] at a time (module docs, "Staged starts").
    pub(crate) fn submit_start(self: &Arc<Self>, task: Task) {
        let task = match push_local(self, task, false) {
            Ok(backlog) => return self.after_push(backlog),
            Err(task) => task,
        };
        match self.staged.push(task) {
            Stage::First => self.after_push(true),
            Stage::Behind => {}
            Stage::Full => {
                // None moved: a worker took them first, and announces them.
                if self.injector.take_staged(&self.staged, true) > 0 {
                    self.after_push(true);
                }
            }
            Stage::Refused(task) => {
                log::warn!("playhouse pool: a start submitted after shutdown was dropped");
                drop(task);
            }
        }
    }

    /// Moves every staged start to the injector, then does what a push does
    /// next ([`Shared::after_push`]): only the first start staged was
    /// announced, and the others may need another worker. `locked_look` as
    /// in [`Injector::take_staged`]. Returns whether it moved any.
    ///
    /// Never called by a worker on the sleeper list, whom the wake-up could
    /// pick.
    fn flush_staged(&self, locked_look: bool) -> bool {
        if self.injector.take_staged(&self.staged, locked_look) == 0 {
            return false;
        }
        self.after_push(true);
        true
    }

    /// What every push does next: wake a sleeper if nobody is searching, else
    /// cut a watcher's sleep short if the push left work anyone may take.
    fn after_push(&self, backlog: bool) {
        if !self.notify_parked() && backlog {
            self.unpark_watchers();
        }
    }

    /// Wakes one sleeping worker if no worker is searching (idle protocol step
    /// 1). Returns whether it woke one.
    fn notify_parked(&self) -> bool {
        match self.idle.worker_to_notify() {
            Some(index) => {
                self.workers[index].parker.unpark();
                true
            }
            None => false,
        }
    }

    /// Cuts short the sleep of every watching worker, so that a task anyone
    /// may take does not wait for the end of a watch.
    fn unpark_watchers(&self) {
        for worker in self.workers.iter() {
            // ORDERING: Relaxed. Our push was a critical section on a queue
            // lock that a watcher takes after setting its flag (see `watch`):
            // either its look sees the task, or its flag store happens before
            // this load.
            if worker.watching.load(Ordering::Relaxed) {
                worker.parker.unpark();
            }
        }
    }

    /// The most urgent work any queue held when looked at (idle protocol step
    /// 5). Staged starts count as queued: the caller moves them to the
    /// injector once it is off the sleeper list.
    fn pending(&self) -> Pending {
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

    fn is_shutting_down(&self) -> bool {
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
    fn release_held(&self, worker: usize) {
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
    fn tick(&self) -> u64 {
        // ORDERING: Relaxed, see `Counters`.
        self.counters.tasks_run.load(Ordering::Relaxed)
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

/// Starts worker `index` of `shared` on a thread of its own.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    index: usize,
    local: Local,
    stack_size: Option<usize>,
) -> std::io::Result<thread::JoinHandle<()>> {
    let mut builder = thread::Builder::new().name(shared.workers[index].name.clone());
    if let Some(bytes) = stack_size {
        builder = builder.stack_size(bytes);
    }
    let worker = Worker {
        shared: Arc::clone(shared),
        index,
        local,
    };
    builder.spawn(move || worker.main())
}

/// Pushes `task` on the caller's local queue if it is a worker of `shared`'s
/// pool (into the run-next slot unless `yielded`) and returns whether the
/// queue has a backlog other workers could take; gives the task back otherwise.
///
/// Not through [`with_current`]: the task moved into its closure was copied
/// through the stack in pieces (see [`CURRENT`]), which cost measurably here.
#[inline]
fn push_local(shared: &Arc<Shared>, task: Task, yielded: bool) -> Result<bool, Task> {
    let worker = CURRENT.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: as in `with_current`; the reference lives only in this call.
    #[allow(unsafe_code)]
    let Some(worker) = (unsafe { worker.as_ref() }) else {
        return Err(task);
    };
    if !Arc::ptr_eq(&worker.shared, shared) {
        return Err(task);
    }
    if yielded {
        worker.local.push(task);
        Ok(true)
    } else {
        Ok(worker.local.push_next(task))
    }
}

/// The index of the calling thread in `shared`'s pool, if it is one of its workers.
pub(crate) fn current_index(shared: &Arc<Shared>) -> Option<usize> {
    with_current(|w| {
        w.filter(|w| Arc::ptr_eq(&w.shared, shared))
            .map(|w| w.index)
    })
}

/// Whether the calling thread is a worker of any pool.
pub(crate) fn on_worker_thread() -> bool {
    with_current(|w| w.is_some())
}

/// The name of the calling worker thread, if it is one.
#[cfg(test)]
pub(crate) fn current_worker_name() -> Option<String> {
    with_current(|w| w.map(|w| w.shared.workers[w.index].name.clone()))
}

/// Calls `f` with the worker running on this thread (`None` on other threads,
/// and while thread-locals are being destroyed).
#[inline]
fn with_current<R>(f: impl FnOnce(Option<&Worker>) -> R) -> R {
    let worker = CURRENT.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: a non-null pointer was set by `Worker::main` on this thread to
    // the worker its frame owns, and `ClearCurrent` nulls it before that
    // frame drops the worker (on unwind too); we run on this thread, so inside that
    // frame (tasks are called from its run loop), and the reference does
    // not outlive `f`. The worker is only ever shared (`&self` methods).
    #[allow(unsafe_code)]
    let worker = unsafe { worker.as_ref() };
    f(worker)
}

/// One worker: the owner of a local queue, living on its own thread.
struct Worker {
    shared: Arc<Shared>,
    index: usize,
    local: Local,
}

/// Shutdown step 3, on the way out of [`Worker::main`]: a drop guard, so that
/// even a panic in the run loop itself (a pool bug: tasks' panics are caught)
/// is reported by `terminate` (the join fails) instead of hanging it.
struct ExitGuard {
    shared: Arc<Shared>,
    index: usize,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.shared.exits.lock()[self.index] = true;
        self.shared.exited.notify_all();
    }
}

/// Nulls [`CURRENT`] when the run loop's frame ends, however it ends,
/// before the worker it points to is dropped.
struct ClearCurrent;

impl Drop for ClearCurrent {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|p| p.set(ptr::null()));
    }
}

/// The state of one worker's run loop that no other thread sees.
struct LoopState {
    searching: bool,
    tick: u32,
    rng: XorShift,
    backoff: Backoff,
    /// Tasks taken from the run-next slot in a row.
    next_streak: u32,
    /// Each worker's tick when this one last started a watch (`u64::MAX`:
    /// not watched since it last found work).
    seen: Vec<u64>,
    /// How long the next watch sleeps.
    watch_for: Duration,
    /// Watches in a row that saw no run-next task.
    quiet_looks: u32,
    /// Tasks on their way from the injector or a victim into the local
    /// queue: always empty between looks, kept for its capacity.
    batch: Vec<Task>,
}

impl Worker {
    /// The body of the worker thread.
    fn main(self) {
        let _exit = ExitGuard {
            shared: Arc::clone(&self.shared),
            index: self.index,
        };
        // On the heap, as it was behind an `Rc` before: kept in this frame,
        // the ring ran 1-13% slower in four alternating pairs (cause not
        // found; same instruction count).
        let worker = Box::new(self);
        CURRENT.with(|p| p.set(&raw const *worker));
        // Declared after `worker`, so dropped before it, on unwind too.
        let _clear = ClearCurrent;
        worker.run();
    }

    /// The run loop; returns once the worker has retired during shutdown.
    fn run(&self) {
        let idle = &self.shared.idle;
        let mut st = LoopState {
            searching: false,
            tick: 0,
            rng: XorShift::new(random_seed()),
            backoff: Backoff::new(),
            next_streak: 0,
            seen: vec![u64::MAX; self.shared.workers.len()],
            watch_for: WATCH_MIN,
            quiet_looks: 0,
            batch: Vec::new(),
        };
        loop {
            let task = match self.next_task(&mut st) {
                Some(task) => task,
                None => {
                    // Out of work: what this worker's turns hold goes back
                    // before it searches, sleeps, watches or retires.
                    self.shared.release_held(self.index);
                    if !self.shared.is_shutting_down() {
                        self.idle(&mut st);
                        continue;
                    }
                    if self.shared.flush_staged(true) {
                        continue;
                    }
                    match self.shared.injector.retire(&self.shared.staged) {
                        Retire::Run(task) => task,
                        Retire::Retired => {
                            if st.searching {
                                let _ = idle.transition_from_searching();
                            }
                            return;
                        }
                    }
                }
            };
            if st.searching {
                st.searching = false;
                if idle.transition_from_searching() {
                    self.shared.notify_parked();
                }
            }
            st.backoff.reset();
            if st.watch_for != WATCH_MIN {
                st.watch_for = WATCH_MIN;
                st.quiet_looks = 0;
                st.seen.fill(u64::MAX);
            }
            self.run_task(task);
        }
    }

    /// One step of having no work: start searching, spin once more, or sleep.
    fn idle(&self, st: &mut LoopState) {
        if !st.searching {
            st.searching = self.shared.idle.transition_to_searching();
        }
        if st.searching && !st.backoff.is_completed() {
            st.backoff.snooze();
            return;
        }
        st.searching = self.sleep(st);
        st.backoff.reset();
    }

    /// Idle protocol steps 4 to 6. Returns whether the worker is searching
    /// when it comes back.
    fn sleep(&self, st: &mut LoopState) -> bool {
        let idle = &self.shared.idle;
        idle.register_sleeper(self.index, st.searching);
        let pending = self.shared.pending();
        if pending == Pending::Queued || self.shared.is_shutting_down() {
            // Taken off by ourselves: active. By a waker: searching.
            let searching = !idle.unregister_sleeper(self.index);
            self.shared.flush_staged(true);
            return searching;
        }
        let watching = st.watch_for > WATCH_MIN;
        if pending == Pending::NextOnly || (watching && st.quiet_looks < WATCH_QUIET_LOOKS) {
            st.quiet_looks = if pending == Pending::NextOnly {
                0
            } else {
                st.quiet_looks + 1
            };
            let searching = !idle.unregister_sleeper(self.index);
            self.watch(st);
            return searching;
        }
        let remote = &self.shared.workers[self.index];
        // ORDERING: Relaxed, see `Counters`.
        remote.counters.parks.fetch_add(1, Ordering::Relaxed);
        loop {
            remote.parker.park();
            if !idle.is_sleeping(self.index) {
                // A waker (or shutdown) took us off and counted us searching.
                // It may have been the first start staged: take what is
                // staged now rather than after a whole search.
                self.shared.flush_staged(false);
                return true;
            }
            // A stale token from a wake-up that raced step 5 earlier.
        }
    }

    /// Watching: the only work in sight is run-next tasks of workers busy
    /// with a task. Their owners will most likely run them in a moment, and
    /// taking them would move an actor away from the core its message is on;
    /// but an owner's task may also block for good (synchronous handlers do
    /// I/O). So instead of sleeping until woken, sleep a short while, then look
    /// again; `steal` takes a run-next task whose owner's tick has not moved
    /// since the watch began. The sleep doubles up to [`WATCH_MAX`] while owners
    /// keep making progress, so a long busy spell costs few wake-ups; and a
    /// watcher keeps watching for [`WATCH_QUIET_LOOKS`] looks after the slots
    /// empty, so an owner passing messages back and forth does not wake it
    /// with each push. Only then does it sleep until woken.
    ///
    /// A watcher is neither searching nor sleeping for the idle protocol, so
    /// pushes to run-next slots do not wake it. Pushes that leave a backlog cut
    /// its sleep short (`Shared::unpark_watchers`); the queue locks make
    /// either the watcher's look see the task or the pusher see its flag.
    fn watch(&self, st: &mut LoopState) {
        let remote = &self.shared.workers[self.index];
        for (seen, worker) in st.seen.iter_mut().zip(self.shared.workers.iter()) {
            *seen = worker.tick();
        }
        // ORDERING: Relaxed. The look below takes the queue locks after this
        // store, which orders it before any push that look misses.
        remote.watching.store(true, Ordering::Relaxed);
        if self.shared.pending() != Pending::Queued && !self.shared.is_shutting_down() {
            remote.parker.park_timeout(st.watch_for);
        }
        // ORDERING: Relaxed; a late-seen clear only costs a spurious unpark.
        remote.watching.store(false, Ordering::Relaxed);
        self.shared.flush_staged(false);
        st.watch_for = (st.watch_for * 2).min(WATCH_MAX);
    }

    /// Finds the next task, in the order of the module's run-loop protocol.
    fn next_task(&self, st: &mut LoopState) -> Option<Task> {
        st.tick = st.tick.wrapping_add(1);
        if st.tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL) {
            // Staged starts too, so a pool whose workers never run out of
            // work still runs them; and another worker may help with them.
            self.shared.flush_staged(false);
            if let Some(task) = self.shared.injector.pop() {
                return Some(task);
            }
        }
        if let Some((task, from)) = self.local.pop(st.next_streak < MAX_NEXT_STREAK) {
            st.next_streak = match from {
                From::Next => st.next_streak + 1,
                From::Queue => 0,
            };
            return Some(task);
        }
        st.next_streak = 0;
        let workers = self.shared.workers.len();
        if let Some((task, count)) =
            self.shared
                .injector
                .pop_batch_into(&self.local, workers, &mut st.batch)
        {
            self.after_taking(count);
            return Some(task);
        }
        self.steal(st)
    }

    /// Takes about half of some other worker's queue, trying victims from a
    /// random start; or the run-next task of a victim whose tick has not moved
    /// since this worker began its last watch.
    fn steal(&self, st: &mut LoopState) -> Option<Task> {
        let workers = &self.shared.workers;
        if workers.len() < 2 {
            return None;
        }
        let start = st.rng.below(workers.len());
        for victim in (start..workers.len()).chain(0..start) {
            if victim == self.index {
                continue;
            }
            let stuck = st.seen[victim] == workers[victim].tick();
            if let Some((task, count)) =
                workers[victim]
                    .steal
                    .steal_into(&self.local, stuck, &mut st.batch)
            {
                // ORDERING: Relaxed, see `Counters`.
                workers[self.index]
                    .counters
                    .steals
                    .fetch_add(count as u64, Ordering::Relaxed);
                self.after_taking(count);
                return Some(task);
            }
        }
        None
    }

    /// After taking `count` tasks at once from another queue (the first to
    /// run now, the rest pushed onto this worker's FIFO): those pushes are
    /// pushes like any other, and wake a sleeper if nobody is searching.
    /// Without this, a worker that looked at both queues while the batch
    /// was in hand saw neither holding it and went to sleep; if this worker
    /// then blocks in the first task, the rest wait for it, however long
    /// (`loom-tests/pool_park.rs`,
    /// `an_outside_job_behind_one_that_blocks_its_worker_runs_on_the_other`).
    #[inline]
    fn after_taking(&self, count: usize) {
        if count > 1 {
            self.shared.after_push(true);
        }
    }

    /// Runs `task`, catching and logging a panic so the worker survives it.
    fn run_task(&self, task: Task) {
        let remote = &self.shared.workers[self.index];
        match catch_unwind(AssertUnwindSafe(|| task.run_on(self.index))) {
            Ok(None) => {}
            Ok(Some(again)) => {
                // Behind the tasks queued on this worker, not in its run-next
                // slot, so it does not run again before them; a push like any
                // other, which another worker may steal.
                self.local.push(again);
                self.shared.after_push(true);
            }
            Err(payload) => self.log_panic(remote, &*payload),
        }
        // ORDERING: Relaxed, see `Counters`. A load and a store, not an RMW:
        // this worker is the only writer.
        let run = remote.counters.tasks_run.load(Ordering::Relaxed);
        remote.counters.tasks_run.store(run + 1, Ordering::Relaxed);
    }

    /// Logs a task's panic; the worker carries on.
    fn log_panic(&self, remote: &Remote, payload: &(dyn std::any::Any + Send)) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        log::error!(
            "playhouse pool: a task panicked on {}: {message}",
            remote.name
        );
    }
}

/// Marsaglia's xorshift64 (shifts 13, 7, 17): a tiny generator for picking
/// the first victim of a steal. Quality barely matters; cost does.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Zero is the one fixed point of xorshift.
        XorShift(seed.max(1))
    }

    /// A number in `0..n`; `n` must not be zero.
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}
