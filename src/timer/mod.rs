//! One timer thread per system runs delayed and periodic callbacks in deadline order.
//!
//! The thread keeps a min-heap of entries keyed by `(deadline, seq)`: `seq` grows
//! with every push, so entries with equal deadlines fire in the order they were
//! scheduled. It sleeps on a condition variable until the earliest deadline (or
//! indefinitely when the heap is empty: an idle timer costs no CPU), pops every
//! entry that is due, releases the lock and runs their callbacks, each inside
//! `catch_unwind`, so a callback may schedule more entries and a panicking one
//! is logged without killing the thread.
//!
//! Time is read through a [`Clock`]: the real [`SystemClock`] in production,
//! and a [`ManualClock`] in tests and loom models, which only moves when told
//! and wakes the thread when it does, so no test ever waits on wall time.
//!
//! Periodic entries are fixed rate: the next deadline is the previous deadline
//! plus the period, not "now plus the period", so a series does not drift. When
//! the thread falls behind by more than a whole period (a long callback, a
//! suspended machine, a manual clock advanced by many periods at once), the
//! missed firings are skipped rather than replayed in a burst: the series
//! resumes at the first `previous + k * period` that lies after now.
//!
//! # Invariants
//!
//! 1. Every entry in the heap is PENDING, possibly with CANCELLED set; FINISHED
//!    is set only on entries the heap no longer holds.
//! 2. `firing` is the number of entries popped by the timer thread whose batch
//!    has not yet been settled (callbacks returned, periodic entries re-armed).
//!    So an entry is always visible to [`Timer::due_or_firing`]: in the heap or
//!    counted in `firing`, never neither while it can still fire.
//! 3. Once `shutdown` is set the heap stays empty: later pushes are dropped.
//! 4. No callback runs, and no entry is dropped (its captures may run user
//!    `Drop` code), while the timer lock is held.
//! 5. Only the timer thread waits on the condition variable.
//!
//! # Protocol
//!
//! 1. *Schedule* (`once`, `every`): lock, push, and notify the condition
//!    variable only if the new entry is now the earliest and the thread waits
//!    (`State::thread`) indefinitely or until a later instant. A later entry
//!    cannot change when the thread must wake; a thread that is awake, or waits
//!    until an earlier instant, re-reads the heap before it waits again.
//!    Pushing and reading `thread` under the lock means the thread is either
//!    still before its look at the heap (and sees the entry) or already waiting
//!    with `thread` saying until when (and is notified if that is too late):
//!    no wake-up is lost. So a stream of asks, each pushing an entry a little
//!    later than the last, never wakes the thread early. A push that notifies
//!    records the thread as awake: it will look at the heap (and find every
//!    entry pushed before it takes the lock) before it waits again, so pushes
//!    until then need not notify it a second time.
//! 2. *Wait*: the thread, holding the lock, exits if `shutdown` is set, reads the
//!    clock and pops every entry whose deadline is at or before now. With none
//!    due it records in `thread` what it waits for and waits: until the
//!    earliest deadline on a real clock, indefinitely on a manual clock or an
//!    empty heap. Back under the lock it records that it is awake.
//! 3. *Fire*: it adds the number popped to `firing`, releases the lock and runs
//!    them in `(deadline, seq)` order. A one-shot runs only if it wins the
//!    PENDING -> FINISHED transition against `cancel`; a periodic one runs while
//!    it is not cancelled. It then relocks, subtracts from `firing`, and re-arms
//!    the periodic entries (with fresh sequence numbers), or drops them if
//!    `shutdown` was set meanwhile.
//! 4. *Cancel*: sets CANCELLED with one atomic read-modify-write and returns
//!    whether the entry was PENDING. Cancelled entries stay in the heap until
//!    they surface (at their deadline, or at the top in `next_deadline`,
//!    `due_or_firing` and each push, which takes up to
//!    `POP_CANCELLED_PER_PUSH`) or until a purge, triggered when pushing into a
//!    heap of which about half has been cancelled since the last purge.
//! 5. *Shutdown*: lock, set `shutdown`, take the heap, notify, unlock; join the
//!    thread unless called on it (a callback shutting its own timer down only
//!    signals); then mark the taken entries FINISHED and drop them.
//! 6. *Manual time*: `ManualClock::advance` moves the time, then calls the
//!    waker each timer registered, which locks the timer and notifies. Taking
//!    the lock is what makes the poke safe: the thread reads the clock and
//!    starts waiting without releasing the lock in between.
//!
//! Lock order: the timer lock may be held while reading the clock (which takes
//! the manual clock's lock); the manual clock calls wakers after releasing its
//! own, so the two are never taken in the other order.
//!
//! # Memory ordering
//!
//! Every callback, with all it captured, moves between threads inside the
//! timer mutex, which orders it. The per-entry state atomic guards no data, so
//! its operations are `Relaxed`: all its writes are read-modify-writes, and the
//! read-modify-writes of one atomic are totally ordered (its modification order)
//! at any ordering, so exactly one of `cancel` and the firing of a one-shot
//! sees PENDING.

mod clock;
mod heap;
#[cfg(all(test, not(loom)))]
mod tests;

pub use self::clock::ManualClock;
pub(crate) use self::clock::{Clock, SystemClock};
use self::heap::{Entry, State, Task, ThreadWait};
use crate::error::BuildError;
use crate::panic::panic_message;
use crate::sync::{Arc, AtomicUsize, Condvar, Mutex, Ordering, thread};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// How many cancelled entries a push takes off the top of the heap at most
/// (protocol step 4): enough to keep up with one cancel per push.
const POP_CANCELLED_PER_PUSH: usize = 2;

/// The instant `d` after `now`; a duration too long to add (`Duration::MAX`)
/// means "never" and is clamped to a century.
fn deadline_from(now: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(d.min(CENTURY)).unwrap_or(now)
}

/// The entry will fire (again); it may carry [`CANCELLED`] too.
const PENDING: usize = 0;
/// Bit: the entry fired for the last time, or was retired without firing (a
/// panicking periodic callback, a shutdown). No firing is left to prevent.
const FINISHED: usize = 0b01;
/// Bit: [`TimerHandle::cancel`] was called. Set at most once, never cleared.
const CANCELLED: usize = 0b10;

/// The state of one entry, shared by the heap entry and its handles.
struct EntryState {
    /// [`PENDING`], or a combination of [`FINISHED`] and [`CANCELLED`].
    bits: AtomicUsize,
    /// The timer's count of cancellations since its last purge (a hint).
    cancels: Arc<AtomicUsize>,
}

impl EntryState {
    /// Claims the last firing of a one-shot, or retires an entry for good.
    /// Returns `false` if it was cancelled (or already finished).
    fn try_finish(&self) -> bool {
        // ORDERING: Relaxed. Decides against `cancel`'s fetch_or, also an RMW on
        // this atomic: the modification order lets exactly one of them see
        // PENDING. Nothing is published (see "Memory ordering").
        self.bits
            .compare_exchange(PENDING, FINISHED, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Whether the entry may still fire (neither cancelled nor finished).
    pub(super) fn is_pending(&self) -> bool {
        // ORDERING: Relaxed. A periodic entry checks before each firing; a cancel
        // it has not seen yet is seen at the next check, and `cancel` promised
        // only to prevent some future firing. Nothing is published.
        self.bits.load(Ordering::Relaxed) == PENDING
    }
}

/// Cancels a scheduled message (or a periodic series) when asked.
///
/// Dropping the handle does not cancel; call [`TimerHandle::cancel`].
///
/// # Examples
///
/// ```
/// # use playhouse::testkit::ManualClock;
/// # use playhouse::{Actor, ActorError, Context, Reply, System, TimerHandle};
/// # use std::time::Duration;
/// enum Msg { Arm(Reply<TimerHandle>), Ring, Rang(Reply<bool>) }
/// struct Alarm(bool);
/// impl Actor for Alarm {
///     type Msg = Msg;
///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Arm(r) => { let _ = r.send(ctx.schedule_once(Duration::from_secs(60), Msg::Ring)); }
///             Msg::Ring => self.0 = true,
///             Msg::Rang(r) => { let _ = r.send(self.0); }
///         }
///         Ok(())
///     }
/// }
/// # let t = Duration::from_secs(5);
/// # let clock = ManualClock::new();
/// # let system = System::builder().clock(clock.clone()).build()?;
/// # let alarm = system.spawn(|| Alarm(false))?;
///
/// let handle = alarm.ask(Msg::Arm, t)?; // the alarm hands out its timer
/// assert!(handle.cancel());
/// clock.advance(Duration::from_secs(60));
/// system.await_quiescent(t)?;
/// assert!(!alarm.ask(Msg::Rang, t)?); // cancelled before it was due
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TimerHandle {
    entry: Arc<EntryState>,
}

impl TimerHandle {
    /// Cancels the entry: it will not fire again. Returns `false` when it had
    /// already fired for the last time or was cancelled before.
    ///
    /// Racing the firing of a one-shot entry, exactly one side wins: `true`
    /// means the callback never runs, `false` means it runs (or ran). For a
    /// periodic entry `true` means no firing starts after the timer sees the
    /// cancellation; a firing already under way finishes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::testkit::ManualClock;
    /// # use playhouse::{Actor, ActorError, Context, Reply, System, TimerHandle};
    /// # use std::time::Duration;
    /// enum Msg { Arm(Reply<TimerHandle>), Ring, Rang(Reply<bool>) }
    /// struct Alarm(bool);
    /// impl Actor for Alarm {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Arm(r) => { let _ = r.send(ctx.schedule_once(Duration::from_secs(60), Msg::Ring)); }
    ///             Msg::Ring => self.0 = true,
    ///             Msg::Rang(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # let t = Duration::from_secs(5);
    /// # let clock = ManualClock::new();
    /// # let system = System::builder().clock(clock.clone()).build()?;
    /// # let alarm = system.spawn(|| Alarm(false))?;
    ///
    /// let handle = alarm.ask(Msg::Arm, t)?;
    /// clock.advance(Duration::from_secs(60));
    /// system.await_quiescent(t)?;
    /// assert!(alarm.ask(Msg::Rang, t)?);
    /// assert!(!handle.cancel()); // too late: it has fired
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self) -> bool {
        // ORDERING: Relaxed. The RMW decides against `try_finish` through this
        // atomic's modification order; nothing is published (module docs).
        let before = self.entry.bits.fetch_or(CANCELLED, Ordering::Relaxed);
        let prevented = before == PENDING;
        if prevented {
            // ORDERING: Relaxed. A hint that only triggers a purge; the purge
            // itself runs under the timer lock and checks every entry.
            self.entry.cancels.fetch_add(1, Ordering::Relaxed);
        }
        prevented
    }

    /// Whether [`TimerHandle::cancel`] was called.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::testkit::ManualClock;
    /// # use playhouse::{Actor, ActorError, Context, Reply, System, TimerHandle};
    /// # use std::time::Duration;
    /// enum Msg { Arm(Reply<TimerHandle>), Ring, Rang(Reply<bool>) }
    /// struct Alarm(bool);
    /// impl Actor for Alarm {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Arm(r) => { let _ = r.send(ctx.schedule_once(Duration::from_secs(60), Msg::Ring)); }
    ///             Msg::Ring => self.0 = true,
    ///             Msg::Rang(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # let t = Duration::from_secs(5);
    /// # let clock = ManualClock::new();
    /// # let system = System::builder().clock(clock.clone()).build()?;
    /// # let alarm = system.spawn(|| Alarm(false))?;
    ///
    /// let handle = alarm.ask(Msg::Arm, t)?;
    /// assert!(!handle.is_cancelled());
    /// handle.cancel();
    /// assert!(handle.is_cancelled());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_cancelled(&self) -> bool {
        // ORDERING: Relaxed. Reports the flag; nothing is read on the strength of it.
        self.entry.bits.load(Ordering::Relaxed) & CANCELLED != 0
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ORDERING: Relaxed. A snapshot for display.
        let bits = self.entry.bits.load(Ordering::Relaxed);
        let state = if bits & CANCELLED != 0 {
            "cancelled"
        } else if bits & FINISHED != 0 {
            "finished"
        } else {
            "pending"
        };
        f.debug_struct("TimerHandle")
            .field("state", &state)
            .finish()
    }
}

/// What the timer thread and the [`Timer`] share.
struct Shared {
    state: Mutex<State>,
    /// Waited on by the timer thread only (invariant 5).
    cond: Condvar,
    clock: Arc<dyn Clock>,
    /// Cancellations since the last purge, counted by the handles.
    cancels: Arc<AtomicUsize>,
    name: String,
}

impl Shared {
    /// Wakes the timer thread so it re-reads the clock and the heap.
    fn poke(&self) {
        // Under the lock, so the thread is either before its look at the clock
        // or already waiting (protocol step 6).
        let _state = self.state.lock();
        self.cond.notify_one();
    }
}

/// The timer thread of one system.
pub(crate) struct Timer {
    shared: Arc<Shared>,
    thread_id: thread::ThreadId,
    /// Taken by the first `shutdown` not running on the timer thread.
    join: Mutex<Option<thread::JoinHandle<()>>>,
    /// The clock moves only when told (see [`Timer::is_manual`]).
    manual: bool,
}

impl Timer {
    /// Starts the thread, named `name`.
    pub(crate) fn start(name: String) -> Result<Timer, BuildError> {
        Timer::start_with_clock(name, Arc::new(SystemClock))
    }

    /// Starts the thread, named `name`, reading the time from `clock`.
    ///
    /// # Errors
    /// The operating system refused to start the thread.
    pub(crate) fn start_with_clock(
        name: String,
        clock: Arc<dyn Clock>,
    ) -> Result<Timer, BuildError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                next_seq: 0,
                firing: 0,
                shutdown: false,
                thread: ThreadWait::Awake,
            }),
            cond: Condvar::new(),
            clock: Arc::clone(&clock),
            cancels: Arc::new(AtomicUsize::new(0)),
            name: name.clone(),
        });
        // Weak: Shared owns the clock, so a strong reference here would be a
        // cycle; a waker that outlives its timer does nothing.
        let weak = Arc::downgrade(&shared);
        clock.watch(Arc::new(move || {
            if let Some(shared) = weak.upgrade() {
                shared.poke();
            }
        }));
        let thread_shared = Arc::clone(&shared);
        let join = thread::Builder::new()
            .name(name)
            .spawn(move || run(&thread_shared))
            .map_err(BuildError::thread)?;
        let thread_id = join.thread().id();
        let manual = clock.sleep_until(clock.now()).is_none();
        Ok(Timer {
            shared,
            thread_id,
            join: Mutex::new(Some(join)),
            manual,
        })
    }

    /// A timer without a thread, for a simulation: entries fire only when
    /// [`Timer::fire_due`] is called, on the caller's thread.
    #[cfg(not(loom))]
    pub(crate) fn inline(name: String, clock: ManualClock) -> Timer {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                next_seq: 0,
                firing: 0,
                shutdown: false,
                thread: ThreadWait::Awake,
            }),
            cond: Condvar::new(),
            clock: Arc::new(clock),
            cancels: Arc::new(AtomicUsize::new(0)),
            name,
        });
        Timer {
            shared,
            // No timer thread: `shutdown` joins nothing (the handle is None).
            thread_id: thread::current().id(),
            join: Mutex::new(None),
            manual: true,
        }
    }

    /// Fires, on the calling thread, every entry due on the clock now, in
    /// `(deadline, seq)` order (protocol step 3 without a thread); returns
    /// how many it popped. For a timer built by [`Timer::inline`].
    #[cfg(not(loom))]
    pub(crate) fn fire_due(&self) -> usize {
        let shared = &*self.shared;
        let mut guard = shared.state.lock();
        if guard.shutdown {
            return 0;
        }
        let now = shared.clock.now();
        let mut batch = Vec::new();
        while guard
            .heap
            .peek()
            .is_some_and(|Reverse(top)| top.deadline <= now)
        {
            if let Some(Reverse(entry)) = guard.heap.pop() {
                batch.push(entry);
            }
        }
        let popped = batch.len();
        guard.firing += popped;
        drop(guard);
        let rearm: Vec<Entry> = batch
            .into_iter()
            .filter_map(|entry| fire(entry, shared))
            .collect();
        let mut guard = shared.state.lock();
        guard.firing -= popped;
        if guard.shutdown {
            drop(guard);
            for entry in rearm {
                entry.state.try_finish();
                discard(entry, &shared.name);
            }
            return popped;
        }
        for entry in rearm {
            guard.push(entry);
        }
        popped
    }

    /// Runs `f` on the timer thread at `at` (at once if `at` has passed).
    pub(crate) fn once(&self, at: Instant, f: impl FnOnce() + Send + 'static) -> TimerHandle {
        self.schedule(at, Task::Once(Box::new(f)))
    }

    /// Runs `f` at `first`, then every `period` (fixed rate, no burst to catch up).
    ///
    /// # Panics
    /// If `period` is zero (callers reject a zero period when they are built).
    pub(crate) fn every(
        &self,
        first: Instant,
        period: Duration,
        f: impl FnMut() + Send + 'static,
    ) -> TimerHandle {
        assert!(!period.is_zero(), "a timer period must not be zero");
        self.schedule(
            first,
            Task::Every {
                period,
                f: Box::new(f),
            },
        )
    }

    fn schedule(&self, deadline: Instant, task: Task) -> TimerHandle {
        let state = Arc::new(EntryState {
            bits: AtomicUsize::new(PENDING),
            cancels: Arc::clone(&self.shared.cancels),
        });
        let handle = TimerHandle {
            entry: Arc::clone(&state),
        };
        let entry = Entry {
            deadline,
            seq: 0,
            state,
            task,
        };
        let mut guard = self.shared.state.lock();
        if guard.shutdown {
            drop(guard);
            entry.state.try_finish();
            log::debug!(
                "timer {}: entry scheduled after shutdown dropped",
                self.shared.name
            );
            discard(entry, &self.shared.name);
            return handle;
        }
        let mut purged = guard.purge_cancelled(&self.shared.cancels);
        // A few cancelled entries off the top each time: where every entry is
        // cancelled in deadline order (answered asks), the heap stays small
        // and no push pays for a purge of many. They stay counted in
        // `cancels`, a hint: at worst the next purge finds fewer than counted
        // and resets the count.
        guard.pop_cancelled_top_into(POP_CANCELLED_PER_PUSH, &mut purged);
        if guard.push(entry) && guard.must_wake_for(deadline) {
            // Protocol step 1. The thread is the condition variable's only
            // waiter, so this notify makes it look at the heap again: until
            // it does, it counts as awake, and pushes meanwhile (a stream of
            // asks while the thread waits to be scheduled) notify no more.
            guard.thread = ThreadWait::Awake;
            self.shared.cond.notify_one();
        }
        drop(guard);
        for entry in purged {
            discard(entry, &self.shared.name);
        }
        handle
    }

    /// The time on this timer's clock.
    pub(crate) fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// The instant `d` from now on this timer's clock (clamped to a century).
    pub(crate) fn deadline_after(&self, d: Duration) -> Instant {
        deadline_from(self.now(), d)
    }

    /// Whether the clock moves only when told (a [`ManualClock`]), so that a
    /// thread waiting for one of its deadlines must not sleep on wall time.
    pub(crate) fn is_manual(&self) -> bool {
        self.manual
    }

    /// Whether some entry is due now (deadline passed) or its callback is running.
    pub(crate) fn due_or_firing(&self) -> bool {
        let mut guard = self.shared.state.lock();
        let cancelled = guard.pop_cancelled_top();
        let now = self.shared.clock.now();
        let busy = guard.firing > 0
            || guard
                .heap
                .peek()
                .is_some_and(|Reverse(top)| top.deadline <= now);
        drop(guard);
        for entry in cancelled {
            discard(entry, &self.shared.name);
        }
        busy
    }

    /// The earliest deadline of a pending (not cancelled) entry.
    ///
    /// A periodic entry whose callback is running counts again once re-armed.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let mut guard = self.shared.state.lock();
        let cancelled = guard.pop_cancelled_top();
        let next = guard.heap.peek().map(|Reverse(top)| top.deadline);
        drop(guard);
        for entry in cancelled {
            discard(entry, &self.shared.name);
        }
        next
    }

    /// Wakes the timer thread to re-read its clock, for a clock that does not
    /// report its jumps (a [`ManualClock`] does, through its wakers).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn poke(&self) {
        self.shared.poke();
    }

    /// Stops and joins the thread; entries not yet fired are dropped. Idempotent.
    ///
    /// Called from a callback on the timer thread, it only signals: the thread
    /// stops when the callback returns, and a later call elsewhere joins it. A
    /// callback that never returns makes this wait forever (a thread cannot be
    /// killed), so callbacks only post messages.
    pub(crate) fn shutdown(&self) {
        let (first, leftovers) = {
            let mut guard = self.shared.state.lock();
            let first = !guard.shutdown;
            guard.shutdown = true;
            self.shared.cond.notify_one();
            (first, std::mem::take(&mut guard.heap).into_vec())
        };
        if thread::current().id() != self.thread_id {
            // Held while joining, so a concurrent `shutdown` returns only once
            // the thread is gone. The timer thread never takes this lock.
            let mut join = self.join.lock();
            if let Some(handle) = join.take()
                && handle.join().is_err()
            {
                log::error!("timer {}: the timer thread panicked", self.shared.name);
            }
        }
        let mut unfired = 0;
        for Reverse(entry) in leftovers {
            if entry.state.try_finish() {
                unfired += 1;
            }
            discard(entry, &self.shared.name);
        }
        if first {
            log::debug!(
                "timer {}: shut down, {unfired} unfired entries dropped",
                self.shared.name
            );
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

/// The timer thread's loop (protocol steps 2 and 3).
fn run(shared: &Shared) {
    let mut guard = shared.state.lock();
    loop {
        if guard.shutdown {
            return;
        }
        let now = shared.clock.now();
        let mut batch = Vec::new();
        while guard
            .heap
            .peek()
            .is_some_and(|Reverse(top)| top.deadline <= now)
        {
            if let Some(Reverse(entry)) = guard.heap.pop() {
                batch.push(entry);
            }
        }
        if batch.is_empty() {
            let earliest = guard.heap.peek().map(|Reverse(top)| top.deadline);
            let timeout = earliest.and_then(|at| Some((at, shared.clock.sleep_until(at)?)));
            guard.thread = match timeout {
                Some((at, _)) => ThreadWait::Until(at),
                None => ThreadWait::Indefinitely,
            };
            guard = match timeout {
                Some((_, timeout)) => shared.cond.wait_timeout(guard, timeout),
                None => shared.cond.wait(guard),
            };
            guard.thread = ThreadWait::Awake;
            continue;
        }
        let popped = batch.len();
        guard.firing += popped;
        drop(guard);

        let rearm: Vec<Entry> = batch
            .into_iter()
            .filter_map(|entry| fire(entry, shared))
            .collect();

        guard = shared.state.lock();
        guard.firing -= popped;
        if guard.shutdown {
            drop(guard);
            let dropped = rearm.len();
            for entry in rearm {
                entry.state.try_finish();
                discard(entry, &shared.name);
            }
            if dropped > 0 {
                log::debug!(
                    "timer {}: {dropped} periodic entries dropped at shutdown",
                    shared.name
                );
            }
            return;
        }
        for entry in rearm {
            // No notify: the thread is the one waiting, and it is awake.
            guard.push(entry);
        }
    }
}

/// Runs one popped entry, outside the lock. Returns a periodic entry to re-arm.
fn fire(entry: Entry, shared: &Shared) -> Option<Entry> {
    let Entry {
        deadline,
        seq,
        state,
        task,
    } = entry;
    match task {
        Task::Once(f) => {
            if state.try_finish() {
                run_caught(f, &shared.name);
            } else {
                discard_task(Task::Once(f), &shared.name);
            }
            None
        }
        Task::Every { period, mut f } => {
            if !state.is_pending() {
                discard_task(Task::Every { period, f }, &shared.name);
                return None;
            }
            if !run_caught(&mut f, &shared.name) {
                log::error!(
                    "timer {}: periodic entry dropped after its callback panicked",
                    shared.name
                );
                state.try_finish();
                discard_task(Task::Every { period, f }, &shared.name);
                return None;
            }
            let task = Task::Every { period, f };
            // Cancelled during the callback: no need to keep it until it surfaces.
            if !state.is_pending() {
                discard_task(task, &shared.name);
                return None;
            }
            let Some(next) = next_fixed_rate(deadline, period, shared.clock.now()) else {
                log::error!(
                    "timer {}: periodic entry dropped: its next deadline is not representable",
                    shared.name
                );
                state.try_finish();
                discard_task(task, &shared.name);
                return None;
            };
            Some(Entry {
                deadline: next,
                seq,
                state,
                task,
            })
        }
    }
}

/// The deadline after `prev` in a fixed-rate series: `prev + period`, unless
/// that lies more than a period before `now`; then the missed firings are
/// skipped and the series resumes at the first `prev + k * period` after `now`.
/// `None` if that instant is not representable.
fn next_fixed_rate(prev: Instant, period: Duration, now: Instant) -> Option<Instant> {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let next = prev.checked_add(period)?;
    let behind = now.saturating_duration_since(next);
    if behind <= period {
        return Some(next);
    }
    // The smallest k with next + k * period > now; period is not zero (`every`).
    let skips = behind.as_nanos() / period.as_nanos() + 1;
    let jump = period.as_nanos().checked_mul(skips)?;
    let secs = u64::try_from(jump / NANOS_PER_SEC).ok()?;
    let nanos = u32::try_from(jump % NANOS_PER_SEC).ok()?;
    next.checked_add(Duration::new(secs, nanos))
}

/// Runs a callback, catching and logging a panic. Returns whether it returned.
fn run_caught(f: impl FnOnce(), name: &str) -> bool {
    // AssertUnwindSafe: after a panic the state `f` touched is never used again
    // by the timer (a panicking periodic entry is dropped).
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(payload) => {
            log::error!(
                "timer {name}: callback panicked: {}",
                panic_message(payload.as_ref())
            );
            false
        }
    }
}

/// Drops an entry that will not fire, outside the lock, surviving a panicking
/// `Drop` of something its callback captured.
fn discard(entry: Entry, name: &str) {
    discard_task(entry.task, name);
}

fn discard_task(task: Task, name: &str) {
    if catch_unwind(AssertUnwindSafe(move || drop(task))).is_err() {
        log::error!("timer {name}: dropping a callback panicked");
    }
}

/// Public wrappers of the timer internals for the loom models in `loom-tests/`
/// (re-exported as `playhouse::loom_api::timer`).
#[cfg(loom)]
pub mod loom_api {
    use super::TimerHandle;
    use crate::sync::Arc;
    use std::time::{Duration, Instant};

    /// A [`super::ManualClock`] to share between a model and its timers.
    #[derive(Debug, Clone)]
    pub struct ManualClock(Arc<super::ManualClock>);

    impl ManualClock {
        /// A clock standing still at the real time of its creation.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            ManualClock(Arc::new(super::ManualClock::new()))
        }
        /// The current (manual) time.
        pub fn now(&self) -> Instant {
            super::Clock::now(&*self.0)
        }
        /// Moves the time forward and wakes the timers using this clock.
        pub fn advance(&self, by: Duration) {
            self.0.advance(by);
        }
    }

    /// A timer thread reading a [`ManualClock`].
    #[derive(Debug)]
    pub struct Timer(super::Timer);

    impl Timer {
        /// Starts the timer thread.
        ///
        /// # Panics
        /// If the thread cannot be started.
        pub fn start(clock: &ManualClock) -> Timer {
            let clock: Arc<dyn super::Clock> = clock.0.clone();
            Timer(
                super::Timer::start_with_clock("loom-timer".to_owned(), clock)
                    .expect("loom starts threads"),
            )
        }
        /// See `Timer::once`.
        pub fn once(&self, at: Instant, f: impl FnOnce() + Send + 'static) -> TimerHandle {
            self.0.once(at, f)
        }
        /// See `Timer::due_or_firing`.
        pub fn due_or_firing(&self) -> bool {
            self.0.due_or_firing()
        }
        /// See `Timer::shutdown`.
        pub fn shutdown(&self) {
            self.0.shutdown();
        }
    }
}
