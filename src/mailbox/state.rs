//! The scheduling state word (`tail`) and the run token's transitions.
//! Its bit layout is drawn in `lane.rs`.
//!
//! # Protocol
//!
//! The scheduling state lives in `tail` (idea from tokio's task `State`):
//!
//! | bits | meaning |
//! |---|---|
//! | `0` (`IDLE`) | no messages known to the runner, not queued |
//! | `SCHEDULED` | the run token is out: in a run queue, or being run |
//! | `SCHEDULED \| NOTIFIED` | a control item arrived since then |
//!
//! Queued and running are one state: the run queues hand the token from the
//! submitter to the worker (their locks order the two), so starting a turn
//! needs no RMW of its own. A control item that arrives while the actor is
//! only queued sets `NOTIFIED` too; the runner clears it at the end of the
//! turn and looks once more.
//!
//! 1. A user message's claim moves `IDLE -> SCHEDULED` in the same CAS and
//!    returns [`Schedule::Submit`] (the sender queues the actor). The runner
//!    may thus meet a claimed slot whose sender is still writing it; it waits
//!    for the `WRITTEN` mark, which comes a few instructions later.
//! 2. A control item is queued under the lock, and before the lock is
//!    released [`Mailbox::transition_to_scheduled`] does an RMW on `tail`
//!    whatever the state: `IDLE -> SCHEDULED` ([`Schedule::Submit`]),
//!    otherwise it sets `NOTIFIED`. Under the lock, because a close (which
//!    takes it) must find the push either refused or complete: a push whose
//!    item the runner took and whose actor then stopped and went idle, all
//!    before the push's RMW, would take the token of a dead actor. The cell
//!    releases its token's reference at the final turn (`Cell::submit`), so
//!    that token must never be handed out again (modelled in
//!    `loom-tests/mailbox.rs`, which found this race).
//! 3. The worker that pops the actor runs its turn; the token came with the
//!    task ([`Mailbox::transition_to_running`] only checks it in debug builds).
//! 4. After its turn it calls [`Mailbox::transition_to_idle`]: with work left
//!    it keeps the token and reschedules; otherwise it tries one CAS from
//!    the `tail` it read (position equal to its head, `SCHEDULED`) to `IDLE`. A
//!    claim since then changed the position, and a control item set `NOTIFIED`
//!    (the runner clears it and looks again), so the CAS fails and the
//!    message is seen. A message is thus seen either by the runner or by the
//!    sender's transition, never by neither (modelled in
//!    `loom-tests/mailbox.rs`).
//! 5. Going idle with an empty lane, the runner frees its block: it parks
//!    `tail` on the current lap's installing position (senders wait), clears
//!    both block pointers, and moves `tail` to the next lap with `FIRST`, where
//!    the next sender writes `first` and the one after allocates a fresh
//!    block.

use super::*;

// `tail`: flags in the low bits, then the position, then the counted messages.
pub(super) const CLOSED: u64 = 1;
pub(super) const SCHEDULED: u64 = 2;
/// The lap at the position began with no block (a new mailbox, or the
/// consumer freed the last block), and its first position, still unclaimed,
/// is the mailbox's own slot (`Mailbox::first`). Cleared by the claim of that
/// position.
pub(super) const FIRST: u64 = 4;
pub(super) const NOTIFIED: u64 = 8;
/// Actors' sends wait in `parked`: newcomers must queue behind them.
pub(super) const PARKED: u64 = 16;
/// Outside threads wait on `room`.
pub(super) const BLOCKED: u64 = 32;
pub(super) const IDLE: u64 = 0;
pub(super) const STATE: u64 = SCHEDULED | NOTIFIED;
pub(super) const POS_SHIFT: u32 = 6;
/// Positions wrap at `2^34`. A sender's CAS from a stale word could succeed
/// only if exactly `2^34` positions (and the same count and flags) passed
/// while it was preempted between its load and its CAS.
pub(super) const POS_MASK: u64 = (1 << 34) - 1;
pub(super) const COUNT_SHIFT: u32 = 40;
pub(super) const ONE_COUNT: u64 = 1 << COUNT_SHIFT;
/// The largest capacity the 24-bit count can hold; larger ones are clamped
/// to it (16.7 million messages, unbounded for any practical purpose).
pub(crate) const MAX_CAPACITY: usize = (1 << (64 - COUNT_SHIFT)) - 1;

pub(super) fn pos(t: u64) -> u64 {
    (t >> POS_SHIFT) & POS_MASK
}

pub(super) fn count(t: u64) -> usize {
    (t >> COUNT_SHIFT) as usize
}

pub(super) fn next_pos(p: u64) -> u64 {
    (p + 1) & POS_MASK
}

pub(super) fn with_pos(t: u64, p: u64) -> u64 {
    (t & !(POS_MASK << POS_SHIFT)) | ((p & POS_MASK) << POS_SHIFT)
}

impl<M, C> Mailbox<M, C> {
    /// Step 2 of the protocol, for a control item: always an RMW on `tail`, so
    /// whoever next changes the state (the runner going idle, or the worker
    /// starting it) sees the item.
    pub(crate) fn transition_to_scheduled(&self) -> Schedule {
        // ORDERING: Relaxed for the first read; the CAS decides.
        let mut cur = self.tail.load(Ordering::Relaxed);
        loop {
            let (next, schedule) = match cur & STATE {
                IDLE => (cur | SCHEDULED, Schedule::Submit),
                _ => (cur | NOTIFIED, Schedule::DoNothing),
            };
            // ORDERING: AcqRel. Release orders our push (made under the lock we
            // hold) before the runner's next RMW on `tail`, which reads this
            // or a later value of the RMW chain; Acquire pairs with the runner's
            // Release when it went IDLE, so the worker we submit to sees
            // everything the last run did.
            match self
                .tail
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return schedule,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Step 3, called by the worker that popped the actor from a run queue.
    /// Nothing to change: the token came with the task, and the run queue's
    /// lock ordered the submitter's work (and its RMW that set `SCHEDULED`)
    /// before this turn. Checked in debug builds only.
    #[inline]
    pub(crate) fn transition_to_running(&self) {
        // ORDERING: Relaxed; a check of a bit only the token holder clears.
        debug_assert!(
            self.tail.load(Ordering::Relaxed) & SCHEDULED != 0,
            "an actor ran without being scheduled"
        );
    }

    /// Step 4, called by the runner at the end of a turn. `drained` says the
    /// turn ended because `pop` found nothing it could take: the control lane
    /// needs no second look, since a control item since then sets NOTIFIED,
    /// which fails the CAS below and brings the look back. User messages need
    /// no look at all: the CAS expects the position the consumer is at.
    ///
    /// `keep_block`: leave an empty lane's block in place instead of freeing
    /// it (step 5), for an actor that receives messages again and again, so
    /// that waking it does not allocate a block each time.
    #[inline]
    pub(crate) fn transition_to_idle(
        &self,
        accept_user: bool,
        drained: bool,
        keep_block: bool,
    ) -> Idle {
        let mut look = !drained;
        let mut freed = keep_block;
        // ORDERING: Acquire, as in `claim`; the CAS below decides.
        let mut t = self.tail.load(Ordering::Acquire);
        loop {
            debug_assert!(t & SCHEDULED != 0);
            // ORDERING: Relaxed; only the consumer role writes `head`, and the
            // runner is the one consumer outside a close.
            let head = self.head.load(Ordering::Relaxed);
            // ORDERING: Acquire; the count was published by the control
            // sender's Release RMW on `tail`, which our RMWs on `tail` read
            // (directly or through the RMW chain).
            let work = (accept_user && pos(t) != head)
                || (look && self.controls.load(Ordering::Acquire) != 0);
            if work {
                // The token stays out: the task goes back to a run queue,
                // whose lock orders this turn before the next. A NOTIFIED
                // left set costs the next turn one more look.
                return Idle::Reschedule;
            }
            if t & NOTIFIED != 0 {
                // ORDERING: AcqRel; Acquire pairs with the control sender's
                // Release that set NOTIFIED, so the look sees its item. Only
                // the runner clears NOTIFIED.
                t = self.tail.fetch_and(!NOTIFIED, Ordering::AcqRel) & !NOTIFIED;
                look = true;
                continue;
            }
            if !freed && pos(t) == head {
                freed = true;
                if let Some(role) = self.try_consumer() {
                    self.free_if_empty(&role);
                    drop(role);
                    // ORDERING: Acquire, as above.
                    t = self.tail.load(Ordering::Acquire);
                    continue;
                }
            }
            // ORDERING: AcqRel. Release publishes this run to the sender that
            // will schedule us next; Acquire (on failure too) reads the claim
            // or notice that changed `tail`.
            match self
                .tail
                .compare_exchange(t, t & !SCHEDULED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Idle::Done,
                Err(actual) => t = actual,
            }
        }
    }
}
