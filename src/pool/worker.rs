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
//! 1. Every [`GLOBAL_QUEUE_INTERVAL`] ticks, one task from the injector first
//!    (and the staged starts moved in), so outside submissions are not
//!    starved by a worker feeding itself; every [`INJECTOR_INTERVAL`] ticks
//!    too, if the injector's length hint is not zero, so a thread's request
//!    does not wait long behind a busy worker's own tasks.
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
//!
//! Where the rest lives: [`super::shared`] (the state all workers share,
//! submission, wake-ups, shutdown), [`super::staged`] (staged starts),
//! [`super::watch`] (watching a stuck owner's run-next slot),
//! [`super::counters`] (per-worker counters and held units).
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

use super::Task;
use super::queue::{From, Local, Pending, Retire};
use super::shared::{Remote, Shared};
use super::watch::{WATCH_MIN, WATCH_QUIET_LOOKS};
use crate::panic::panic_message;
use crate::sync::{Arc, Backoff, Ordering, random_seed, thread};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::time::Duration;

/// A worker takes one task from the injector before its local queue every
/// this many ticks (one tick per look for a task). Prime, as in tokio, so it
/// does not resonate with periodic workloads.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// Between those, a worker takes a task from the injector every this many
/// ticks if its length hint says it holds one: a thread's request waits for
/// a busy pool about this many turns, not [`GLOBAL_QUEUE_INTERVAL`]. Prime
/// too; the local queue still gets six turns in seven.
const INJECTOR_INTERVAL: u32 = 7;

/// A worker takes at most this many tasks in a row from its run-next slot
/// before it looks at the front of its FIFO, so two actors passing messages
/// back and forth through the slot cannot starve the rest of the queue.
/// Two: a chain in the FIFO (a request and its answer, say) waits behind at
/// most two hops of the chain in the slot, so on a shared worker every
/// request waits about the same short time; a long limit makes most
/// requests wait nothing and a few wait out a whole streak of each other
/// chain. A lone chain loses nothing: with the FIFO empty, the slot runs on.
const MAX_NEXT_STREAK: u32 = 2;

crate::sync::thread_local! {
    /// The worker running on this thread, if it is a pool worker: set and
    /// cleared by `Worker::main`, null elsewhere. A plain pointer rather than
    /// a `RefCell` holding an `Rc`, so that a task submitted through it is
    /// not moved into a closure: such a move copies the fat pointer through
    /// the stack in two halves, and the 16-byte reload that follows cannot be
    /// forwarded from the store buffer.
    static CURRENT: Cell<*const Worker> = const { Cell::new(ptr::null()) };
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
/// Not through [`with_current`]: the task would be moved into its closure
/// and copied through the stack in pieces (see [`CURRENT`]).
#[inline]
pub(super) fn push_local(shared: &Arc<Shared>, task: Task, yielded: bool) -> Result<bool, Task> {
    push_local_as(shared, task, yielded, |t| t)
}

/// [`push_local`] for a task that becomes a [`Task`] by `into` only if it
/// goes to the local queue: given back as it came otherwise.
#[inline]
pub(super) fn push_local_as<T>(
    shared: &Arc<Shared>,
    task: T,
    yielded: bool,
    into: impl FnOnce(T) -> Task,
) -> Result<bool, T> {
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
        worker.local.push(into(task));
        Ok(true)
    } else {
        Ok(worker.local.push_next(into(task)))
    }
}

/// Runs `f` with `worker` as the current worker of the calling thread, which
/// must not be a worker already (a simulated step, on the test's thread).
#[cfg(not(loom))]
pub(super) fn run_as_worker<R>(worker: &Worker, f: impl FnOnce() -> R) -> R {
    debug_assert!(
        !on_worker_thread(),
        "a simulated step runs outside any worker"
    );
    CURRENT.with(|p| p.set(&raw const *worker));
    // Nulls the pointer before `worker` can go, on unwind too.
    let _clear = ClearCurrent;
    f()
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
pub(super) struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) index: usize,
    pub(super) local: Local,
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
pub(super) struct LoopState {
    searching: bool,
    tick: u32,
    rng: XorShift,
    backoff: Backoff,
    /// Tasks taken from the run-next slot in a row.
    next_streak: u32,
    /// Each worker's tick when this one last started a watch (`u64::MAX`:
    /// not watched since it last found work).
    pub(super) seen: Vec<u64>,
    /// How long the next watch sleeps.
    pub(super) watch_for: Duration,
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
        // On the heap, not in this frame: the thread-local points at it for
        // the whole run loop, and the ring workload is measurably slower with
        // the worker on the stack (see `BENCHMARKS.md`).
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
                    // Out of work: the layer above settles what it keeps
                    // for this worker before it searches, sleeps, watches
                    // or retires.
                    self.shared.run_idle_hook(self.index);
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
                    self.shared.notify_if_work_pending();
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
    ///
    /// A worker that has watched since it last found work (its watch time
    /// grew) does not spin again between watches: the look that follows a
    /// watch is enough, and each spin's yields would hand the core back and
    /// forth with an owner sharing it, preempting that owner's turns.
    fn idle(&self, st: &mut LoopState) {
        if !st.searching {
            st.searching = self.shared.idle.transition_to_searching();
        }
        let watched = st.watch_for > WATCH_MIN;
        if st.searching && !watched && !st.backoff.is_completed() {
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
        } else if st.tick.is_multiple_of(INJECTOR_INTERVAL) {
            // A look at the length hint when the injector is empty.
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
        let message = panic_message(payload);
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
