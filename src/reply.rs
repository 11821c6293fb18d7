//! The one-shot reply slot behind `ask`, and the [`Reply`] handle an asked actor answers with.
//!
//! # Protocol
//!
//! A [`Slot`] is decided exactly once, under its lock, by the first of:
//!
//! 1. the answer ([`Reply::send`]),
//! 2. the asked actor dropping the [`Reply`] unanswered (`ReplyDropped`),
//! 3. the request being dead-lettered because the actor stopped (`Closed`),
//! 4. the deadline: the blocked asker giving up, or the timer firing for an
//!    asking actor (`Timeout`).
//!
//! While the asked actor's handler runs on the request, a [`Reply`] of that
//! request dropped unanswered does not decide the slot at once: the handler
//! may yet fail (the drop may be its unwinding), and then the asker gets
//! `Failed`, decided by the turn after the handler returns; otherwise the turn
//! decides `ReplyDropped` then (see [`Handling`]). Only the thread running the
//! handler defers so, and only for that request's slot.
//!
//! Whatever comes later finds the slot decided and is discarded (a late reply
//! comes back to the replier as `Err(value)`). An asking actor registered a
//! callback, run once, outside the lock, by whoever decided the slot. A thread
//! asker waits for the decision:
//!
//! 5. It may first spin for a few microseconds (`SPIN_FOR`) on `decided`, a
//!    hint the decider sets under the lock: an actor on an awake worker that
//!    answers at once is then heard without either thread entering the
//!    kernel. A spin that runs out makes the thread skip spinning for its
//!    next asks after the second miss in a row, twice as many after each
//!    further miss (up to `SPIN_SKIP_MAX`): where answers are slow, or the
//!    spinner would hold a CPU the answering worker needs, it soon waits in
//!    the kernel at once.
//! 6. Then, under the lock, it sets `sleeping` and waits on the condition
//!    variable (which releases the lock); it clears `sleeping` when it wakes.
//! 7. The decider, under the same lock, stores the outcome, sets `decided`,
//!    reads `sleeping`, and notifies after unlocking only if it was set.
//!
//! Steps 6 and 7 are critical sections of one lock: if 7 comes first, the
//! asker finds the outcome before it would sleep; if 6 comes first, the
//! asker is inside the wait (the lock is released only there) and `sleeping`
//! is set, so the decider notifies. `decided` is only a hint for the spin:
//! the outcome is always read under the lock, so it needs no ordering of its
//! own. Modelled in `loom-tests/reply.rs`.

use crate::error::AskError;
use crate::sync::{Arc, AtomicBool, Condvar, Mutex, Ordering};
use crate::timer::TimerHandle;
use std::cell::Cell;
use std::fmt;
use std::time::Instant;

type Callback<T> = Box<dyn FnOnce(Result<T, AskError>) + Send>;

enum State<T> {
    /// Undecided; a thread asker waits on the condition variable.
    WaitingThread,
    /// Undecided; the callback delivers the outcome to an asking actor.
    WaitingActor(Callback<T>, Option<TimerHandle>),
    /// Decided for a thread asker that has not taken the outcome yet.
    Ready(Result<T, AskError>),
    /// Decided, and the outcome has been handed over (or the asker left).
    Finished,
}

/// How long a thread asker spins on `decided` before it sleeps: about the
/// time an actor on an idle worker takes to receive, handle and answer a
/// request; a longer wait is paid for in the kernel anyway.
#[cfg(not(loom))]
const SPIN_FOR: std::time::Duration = std::time::Duration::from_micros(20);

/// The most asks a thread skips spinning for after spins that ran out.
#[cfg(not(loom))]
const SPIN_SKIP_MAX: u32 = 1 << 10;

/// Looks at `decided` between two readings of the clock while spinning.
#[cfg(not(loom))]
const SPIN_LOOKS: u32 = 32;

#[cfg(not(loom))]
crate::sync::thread_local! {
    /// This thread's asks left to wait without spinning, and the skip after
    /// the next spin that runs out (none after a first miss: one slow answer
    /// in a row of fast ones is no reason to stop spinning).
    static SPIN_SKIP: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
}

/// The shared one-shot slot of one ask.
pub(crate) struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    deadline: Option<Instant>,
    /// Set under the lock once the slot is decided: a hint a spinning
    /// thread asker reads without the lock (protocol step 5).
    decided: AtomicBool,
    /// A thread asker waits on `ready`; read and written only under the
    /// lock (steps 6 and 7), so a decider notifies only a sleeper.
    sleeping: AtomicBool,
}

/// Type-erased view of a slot, carried beside the request in the mailbox so the
/// runtime can skip requests nobody waits for and fail the ones it drops.
pub(crate) trait AskState: Send + Sync {
    /// The asker is no longer waiting (timed out, or already answered).
    fn is_abandoned(&self) -> bool;
    /// Decides the slot with `err` (no effect if already decided).
    fn fail(&self, err: AskError);
}

impl<T: Send> Slot<T> {
    /// A slot for a thread that will block in [`Slot::wait`].
    pub(crate) fn for_thread(deadline: Option<Instant>) -> Arc<Self> {
        Arc::new(Slot {
            state: Mutex::new(State::WaitingThread),
            ready: Condvar::new(),
            deadline,
            decided: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
        })
    }

    /// A slot whose outcome is handed to `callback`, exactly once.
    pub(crate) fn for_callback(
        deadline: Option<Instant>,
        callback: impl FnOnce(Result<T, AskError>) + Send + 'static,
    ) -> Arc<Self> {
        Arc::new(Slot {
            state: Mutex::new(State::WaitingActor(Box::new(callback), None)),
            ready: Condvar::new(),
            deadline,
            decided: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
        })
    }

    /// Remembers the timer entry that enforces the deadline, so an answer can
    /// cancel it; cancels it at once if the slot is already decided.
    pub(crate) fn set_timer(&self, handle: TimerHandle) {
        let mut state = self.state.lock();
        if let State::WaitingActor(_, timer) = &mut *state {
            *timer = Some(handle);
        } else {
            drop(state);
            handle.cancel();
        }
    }

    /// Decides the slot with `outcome`. Gives the outcome back if the slot was
    /// already decided.
    pub(crate) fn complete(&self, outcome: Result<T, AskError>) -> Result<(), Result<T, AskError>> {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, State::Finished) {
            State::WaitingThread => {
                *state = State::Ready(outcome);
                // ORDERING: Relaxed, both; under the lock (protocol step 7).
                // `decided` is a hint the asker confirms under the lock, and
                // `sleeping` is written only under it.
                self.decided.store(true, Ordering::Relaxed);
                let sleeping = self.sleeping.load(Ordering::Relaxed);
                drop(state);
                if sleeping {
                    self.ready.notify_all();
                }
                Ok(())
            }
            State::WaitingActor(callback, timer) => {
                drop(state);
                if let Some(t) = timer {
                    t.cancel();
                }
                callback(outcome);
                Ok(())
            }
            other => {
                *state = other;
                Err(outcome)
            }
        }
    }

    /// The outcome, if the slot is decided; never blocks (a simulation's
    /// asker, which drives steps between looks).
    #[cfg(not(loom))]
    pub(crate) fn try_take(&self) -> Option<Result<T, AskError>> {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, State::Finished) {
            State::Ready(outcome) => Some(outcome),
            State::Finished => Some(Err(AskError::Closed)),
            other => {
                *state = other;
                None
            }
        }
    }

    /// Gives up on a thread slot still undecided: a late answer is discarded.
    #[cfg(not(loom))]
    pub(crate) fn give_up(&self) {
        let mut state = self.state.lock();
        if matches!(*state, State::WaitingThread) {
            *state = State::Finished;
        }
    }

    /// Blocks until the slot is decided or `deadline` passes (with no deadline,
    /// until decided: a timer entry enforces it); on timeout the slot is marked
    /// abandoned, so a late answer is discarded.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Result<T, AskError> {
        self.spin();
        let mut state = self.state.lock();
        loop {
            match std::mem::replace(&mut *state, State::Finished) {
                State::Ready(outcome) => return outcome,
                State::WaitingThread => *state = State::WaitingThread,
                State::Finished => return Err(AskError::Closed),
                State::WaitingActor(..) => unreachable!("a thread waits only on a thread slot"),
            }
            let wait_for = match deadline {
                None => None,
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        *state = State::Finished;
                        return Err(AskError::Timeout);
                    }
                    Some(deadline - now)
                }
            };
            // ORDERING: Relaxed, both; under the lock (protocol step 6).
            self.sleeping.store(true, Ordering::Relaxed);
            state = match wait_for {
                None => self.ready.wait(state),
                Some(d) => self.ready.wait_timeout(state, d),
            };
            self.sleeping.store(false, Ordering::Relaxed);
        }
    }

    /// Protocol step 5: unless this thread skips spinning now, spins until
    /// the slot looks decided or `SPIN_FOR` has passed. Under loom, one look.
    fn spin(&self) {
        // ORDERING: Relaxed; a hint, confirmed under the lock (module docs).
        let decided = || self.decided.load(Ordering::Relaxed);
        #[cfg(not(loom))]
        {
            let (left, next) = SPIN_SKIP.with(Cell::get);
            if left > 0 {
                SPIN_SKIP.with(|c| c.set((left - 1, next)));
                return;
            }
            let start = Instant::now();
            loop {
                // A look at `decided` between every two hints: a hint may
                // pause for dozens of nanoseconds, and the answer is heard
                // within one; the clock is read only every `SPIN_LOOKS`.
                for _ in 0..SPIN_LOOKS {
                    if decided() {
                        SPIN_SKIP.with(|c| c.set((0, 0)));
                        return;
                    }
                    std::hint::spin_loop();
                }
                if start.elapsed() >= SPIN_FOR {
                    SPIN_SKIP.with(|c| c.set((next, (2 * next).clamp(1, SPIN_SKIP_MAX))));
                    return;
                }
            }
        }
        #[cfg(loom)]
        {
            let _ = decided();
        }
    }

    /// Gives up waiting: the asker times out now (used by the loom model to
    /// stand in for the deadline, which loom cannot model).
    #[cfg(loom)]
    pub(crate) fn abandon(&self) -> Result<T, AskError> {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, State::Finished) {
            State::Ready(outcome) => outcome,
            _ => Err(AskError::Timeout),
        }
    }
}

impl<T: Send> AskState for Slot<T> {
    fn is_abandoned(&self) -> bool {
        !matches!(
            *self.state.lock(),
            State::WaitingThread | State::WaitingActor(..)
        )
    }

    fn fail(&self, err: AskError) {
        let _ = self.complete(Err(err));
    }
}

crate::sync::thread_local! {
    /// The slot of the request whose handler runs on this thread, if it is an
    /// ask, and whether its `Reply` was dropped unanswered meanwhile.
    static HANDLING: Cell<(*const (), bool)> = Cell::new((std::ptr::null(), false));
}

/// The handling of one asked request on this thread: set up by the turn
/// before the handler runs, finished with its outcome after.
pub(crate) struct Handling {
    slot: Arc<dyn AskState>,
}

impl Handling {
    /// Marks `slot` as the request being handled on this thread.
    pub(crate) fn begin(slot: Arc<dyn AskState>) -> Self {
        let key = Arc::as_ptr(&slot) as *const ();
        HANDLING.with(|h| h.set((key, false)));
        Handling { slot }
    }

    /// The handler returned: a failure decides the slot `Failed` (a dropped
    /// or stored reply alike: the request failed); a reply dropped unanswered
    /// decides it `ReplyDropped`. A reply kept for later stays undecided.
    pub(crate) fn finish(self, failed: bool) {
        let (_, dropped) = HANDLING.with(|h| h.replace((std::ptr::null(), false)));
        if failed {
            self.slot.fail(AskError::Failed);
        } else if dropped {
            self.slot.fail(AskError::ReplyDropped);
        }
    }
}

/// Whether `slot` is the one being handled on this thread; if so, records
/// that its reply was dropped unanswered, for [`Handling::finish`].
fn defer_drop(slot: *const ()) -> bool {
    HANDLING.with(|h| {
        let (current, _) = h.get();
        let ours = current == slot;
        if ours {
            h.set((current, true));
        }
        ours
    })
}

/// The handle an asked actor answers with, exactly once.
///
/// It arrives inside the request message built by `ask`'s closure. Dropping it
/// unanswered tells the asker ([`AskError::ReplyDropped`], as soon as the
/// handler returns) instead of letting it wait for its timeout; if the
/// handler fails (a panic or an `Err`), the asker gets [`AskError::Failed`]. It may be moved to another thread or actor
/// and answered from there.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// struct Doubler;
/// impl Actor for Doubler {
///     type Msg = (u64, Reply<u64>);
///     fn handle(&mut self, _: &mut Context<Self>, (n, reply): Self::Msg) -> Result<(), ActorError> {
///         if reply.is_waiting() {
///             let _ = reply.send(n * 2); // Err(value) only if the asker has gone
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let doubler = system.spawn(|| Doubler).unwrap();
/// assert_eq!(doubler.ask(|r| (21, r), Duration::from_secs(5)), Ok(42));
/// system.shutdown().unwrap();
/// ```
pub struct Reply<T: Send + 'static> {
    slot: Option<Arc<Slot<T>>>,
}

impl<T: Send + 'static> Reply<T> {
    pub(crate) fn new(slot: Arc<Slot<T>>) -> Self {
        Reply { slot: Some(slot) }
    }

    /// Answers the asker. Gives the value back if the asker is no longer waiting
    /// (it timed out); such a late reply is discarded.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Greeter;
    /// impl Actor for Greeter {
    ///     type Msg = (String, Reply<String>);
    ///     fn handle(&mut self, _: &mut Context<Self>, (name, reply): Self::Msg) -> Result<(), ActorError> {
    ///         if let Err(late) = reply.send(format!("hello, {name}")) {
    ///             log::debug!("nobody waits for {late:?}"); // the asker timed out
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let greeter = system.spawn(|| Greeter)?;
    /// let answer = greeter.ask(|r| ("ada".to_string(), r), Duration::from_secs(5))?;
    /// assert_eq!(answer, "hello, ada");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let slot = self
            .slot
            .take()
            .expect("a Reply holds its slot until answered");
        slot.complete(Ok(value)).map_err(|outcome| match outcome {
            Ok(v) => v,
            Err(_) => unreachable!("we completed with Ok"),
        })
    }

    /// When the asker stops waiting, if it set a deadline, on the system's
    /// clock (compare with [`crate::Context::now`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// /// Answers only when there is time left to do the work.
    /// struct Careful;
    /// impl Actor for Careful {
    ///     type Msg = Reply<&'static str>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, reply: Self::Msg) -> Result<(), ActorError> {
    ///         let left = reply.deadline().map(|d| d.saturating_duration_since(ctx.now()));
    ///         let _ = reply.send(match left {
    ///             Some(left) if left < Duration::from_millis(1) => "too late",
    ///             Some(_) => "done in time",
    ///             None => "no deadline",
    ///         });
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let careful = system.spawn(|| Careful)?;
    /// assert_eq!(careful.ask(|r| r, Duration::from_secs(30))?, "done in time");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.slot.as_ref().and_then(|s| s.deadline)
    }

    /// Whether the asker is still waiting for this answer. A handler can skip
    /// expensive work when it is not.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Expensive;
    /// impl Actor for Expensive {
    ///     type Msg = (u64, Reply<u64>);
    ///     fn handle(&mut self, _: &mut Context<Self>, (n, reply): Self::Msg) -> Result<(), ActorError> {
    ///         if reply.is_waiting() {
    ///             let _ = reply.send((1..=n).product()); // only worth computing for a waiting asker
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let expensive = system.spawn(|| Expensive)?;
    /// assert_eq!(expensive.ask(|r| (10, r), Duration::from_secs(5))?, 3_628_800);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_waiting(&self) -> bool {
        self.slot.as_ref().is_some_and(|s| !s.is_abandoned())
    }
}

impl<T: Send + 'static> Drop for Reply<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            if defer_drop(Arc::as_ptr(&slot) as *const ()) {
                // Decided when its handler returns (see `Handling`).
                return;
            }
            let _ = slot.complete(Err(AskError::ReplyDropped));
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("waiting", &self.is_waiting())
            .field("deadline", &self.deadline())
            .finish()
    }
}
