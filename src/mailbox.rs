//! An actor's bounded mailbox (a user lane and a control lane) and its scheduling state.
//!
//! # Invariants
//!
//! - The user lane never holds more than `capacity` messages, except for
//!   messages that could never get in otherwise: an actor's sends to itself, and
//!   a send that would close a cycle of suspended actors (see
//!   [`Mailbox::push_or_park`]).
//! - The control lane is unbounded: stop requests, resume notices and ask
//!   continuations must get through a full user lane, and each is created by a
//!   bounded event (one per stop, per parked send, per ask).
//! - An actor is in at most one run queue and run by at most one worker: only the
//!   caller that moves the state from `IDLE` to `SCHEDULED` submits it, and only
//!   the worker that pops it moves it to `RUNNING`.
//! - Storage grows lazily: an empty mailbox owns no buffer.
//!
//! # Protocol
//!
//! The scheduling state is one atomic word (idea from tokio's task `State`):
//!
//! | bits | meaning |
//! |---|---|
//! | `0` (`IDLE`) | no messages known to the runner, not queued |
//! | `SCHEDULED` | in a run queue, not yet running |
//! | `RUNNING` | a worker is handling messages |
//! | `RUNNING \| NOTIFIED` | a message arrived during the run |
//!
//! 1. A sender pushes under the queue lock, releases it, then calls
//!    [`Mailbox::transition_to_scheduled`]: `IDLE -> SCHEDULED` returns
//!    [`Schedule::Submit`] (the sender queues the actor), `RUNNING -> RUNNING |
//!    NOTIFIED` and `SCHEDULED` return [`Schedule::DoNothing`].
//! 2. The worker that pops the actor calls [`Mailbox::transition_to_running`].
//! 3. After its turn it calls [`Mailbox::transition_to_idle`]: if the lanes hold
//!    work it moves to `SCHEDULED` and reschedules; otherwise it tries
//!    `RUNNING -> IDLE`. If that fails, a sender set `NOTIFIED` after pushing, so
//!    the worker clears `NOTIFIED` and checks the lanes again. A message is thus
//!    seen either by the runner's check or by the sender's transition, never by
//!    neither (modelled in `loom-tests/mailbox.rs`).
//!
//! # Memory ordering
//!
//! The messages themselves are published by the queue lock. The state word only
//! decides who schedules; its RMWs are `AcqRel` so that a sender's `NOTIFIED` (set
//! after its push) and the runner's `IDLE` (set after its empty check) are ordered
//! with the lock operations around them.

use crate::sync::{AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};
use std::collections::VecDeque;
use std::time::Instant;

/// User-lane slots an empty mailbox keeps allocated; a larger buffer left by a
/// burst is freed once the lane empties.
const RETAINED_SLOTS: usize = 8;

const IDLE: usize = 0;
const SCHEDULED: usize = 1;
const RUNNING: usize = 2;
const NOTIFIED: usize = 4;

/// What a sender must do after a successful push.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub enum Schedule {
    /// The mailbox was idle: the caller now owns the only run token and must
    /// submit the actor to a run queue.
    Submit,
    /// The actor is queued or running and will see the message.
    DoNothing,
}

/// What the runner must do at the end of a turn.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub enum Idle {
    /// Work remains: the actor is `SCHEDULED` again and must be requeued.
    Reschedule,
    /// The actor is idle; the next push schedules it.
    Done,
}

/// Why a push did not go through; the item is handed back beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Full,
    Closed,
    Timeout,
}

/// Wakes an actor suspended by a parked send once its message is in the target
/// mailbox (`delivered == true`) or was dropped because the target stopped.
pub(crate) trait SendWaker: Send + Sync {
    /// `target` is the id of the actor the message was parked with.
    fn wake(self: crate::sync::Arc<Self>, target: u64, delivered: bool);
}

/// A message whose sender (an actor on a pool worker) is suspended until it fits.
pub(crate) struct Parked<M> {
    pub(crate) item: M,
    pub(crate) waker: crate::sync::Arc<dyn SendWaker>,
}

/// One item taken from a mailbox: control items come first.
pub(crate) enum Popped<M, C> {
    Control(C),
    User(M),
}

/// Everything a mailbox held when it was closed.
pub(crate) struct Drained<M, C> {
    pub(crate) user: Vec<M>,
    pub(crate) control: Vec<C>,
    pub(crate) parked: Vec<Parked<M>>,
}

/// The result of [`Mailbox::push_or_park`].
pub(crate) enum Sent {
    Pushed(Schedule),
    Parked,
}

struct Lanes<M, C> {
    user: VecDeque<M>,
    /// Sequence numbers (see `pushed`) of the queued user messages that do not
    /// count toward capacity: sends to self and cycle-breaking sends. They must
    /// not hold the lane full, or parked and blocked senders would starve.
    exempt: VecDeque<u64>,
    /// User messages ever pushed / popped: the sequence numbers of the lane.
    pushed: u64,
    popped: u64,
    control: VecDeque<C>,
    parked: VecDeque<Parked<M>>,
    /// Outside threads waiting on `room`.
    blocked: usize,
    /// No user message is accepted (the actor is stopping).
    user_closed: bool,
    /// Nothing is accepted (the actor has stopped).
    closed: bool,
}

impl<M, C> Lanes<M, C> {
    /// Queued user messages that count toward capacity.
    fn occupied(&self) -> usize {
        self.user.len() - self.exempt.len()
    }

    fn has_room(&self, capacity: usize) -> bool {
        // Parked senders are ahead of everyone: while any wait, the lane is full
        // for newcomers, which also keeps each actor's parked sends in order.
        self.occupied() < capacity && self.parked.is_empty()
    }

    fn push_user(&mut self, m: M, exempt: bool) {
        if exempt {
            self.exempt.push_back(self.pushed);
        }
        self.pushed += 1;
        self.user.push_back(m);
    }

    fn pop_user(&mut self) -> Option<M> {
        let m = self.user.pop_front()?;
        if self.exempt.front() == Some(&self.popped) {
            self.exempt.pop_front();
        }
        self.popped += 1;
        Some(m)
    }

    fn drain_user(&mut self) -> Vec<M> {
        self.exempt.clear();
        self.popped = self.pushed;
        self.user.drain(..).collect()
    }
}

/// A bounded two-lane mailbox with its scheduling state.
pub(crate) struct Mailbox<M, C> {
    state: AtomicUsize,
    lanes: Mutex<Lanes<M, C>>,
    /// Signalled when a user slot frees up or the mailbox closes.
    room: Condvar,
    capacity: usize,
    low_watermark: usize,
}

impl<M, C> Mailbox<M, C> {
    /// A mailbox holding at most `capacity` user messages (`capacity >= 1`). Parked
    /// senders resume when the lane drains to `capacity / 2`.
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(capacity >= 1);
        Mailbox {
            state: AtomicUsize::new(IDLE),
            lanes: Mutex::new(Lanes {
                user: VecDeque::new(),
                exempt: VecDeque::new(),
                pushed: 0,
                popped: 0,
                control: VecDeque::new(),
                parked: VecDeque::new(),
                blocked: 0,
                user_closed: false,
                closed: false,
            }),
            room: Condvar::new(),
            capacity,
            low_watermark: capacity / 2,
        }
    }

    /// A mailbox that starts out `SCHEDULED`: its creator must submit it.
    pub(crate) fn new_scheduled(capacity: usize) -> Self {
        let mb = Mailbox::new(capacity);
        // ORDERING: Relaxed. The mailbox is not shared yet; submitting it to a run
        // queue publishes it.
        mb.state.store(SCHEDULED, Ordering::Relaxed);
        mb
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// User messages queued now (parked ones included).
    pub(crate) fn len(&self) -> usize {
        let lanes = self.lanes.lock();
        lanes.user.len() + lanes.parked.len()
    }

    /// Pushes a user message if there is room, mapping it only once it is sure
    /// to be accepted, so a refusal hands back the caller's own value.
    pub(crate) fn try_push_with<T>(
        &self,
        value: T,
        map: impl FnOnce(T) -> M,
    ) -> Result<Schedule, (T, Refused)> {
        let mut lanes = self.lanes.lock();
        if lanes.user_closed {
            return Err((value, Refused::Closed));
        }
        if !lanes.has_room(self.capacity) {
            return Err((value, Refused::Full));
        }
        lanes.push_user(map(value), false);
        drop(lanes);
        Ok(self.transition_to_scheduled())
    }

    /// Pushes a user message, waiting for room until `deadline` (for ever when
    /// `None`). For threads outside the pool only.
    pub(crate) fn push_blocking_with<T>(
        &self,
        value: T,
        deadline: Option<Instant>,
        map: impl FnOnce(T) -> M,
    ) -> Result<Schedule, (T, Refused)> {
        let mut lanes = self.lanes.lock();
        loop {
            if lanes.user_closed {
                return Err((value, Refused::Closed));
            }
            if lanes.has_room(self.capacity) {
                lanes.push_user(map(value), false);
                drop(lanes);
                return Ok(self.transition_to_scheduled());
            }
            lanes = match deadline {
                None => self.wait_room(lanes, None),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err((value, Refused::Timeout));
                    }
                    self.wait_room(lanes, Some(d - now))
                }
            };
        }
    }

    fn wait_room<'a>(
        &self,
        mut lanes: MutexGuard<'a, Lanes<M, C>>,
        timeout: Option<std::time::Duration>,
    ) -> MutexGuard<'a, Lanes<M, C>> {
        lanes.blocked += 1;
        let mut lanes = match timeout {
            None => self.room.wait(lanes),
            Some(t) => self.room.wait_timeout(lanes, t),
        };
        lanes.blocked -= 1;
        lanes
    }

    /// Pushes a user message from an actor running on a pool worker, which must
    /// not block. A send to self (`to_self`) goes in whatever the room and does
    /// not count toward capacity: the actor could never drain its own mailbox
    /// while waiting on it. Otherwise, with no room, `park` decides: `Some(waker)`
    /// parks the message here and `waker` is woken once it has moved into the
    /// lane (the sending actor stays suspended until then); `None` pushes it in
    /// without counting it, for a send that would close a cycle of suspended
    /// actors.
    pub(crate) fn push_or_park<T>(
        &self,
        value: T,
        to_self: bool,
        park: impl FnOnce() -> Option<crate::sync::Arc<dyn SendWaker>>,
        map: impl FnOnce(T) -> M,
    ) -> Result<Sent, T> {
        let mut lanes = self.lanes.lock();
        if lanes.user_closed {
            return Err(value);
        }
        let room = lanes.has_room(self.capacity);
        // Mapped before deciding, so a panicking mapping leaves no trace.
        let item = map(value);
        let exempt = if to_self {
            true
        } else if room {
            false
        } else if let Some(waker) = park() {
            lanes.parked.push_back(Parked { item, waker });
            return Ok(Sent::Parked);
        } else {
            true
        };
        lanes.push_user(item, exempt);
        drop(lanes);
        Ok(Sent::Pushed(self.transition_to_scheduled()))
    }

    /// Pushes a control item. Refused only once the mailbox is fully closed.
    pub(crate) fn push_control(&self, item: C) -> Result<Schedule, C> {
        let mut lanes = self.lanes.lock();
        if lanes.closed {
            return Err(item);
        }
        lanes.control.push_back(item);
        drop(lanes);
        Ok(self.transition_to_scheduled())
    }

    /// Takes the next item: control first, then (if `accept_user`) user messages.
    ///
    /// Taking a user message makes room: one blocked outside sender is woken, and
    /// when the lane has drained to the low watermark parked sends move in and
    /// their wakers are returned, to be woken by the caller outside any lock.
    pub(crate) fn pop(
        &self,
        accept_user: bool,
        wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>,
    ) -> Option<Popped<M, C>> {
        let mut lanes = self.lanes.lock();
        if let Some(c) = lanes.control.pop_front() {
            if lanes.control.is_empty() {
                // Control items are rare: give the buffer back rather than keep
                // it for the actor's whole life.
                lanes.control = VecDeque::new();
            }
            return Some(Popped::Control(c));
        }
        if !accept_user {
            return None;
        }
        let m = lanes.pop_user()?;
        if lanes.user.is_empty() && lanes.user.capacity() > RETAINED_SLOTS {
            // A burst is over: free its buffer, keep a small one for the
            // steady state so a busy actor does not allocate per message.
            lanes.user = VecDeque::new();
        }
        if !lanes.parked.is_empty() && lanes.occupied() <= self.low_watermark {
            while lanes.occupied() < self.capacity {
                let Some(p) = lanes.parked.pop_front() else {
                    break;
                };
                lanes.push_user(p.item, false);
                wakers.push(p.waker);
            }
        }
        // Blocked outside senders are woken in a batch once the lane has
        // drained to the low watermark, not one per message: a futex wake per
        // pop would cost more than the message. A sender whose deadline comes
        // first re-checks the room before giving up, so none times out while
        // there is room.
        if lanes.blocked > 0 && lanes.parked.is_empty() && lanes.occupied() <= self.low_watermark {
            self.room.notify_all();
        }
        Some(Popped::User(m))
    }

    /// Refuses user messages from now on and hands back those queued and parked.
    /// Blocked outside senders wake and get their messages back as closed.
    pub(crate) fn close_user(&self) -> Drained<M, C> {
        let mut lanes = self.lanes.lock();
        lanes.user_closed = true;
        let drained = Drained {
            user: lanes.drain_user(),
            control: Vec::new(),
            parked: lanes.parked.drain(..).collect(),
        };
        if lanes.blocked > 0 {
            self.room.notify_all();
        }
        drained
    }

    /// Refuses everything from now on and hands back all that is left.
    pub(crate) fn close(&self) -> Drained<M, C> {
        let mut lanes = self.lanes.lock();
        lanes.closed = true;
        lanes.user_closed = true;
        let drained = Drained {
            user: lanes.drain_user(),
            control: lanes.control.drain(..).collect(),
            parked: lanes.parked.drain(..).collect(),
        };
        if lanes.blocked > 0 {
            self.room.notify_all();
        }
        drained
    }

    /// Step 1 of the protocol, called by a sender after its push.
    pub(crate) fn transition_to_scheduled(&self) -> Schedule {
        // ORDERING: Relaxed for the first read; the CAS decides.
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            let next = match cur {
                IDLE => SCHEDULED,
                RUNNING => RUNNING | NOTIFIED,
                _ => return Schedule::DoNothing,
            };
            // ORDERING: AcqRel. Release orders our push (made under the lock just
            // released) before the state the runner reads in transition_to_idle;
            // Acquire pairs with the runner's Release when it went IDLE, so the
            // worker we submit to sees everything the last run did.
            match self
                .state
                .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) if next == SCHEDULED => return Schedule::Submit,
                Ok(_) => return Schedule::DoNothing,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Step 2, called by the worker that popped the actor from a run queue.
    pub(crate) fn transition_to_running(&self) {
        // ORDERING: AcqRel swap. Acquire pairs with the Release of whoever moved
        // the state to SCHEDULED (a sender or the previous runner). A swap, not a
        // store, because no one else writes while SCHEDULED.
        let prev = self.state.swap(RUNNING, Ordering::AcqRel);
        debug_assert_eq!(prev, SCHEDULED, "an actor ran without being scheduled");
    }

    /// Step 3, called by the runner at the end of a turn. `drained` says the
    /// turn ended because `pop` found nothing it could take: the lanes need no
    /// second look, since a push since then finds the actor RUNNING and sets
    /// NOTIFIED, which fails the CAS below and brings the look back.
    pub(crate) fn transition_to_idle(&self, accept_user: bool, drained: bool) -> Idle {
        let mut look = !drained;
        loop {
            if look && self.has_work(accept_user) {
                // ORDERING: AcqRel swap; we own the run token, so whatever the
                // word holds (RUNNING, maybe NOTIFIED) becomes SCHEDULED. Release
                // publishes this run's effects to the next runner.
                let prev = self.state.swap(SCHEDULED, Ordering::AcqRel);
                debug_assert!(prev & RUNNING != 0);
                return Idle::Reschedule;
            }
            // ORDERING: AcqRel. Release publishes this run to the sender that will
            // schedule us next; Acquire (on failure too) pairs with the sender's
            // Release that set NOTIFIED, so the re-check sees its push.
            match self
                .state
                .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Idle::Done,
                Err(actual) => {
                    debug_assert_eq!(actual, RUNNING | NOTIFIED);
                    // ORDERING: AcqRel, as above; only the runner clears NOTIFIED.
                    let _ = self.state.compare_exchange(
                        RUNNING | NOTIFIED,
                        RUNNING,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    look = true;
                }
            }
        }
    }

    fn has_work(&self, accept_user: bool) -> bool {
        let lanes = self.lanes.lock();
        !lanes.control.is_empty() || (accept_user && !lanes.user.is_empty())
    }

    /// Whether a worker is running the actor now.
    pub(crate) fn is_running(&self) -> bool {
        // ORDERING: Relaxed; a diagnostic read (shutdown's stuck report).
        self.state.load(Ordering::Relaxed) & RUNNING != 0
    }
}
