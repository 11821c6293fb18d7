//! The control lane (stop requests, resume notices, ask continuations) and closing.
//!
//! The lock (`slow`) guards only what is rare: the control lane, parked sends,
//! the wait of blocked outside senders, and closing. A close takes the
//! consumer role, then the lock, closes the lane in `tail` and drains what
//! the claims before it wrote; a control push checks `closed` and does its
//! RMW on `tail` under the same lock (step 2 of the protocol in `state.rs`).

use super::*;

/// What the lock guards: the rare paths.
pub(super) struct Slow<M, C> {
    /// The queues, boxed on first use and freed once both are empty again,
    /// so the many actors that never use them pay one pointer.
    pub(super) queues: Option<Box<Queues<M, C>>>,
    /// No user message is accepted (the actor is stopping).
    pub(super) user_closed: bool,
    /// Nothing is accepted (the actor has stopped).
    pub(super) closed: bool,
}

pub(super) struct Queues<M, C> {
    pub(super) control: ControlLane<C>,
    pub(super) parked: VecDeque<Parked<M>>,
}

/// The control lane's items in order: the oldest in `first` when it is
/// alone, the rest in a deque. Most control lanes hold one item at a time
/// (a stop request, a resume notice), which then costs no buffer beside
/// the queues' box.
///
/// # Invariants
///
/// `first` is filled only while `rest` is empty, so the item in it is
/// older than every item in `rest`: popping `first`, then `rest`'s front,
/// keeps the order of pushes.
pub(super) struct ControlLane<C> {
    first: Option<C>,
    rest: VecDeque<C>,
}

impl<C> ControlLane<C> {
    fn new() -> Self {
        ControlLane {
            first: None,
            rest: VecDeque::new(),
        }
    }

    pub(super) fn push_back(&mut self, item: C) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    pub(super) fn pop_front(&mut self) -> Option<C> {
        self.first.take().or_else(|| self.rest.pop_front())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }

    /// Takes every item, oldest first.
    pub(super) fn take_all(&mut self) -> Vec<C> {
        let mut all: Vec<C> = std::mem::take(&mut self.rest).into();
        if let Some(first) = self.first.take() {
            all.insert(0, first);
        }
        all
    }
}

impl<M, C> Slow<M, C> {
    pub(super) fn queues(&mut self) -> &mut Queues<M, C> {
        self.queues.get_or_insert_with(|| {
            Box::new(Queues {
                control: ControlLane::new(),
                parked: VecDeque::new(),
            })
        })
    }

    pub(super) fn parked_len(&self) -> usize {
        self.queues.as_ref().map_or(0, |q| q.parked.len())
    }

    pub(super) fn pop_control(&mut self) -> Option<C> {
        let c = self.queues.as_mut()?.control.pop_front();
        self.tidy();
        c
    }

    pub(super) fn parked_back(&self) -> Option<&Parked<M>> {
        self.queues.as_ref()?.parked.back()
    }

    pub(super) fn pop_parked(&mut self) -> Option<Parked<M>> {
        self.queues.as_mut()?.parked.pop_front()
    }

    /// Frees the queues once both are empty.
    pub(super) fn tidy(&mut self) {
        if self
            .queues
            .as_ref()
            .is_some_and(|q| q.control.is_empty() && q.parked.is_empty())
        {
            self.queues = None;
        }
    }
}

impl<M, C> Mailbox<M, C> {
    /// Pushes a control item. Refused only once the mailbox is fully closed.
    pub(crate) fn push_control(&self, item: C) -> Result<Schedule, C> {
        let mut slow = self.slow.lock();
        if slow.closed {
            return Err(item);
        }
        slow.queues().control.push_back(item);
        // ORDERING: Relaxed; the RMW on `tail` below publishes it (see there).
        self.controls.fetch_add(1, Ordering::Relaxed);
        // Still under the lock: a close is ordered wholly before this push
        // (refused above) or wholly after its RMW (module docs, step 2).
        let schedule = self.transition_to_scheduled();
        drop(slow);
        Ok(schedule)
    }

    /// Closes the user lane: no claim succeeds from now on. Returns the end
    /// position; every position before it is claimed and will be written.
    pub(super) fn close_lane(&self) -> u64 {
        let backoff = Backoff::new();
        // ORDERING: Acquire, as in `claim`.
        let mut t = self.tail.load(Ordering::Acquire);
        loop {
            if offset(pos(t)) == BLOCK_CAP {
                // A sender is installing a block: let it move past the marker.
                backoff.snooze();
                // ORDERING: Acquire, as above.
                t = self.tail.load(Ordering::Acquire);
                continue;
            }
            // ORDERING: AcqRel; the claims before it are ours to drain.
            match self.tail.compare_exchange_weak(
                t,
                t | CLOSED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return pos(t),
                Err(actual) => t = actual,
            }
        }
    }

    /// Takes every user message before `end`.
    pub(super) fn drain_user(&self, role: &Consumer<'_>, end: u64) -> Vec<M> {
        let mut out = Vec::new();
        let mut counted = 0;
        // ORDERING: Relaxed; only the consumer role writes `head`.
        while self.head.load(Ordering::Relaxed) != end {
            let (m, c, _) = self
                .take_head(role)
                .expect("positions before the end are claimed");
            counted += usize::from(c);
            out.extend(m);
        }
        // The places taken before, not yet given back, go back now too.
        // ORDERING: Relaxed; only the consumer role touches it.
        counted += self.pending.load(Ordering::Relaxed) as usize;
        // ORDERING: Relaxed, as above.
        self.pending.store(0, Ordering::Relaxed);
        // ORDERING: Relaxed; a count (closing wakes the waiters itself).
        self.tail
            .fetch_sub(counted as u64 * ONE_COUNT, Ordering::Relaxed);
        out
    }

    /// Refuses user messages from now on and hands back those queued and parked.
    /// Blocked outside senders wake and get their messages back as closed.
    pub(crate) fn close_user(&self) -> Drained<M, C> {
        self.close_with(false)
    }

    /// Refuses everything from now on and hands back all that is left.
    pub(crate) fn close(&self) -> Drained<M, C> {
        self.close_with(true)
    }

    pub(super) fn close_with(&self, all: bool) -> Drained<M, C> {
        let role = self.consumer();
        let mut slow = self.slow.lock();
        slow.user_closed = true;
        let end = self.close_lane();
        let user = self.drain_user(&role, end);
        let mut resumes = Resumes::new();
        let (parked, control) = match slow.queues.as_mut() {
            Some(q) => {
                let control = if all {
                    q.control.take_all()
                } else {
                    Vec::new()
                };
                (resumes.add_all(std::mem::take(&mut q.parked)), control)
            }
            None => (Vec::new(), Vec::new()),
        };
        if all {
            slow.closed = true;
            // ORDERING: Relaxed; under the lock.
            self.controls.store(0, Ordering::Relaxed);
        }
        slow.tidy();
        // ORDERING: Relaxed; under the lock, like every flag change.
        let prev = self.tail.fetch_and(!(PARKED | BLOCKED), Ordering::Relaxed);
        if prev & BLOCKED != 0 {
            self.room.notify_all();
        }
        drop(slow);
        self.free_if_empty(&role);
        Drained {
            user,
            control,
            parked,
            resumes,
        }
    }
}
