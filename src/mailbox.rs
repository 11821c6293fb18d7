//! An actor's bounded mailbox (a lock-free user lane and a locked control lane) and its scheduling state.
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
//!   caller that moves the state from `IDLE` to `SCHEDULED` submits it, only
//!   the worker that pops it runs it, and only that runner moves it back.
//! - Storage grows lazily: a new mailbox owns no buffer, and one whose actor
//!   goes idle after its first turn with messages frees its block (an actor
//!   that handled messages before keeps one, so waking it does not allocate).
//!   Messages live in blocks of `BLOCK_CAP` slots, allocated by the senders
//!   as the lane grows and freed by the consumer as it passes them (into the
//!   process's spare blocks, `crate::spare`, which the next allocation takes
//!   from), except the first message of a lap that begins with no block,
//!   which goes in the mailbox's own slot (`first`): an actor spawned and
//!   sent one message never allocates a block. The control and parked queues
//!   are boxed only while in use.
//! - One consumer at a time: taking user messages, closing and freeing blocks
//!   need the consumer role (`consumer`), which the runner takes for each pop,
//!   so a close from outside the pool (shutdown abandoning a stuck actor) never
//!   races the runner.
//!
//! # The user lane
//!
//! The user lane is an unbounded multi-producer single-consumer queue of
//! linked blocks (the list flavour of crossbeam's channel, reduced to one
//! consumer), with the bound enforced in the same word that hands out the
//! positions:
//!
//! - `tail` packs the scheduling state, four flags, the next free position
//!   and the number of queued messages that count toward capacity. A sender
//!   claims a position with one CAS that also checks and raises the count (for
//!   a counted message) and moves `IDLE` to `SCHEDULED`, then writes the slot
//!   and marks it `WRITTEN`. Sends to self and cycle-breaking sends claim
//!   without counting. The last position of each lap of `LAP` positions is no
//!   slot: a sender whose claim lands there is installing the next block, and
//!   the others wait for it.
//! - `FIRST` says the lap at the position began with no block (a new
//!   mailbox, or step 5 below freed the last one) and its first position is
//!   unclaimed. Its claim clears the flag and writes `first`, with no block;
//!   the next claim finds no block and installs one (slot 0 of that block
//!   goes unused). The flag, not the block pointer, decides: a sender that
//!   read `tail` before a free may install a block after it, which then
//!   serves the new lap from its second position (modelled in
//!   `loom-tests/mailbox.rs`). The consumer knows the lap began so, having
//!   begun it (`head_in_first`), and empties `first` as it takes it, before
//!   any later lap can begin.
//! - `PARKED` says actors' sends wait in `parked`, so newcomers queue behind
//!   them; `BLOCKED` says outside threads wait on `room`; `CLOSED` refuses
//!   every claim.
//!
//! ```text
//! tail: | counted (24 bits) | position (34 bits) | BLOCKED | PARKED | NOTIFIED | FIRST | SCHEDULED | CLOSED |
//! ```
//!
//! The lock (`slow`) guards only what is rare: the control lane, parked sends,
//! the wait of blocked outside senders, and closing.
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
//!
//! Capacity: a pop of a counted message subtracts it from `tail`. If the
//! previous word had `PARKED` or `BLOCKED` and the count is now at the low
//! watermark, the consumer takes the lock, moves parked sends in (their
//! wakers are returned) and wakes the blocked senders in one batch. A blocked
//! sender sets `BLOCKED` with a CAS on the very word whose count it found full,
//! under the lock it then waits on, so a pop either comes before (the CAS fails
//! and the sender looks again) or sees the flag and notifies after the sender
//! waits. Parking sets `PARKED` the same way.
//!
//! # Memory ordering
//!
//! A message is published by the Release store of its slot's `WRITTEN` mark,
//! read with Acquire by the consumer (`first` too: the consumer clears its
//! mark before the Release RMW on `tail` that begins the next lap in it, and
//! its next writer claims from that lap with Acquire). The decisions above
//! rest on single words:
//! every change of `tail` after construction is an RMW, so the consumer's RMWs
//! on it read the latest claim or notification, and (through the release
//! sequence) see what a control sender did before its RMW. The count and the
//! `PARKED`/`BLOCKED` flags need no ordering beyond the atomicity of those
//! RMWs: what must be seen together lives in the one word, and the lock
//! orders the rest.

#![allow(unsafe_code)] // the lane's slots: see the SAFETY comments below

use crate::sync::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Backoff, Condvar, Mutex, Ordering,
    UnsafeCell,
};
use std::alloc::Layout;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};
use std::time::Instant;

// `tail`: flags in the low bits, then the position, then the counted messages.
const CLOSED: u64 = 1;
const SCHEDULED: u64 = 2;
/// The lap at the position began with no block (a new mailbox, or the
/// consumer freed the last block), and its first position, still unclaimed,
/// is the mailbox's own slot (`Mailbox::first`). Cleared by the claim of that
/// position. (Bit 2 was `RUNNING` before queued and running became one
/// state.)
const FIRST: u64 = 4;
const NOTIFIED: u64 = 8;
/// Actors' sends wait in `parked`: newcomers must queue behind them.
const PARKED: u64 = 16;
/// Outside threads wait on `room`.
const BLOCKED: u64 = 32;
const IDLE: u64 = 0;
const STATE: u64 = SCHEDULED | NOTIFIED;
const POS_SHIFT: u32 = 6;
/// Positions wrap at `2^34`. A sender's CAS from a stale word could succeed
/// only if exactly `2^34` positions (and the same count and flags) passed
/// while it was preempted between its load and its CAS.
const POS_MASK: u64 = (1 << 34) - 1;
const COUNT_SHIFT: u32 = 40;
const ONE_COUNT: u64 = 1 << COUNT_SHIFT;
/// The largest capacity the 24-bit count can hold; larger ones are clamped
/// to it (16.7 million messages, unbounded for any practical purpose).
const MAX_CAPACITY: usize = (1 << (64 - COUNT_SHIFT)) - 1;

/// The consumer gives places back in batches of `capacity >> RELEASE_SHIFT`
/// (at least one): each give-back is an RMW on the line all senders fight
/// over. The bound still holds, but a sender may find the lane full up to
/// that many places early, also while the actor is idle (it keeps fewer than
/// a batch). A sender still blocks only while the lane holds messages the
/// consumer has yet to take: with `count >= capacity` and fewer than a batch
/// held back, at least one is queued. Taking them all gives back enough
/// batches to reach the low watermark, which moves parked sends in and wakes
/// blocked senders. A consumer that stops taking user messages (suspended)
/// gives back what it holds at once, and a close gives back everything.
#[cfg(not(loom))]
const RELEASE_SHIFT: u32 = 5;
/// Under loom, batches of half the capacity, so small models batch.
#[cfg(loom)]
const RELEASE_SHIFT: u32 = 1;

/// Positions per block; the last one of each lap is not a slot but the marker
/// of a block being installed (or freed). A power of two dividing `2^34`.
#[cfg(not(loom))]
const LAP: u64 = 16;
#[cfg(loom)]
const LAP: u64 = 4;
const BLOCK_CAP: usize = (LAP - 1) as usize;
// A lap that starts in the mailbox's own slot still has a block for the
// rest, and the claim of its last slot installs the next one.
const _: () = assert!(BLOCK_CAP >= 3);

// A slot's state.
const WRITTEN: usize = 1;
/// The message does not count toward capacity.
const EXEMPT: usize = 2;
/// The sender's message mapping panicked: no message, skip the slot.
const HOLE: usize = 4;

fn pos(t: u64) -> u64 {
    (t >> POS_SHIFT) & POS_MASK
}

fn count(t: u64) -> usize {
    (t >> COUNT_SHIFT) as usize
}

fn next_pos(p: u64) -> u64 {
    (p + 1) & POS_MASK
}

fn offset(p: u64) -> usize {
    (p % LAP) as usize
}

fn with_pos(t: u64, p: u64) -> u64 {
    (t & !(POS_MASK << POS_SHIFT)) | ((p & POS_MASK) << POS_SHIFT)
}

/// How a claim is admitted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Admit {
    /// Counts toward capacity; needs room (and no parked sends).
    Counted,
    /// As `Counted`, but with no room sets `flag` (`PARKED` or `BLOCKED`) on
    /// the very word found full before reporting `Full`.
    CountedOrFlag(u64),
    /// A parked send moving in: needs room, whatever `PARKED` says.
    Parked,
    /// Does not count toward capacity.
    Exempt,
}

/// A claimed slot, to be written by its claimant.
struct Claim<M> {
    /// In a block, or the mailbox's own first slot.
    slot: *const Slot<M>,
    exempt: bool,
    submit: bool,
}

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

struct Slot<M> {
    msg: UnsafeCell<MaybeUninit<M>>,
    state: AtomicUsize,
}

/// `BLOCK_CAP` slots and the link to the next block.
struct Block<M> {
    next: AtomicPtr<Block<M>>,
    slots: [Slot<M>; BLOCK_CAP],
}

impl<M> Block<M> {
    /// A block with every slot empty, from the spare blocks when one is kept
    /// (see `spare`).
    fn alloc() -> *mut Block<M> {
        let block = crate::spare::alloc(Layout::new::<Block<M>>())
            .cast::<Block<M>>()
            .as_ptr();
        // SAFETY: `block` is allocated for a `Block<M>` and ours alone; the
        // writes initialise every field but the messages, which stay
        // uninitialised until a sender writes one.
        unsafe {
            ptr::addr_of_mut!((*block).next).write(AtomicPtr::new(ptr::null_mut()));
            for i in 0..BLOCK_CAP {
                ptr::addr_of_mut!((*block).slots[i].state).write(AtomicUsize::new(0));
                ptr::addr_of_mut!((*block).slots[i].msg)
                    .write(UnsafeCell::new(MaybeUninit::uninit()));
            }
        }
        block
    }

    /// # Safety
    ///
    /// `block` came from [`Block::alloc`], is freed once, and no thread uses it
    /// afterwards. Its messages are not dropped.
    unsafe fn free(block: *mut Block<M>) {
        // SAFETY: the caller's contract; dropping the fields in place drops
        // no message (they are `MaybeUninit`), only what the sync shim keeps.
        unsafe {
            ptr::drop_in_place(block);
            crate::spare::free(
                NonNull::new_unchecked(block.cast()),
                Layout::new::<Block<M>>(),
            );
        }
    }
}

/// Marks a claimed slot a hole if the sender's mapping panics, so the
/// consumer, which may already wait on the slot, skips it.
struct HoleOnUnwind<'a, M> {
    slot: &'a Slot<M>,
    exempt: usize,
    /// Set when the claim scheduled the actor: the runner must still come,
    /// for the hole and for the senders that found the actor scheduled since.
    resubmit: Option<&'a dyn Fn()>,
}

impl<M> Drop for HoleOnUnwind<'_, M> {
    fn drop(&mut self) {
        // ORDERING: Release, like a written slot's mark: the consumer's
        // Acquire load sees a finished (empty) slot.
        self.slot
            .state
            .store(WRITTEN | HOLE | self.exempt, Ordering::Release);
        if let Some(resubmit) = self.resubmit {
            resubmit();
        }
    }
}

/// What the lock guards: the rare paths.
struct Slow<M, C> {
    /// The queues, boxed on first use and freed once both are empty again,
    /// so the many actors that never use them pay one pointer.
    queues: Option<Box<Queues<M, C>>>,
    /// No user message is accepted (the actor is stopping).
    user_closed: bool,
    /// Nothing is accepted (the actor has stopped).
    closed: bool,
}

struct Queues<M, C> {
    control: VecDeque<C>,
    parked: VecDeque<Parked<M>>,
}

impl<M, C> Slow<M, C> {
    fn queues(&mut self) -> &mut Queues<M, C> {
        self.queues.get_or_insert_with(|| {
            Box::new(Queues {
                control: VecDeque::new(),
                parked: VecDeque::new(),
            })
        })
    }

    fn parked_len(&self) -> usize {
        self.queues.as_ref().map_or(0, |q| q.parked.len())
    }

    fn pop_control(&mut self) -> Option<C> {
        let c = self.queues.as_mut()?.control.pop_front();
        self.tidy();
        c
    }

    fn pop_parked(&mut self) -> Option<Parked<M>> {
        self.queues.as_mut()?.parked.pop_front()
    }

    /// Frees the queues once both are empty.
    fn tidy(&mut self) {
        if self
            .queues
            .as_ref()
            .is_some_and(|q| q.control.is_empty() && q.parked.is_empty())
        {
            self.queues = None;
        }
    }
}

/// A bounded two-lane mailbox with its scheduling state.
///
/// `repr(C)` with a gap: the words every pop touches (first), the rarely
/// written middle, then the words every sender's claim touches (last), at
/// least a cache line past the consumer's last word wherever the mailbox
/// lies (it is 8-byte aligned). Sharing a line, each claim would take it
/// from the consumer and each pop back from the senders, even for a word
/// only read on the other side. Between the two sits `first`, which both
/// sides touch, but only for the first message of a lap that began with no
/// block, and which therefore makes most of the gap: with the word of
/// padding before it, at least 24 bytes for any message of 8 bytes or more
/// (every mailbox of an actor: its envelope alone is 16), checked when the
/// mailbox type is built. The gap cost 24 bytes per actor before `first`
/// took its place; fan-in and fan-out ran 15-25% faster with it (`cargo
/// run --release --example bench`, alternating runs). `tail` comes last so
/// that, with the mailbox last in its `Cell` (also `repr(C)`), no
/// runner-written cell word shares its line.
#[repr(C)]
pub(crate) struct Mailbox<M, C> {
    /// The consumer's position; written only by the consumer role, read by `len`.
    head: AtomicU64,
    /// The block holding the head position. Written by the consumer role, and
    /// by the sender that installs the first block after it was null.
    head_block: AtomicPtr<Block<M>>,
    /// Items in the control lane, so a pop need not lock to find none.
    controls: AtomicUsize,
    /// Counted messages taken but not yet given back (fewer than `batch`, see
    /// `RELEASE_SHIFT`); only the consumer role touches it.
    pending: AtomicU32,
    /// Places given back at once (`capacity >> RELEASE_SHIFT`, at least one);
    /// here rather than computed from `capacity`, which is on the senders' line.
    batch: u32,
    /// The head is the first position of a lap that began with no block: its
    /// message is in `first`. Only the consumer role touches it.
    head_in_first: AtomicBool,
    /// The consumer role is taken. The consumer's last word (see `GAP_WORDS`).
    consumer: AtomicBool,
    /// Signalled when the user lane drains to the low watermark or closes.
    room: Condvar,
    slow: Mutex<Slow<M, C>>,
    low_watermark: usize,
    /// With `first`, keeps `capacity` a cache line past `consumer` (a test
    /// checks it).
    _gap: [u64; GAP_WORDS],
    /// The slot of the first position of a lap that began with no block
    /// (`FIRST`): an actor spawned and sent one message needs no block.
    /// Written by the claimant and emptied by the consumer, who takes it
    /// before anything can claim it again (a new lap with `FIRST` begins
    /// only once the lane is empty).
    first: Slot<M>,
    /// Read by every claim.
    capacity: usize,
    /// The block holding the tail position. In a lap that began with no
    /// block (`FIRST`), null until a sender installs one, usually the one
    /// claiming its second position; a sender that read `tail` before a free
    /// may install it earlier (see `claim`).
    tail_block: AtomicPtr<Block<M>>,
    /// Scheduling state, `CLOSED`, `FIRST`, `PARKED`, `BLOCKED`, the next
    /// position and the counted messages (see the module docs).
    tail: AtomicU64,
}

/// Words of padding between the consumer's words and the senders' (see
/// [`Mailbox`]). Loom's atomics are larger, and its models need no padding.
#[cfg(not(loom))]
const GAP_WORDS: usize = 1;
#[cfg(loom)]
const GAP_WORDS: usize = 0;

// SAFETY: the raw block pointers are owned by the mailbox: messages go in from
// any sender and come out in the consumer role, so the mailbox moves `M`s
// between threads (`M: Send`) and never shares one (no `&M` escapes).
unsafe impl<M: Send, C: Send> Send for Mailbox<M, C> {}
// SAFETY: as above; every shared access goes through atomics, the lock, or a
// slot the protocol gives one thread at a time.
unsafe impl<M: Send, C: Send> Sync for Mailbox<M, C> {}

/// The consumer role, released on drop.
struct Consumer<'a>(&'a AtomicBool);

impl Drop for Consumer<'_> {
    fn drop(&mut self) {
        // ORDERING: Release hands the head and the blocks to the next holder.
        self.0.store(false, Ordering::Release);
    }
}

impl<M, C> Mailbox<M, C> {
    /// A mailbox holding at most `capacity` user messages (`capacity >= 1`). Parked
    /// senders resume when the lane drains to `capacity / 2`.
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(capacity >= 1);
        // `first` and the gap keep the senders' words a cache line from the
        // consumer's (see `Mailbox`). Every actor's message is an envelope of
        // at least 16 bytes.
        #[cfg(not(loom))]
        const {
            assert!(std::mem::size_of::<Slot<M>>() >= 16);
        }
        // Beyond this no process could hold the messages anyway.
        let capacity = capacity.min(MAX_CAPACITY);
        Mailbox {
            tail: AtomicU64::new(IDLE | FIRST),
            tail_block: AtomicPtr::new(ptr::null_mut()),
            first: Slot {
                msg: UnsafeCell::new(MaybeUninit::uninit()),
                state: AtomicUsize::new(0),
            },
            head_in_first: AtomicBool::new(true),
            head: AtomicU64::new(0),
            head_block: AtomicPtr::new(ptr::null_mut()),
            pending: AtomicU32::new(0),
            consumer: AtomicBool::new(false),
            batch: (capacity >> RELEASE_SHIFT).max(1) as u32,
            controls: AtomicUsize::new(0),
            _gap: [0; GAP_WORDS],
            slow: Mutex::new(Slow {
                queues: None,
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
        // queue publishes it. (The one plain store to `tail`.)
        mb.tail.store(SCHEDULED | FIRST, Ordering::Relaxed);
        mb
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// User messages queued now (parked ones included).
    pub(crate) fn len(&self) -> usize {
        // ORDERING: Acquire; a snapshot for statistics, but a `tail` moved by
        // a free (a Release RMW, or a claim after it) must come with the
        // `head` the free stored before it, not an older one that would
        // count the freed lap as queued (`loom-tests/mailbox.rs`).
        let t = self.tail.load(Ordering::Acquire);
        // ORDERING: Relaxed; only a snapshot, ordered after `t` above.
        let h = self.head.load(Ordering::Relaxed);
        // Positions from the head to the tail, less the markers among them.
        // While the consumer frees a block, `head` is already past `tail`
        // (see `free_if_empty`): a wrapped distance, read as none.
        let d = pos(t).wrapping_sub(h) & POS_MASK;
        let queued = if d > POS_MASK / 2 {
            0
        } else {
            (d - (offset(h) as u64 + d) / LAP) as usize
        };
        let parked = if t & PARKED != 0 {
            self.slow.lock().parked_len()
        } else {
            0
        };
        queued + parked
    }

    /// Claims the next position, admitting it as `admit` says, with one CAS
    /// on `tail` that also moves `IDLE` to `SCHEDULED`.
    fn claim(&self, admit: Admit) -> Result<Claim<M>, Refused> {
        let backoff = Backoff::new();
        let mut spare: *mut Block<M> = ptr::null_mut();
        // ORDERING: Acquire; a position just past an installing marker must
        // come with the installer's `tail_block` store (its Release RMW below).
        let mut t = self.tail.load(Ordering::Acquire);
        let claimed = loop {
            if t & CLOSED != 0 {
                break Err(Refused::Closed);
            }
            let counted = admit != Admit::Exempt;
            if counted {
                let parked_ok = admit == Admit::Parked || t & PARKED == 0;
                if !(parked_ok && count(t) < self.capacity) {
                    let Admit::CountedOrFlag(flag) = admit else {
                        break Err(Refused::Full);
                    };
                    // Say so on the word found full: a pop either came first
                    // (the CAS fails, we look again) or sees the flag.
                    // ORDERING: Relaxed; the lock the caller holds orders the
                    // parked queue and the wait.
                    match self.tail.compare_exchange_weak(
                        t,
                        t | flag,
                        Ordering::Relaxed,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => break Err(Refused::Full),
                        Err(actual) => {
                            t = actual;
                            continue;
                        }
                    }
                }
            }
            let p = pos(t);
            let off = offset(p);
            if off == BLOCK_CAP {
                // Another sender installs the next block (or the consumer
                // frees this one): wait for it.
                backoff.snooze();
                // ORDERING: Acquire, as above.
                t = self.tail.load(Ordering::Acquire);
                continue;
            }
            let first = t & FIRST != 0;
            debug_assert!(!first || off == 0, "FIRST only at a lap's start");
            if off + 1 == BLOCK_CAP && spare.is_null() {
                // Claiming the last slot means installing the next block:
                // allocate it before the claim, so others wait less.
                spare = Block::alloc();
            }
            // The first slot needs no block. For the others: Acquire pairs
            // with the Release that stored the block (an installer, or the
            // CAS below): its slots are initialised.
            let mut block = if first {
                ptr::null_mut()
            } else {
                self.tail_block.load(Ordering::Acquire)
            };
            if block.is_null() && !first {
                // No block: the lap began in the first slot (a new mailbox,
                // or the consumer freed the last block), or, with a stale
                // `t`, the consumer has just freed the block. Whichever lap
                // the claim below lands in, the block becomes its block, and
                // a first position still unclaimed there stays the first
                // slot's (`FIRST` says so, not the block).
                let new = if spare.is_null() {
                    Block::alloc()
                } else {
                    std::mem::replace(&mut spare, ptr::null_mut())
                };
                // ORDERING: AcqRel. Release publishes the new block's
                // initialisation; Acquire orders us after the consumer's null
                // stores (so our `head_block` store below comes after its).
                match self.tail_block.compare_exchange(
                    ptr::null_mut(),
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        // ORDERING: Release publishes the block to the
                        // consumer, which loads `head_block` with Acquire.
                        self.head_block.store(new, Ordering::Release);
                        block = new;
                    }
                    Err(_) => {
                        spare = new;
                        // ORDERING: Acquire, as above.
                        t = self.tail.load(Ordering::Acquire);
                        continue;
                    }
                }
            }
            let submit = t & STATE == IDLE;
            let mut next = with_pos(t, next_pos(p)) & !FIRST;
            if counted {
                next += ONE_COUNT;
            }
            if submit {
                next |= SCHEDULED;
            }
            // ORDERING: AcqRel. Acquire (and on failure) as for the loads above;
            // Release hands the run token to whoever reads SCHEDULED and orders
            // this claim for the runner's idle CAS (which fails on it).
            match self
                .tail
                .compare_exchange_weak(t, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if off + 1 == BLOCK_CAP {
                        let nb = std::mem::replace(&mut spare, ptr::null_mut());
                        self.install(block, nb);
                    }
                    let slot = if first {
                        ptr::addr_of!(self.first)
                    } else {
                        // SAFETY: `block` is live: our claim in it is not yet
                        // written, so the consumer cannot have freed it.
                        unsafe { ptr::addr_of!((*block).slots[off]) }
                    };
                    break Ok(Claim {
                        slot,
                        exempt: !counted,
                        submit,
                    });
                }
                Err(actual) => {
                    t = actual;
                    // Another sender won: let the line settle before the
                    // next try, rather than all retrying at once (crossbeam's
                    // queues do the same). Under loom spinning only adds
                    // schedules to explore.
                    #[cfg(not(loom))]
                    backoff.spin();
                }
            }
        };
        if !spare.is_null() {
            // SAFETY: never shared: only a successful install publishes a spare.
            unsafe { Block::free(spare) };
        }
        claimed
    }

    /// Links `next` after `block`, whose last slot we claimed, and moves the
    /// tail past the marker.
    fn install(&self, block: *mut Block<M>, next: *mut Block<M>) {
        // ORDERING: Release publishes the block to senders that see the
        // position past the marker (Acquire).
        self.tail_block.store(next, Ordering::Release);
        // ORDERING: Relaxed for the read; the CAS decides.
        let mut cur = self.tail.load(Ordering::Relaxed);
        loop {
            // Only we move the position off the marker; counts and flags may
            // change meanwhile. A CAS, not an add: the position wraps.
            // ORDERING: AcqRel; Release, as above.
            match self.tail.compare_exchange_weak(
                cur,
                with_pos(cur, next_pos(pos(cur))),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: `block` is live: our claim in it is not yet written, so the
        // consumer cannot have freed it.
        // ORDERING: Release publishes the block to the consumer crossing into
        // it (Acquire).
        unsafe { (*block).next.store(next, Ordering::Release) };
    }

    /// Writes `map(value)` into a claimed slot and marks it written. If `map`
    /// panics, the slot becomes a hole, and if the claim scheduled the actor,
    /// `resubmit` queues it before the panic goes on: later senders found it
    /// scheduled and rely on that.
    fn write<T>(
        &self,
        claim: Claim<M>,
        value: T,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Schedule {
        let exempt = if claim.exempt { EXEMPT } else { 0 };
        // SAFETY: the claim makes this slot ours until we mark it written; its
        // block (or mailbox) stays live until the consumer has read the slot.
        let slot = unsafe { &*claim.slot };
        let hole = HoleOnUnwind {
            slot,
            exempt,
            resubmit: claim.submit.then_some(resubmit),
        };
        let m = map(value);
        std::mem::forget(hole);
        // SAFETY: as above, no other thread touches the slot before our mark.
        slot.msg.with_mut(|p| unsafe { (*p).write(m) });
        // ORDERING: Release publishes the message to the consumer's Acquire load.
        slot.state.store(WRITTEN | exempt, Ordering::Release);
        if claim.submit {
            Schedule::Submit
        } else {
            Schedule::DoNothing
        }
    }

    /// Pushes a user message if there is room, mapping it only once it is sure
    /// to be accepted, so a refusal hands back the caller's own value.
    /// `resubmit` queues the actor if `map` panics after the push scheduled it
    /// (see `write`).
    pub(crate) fn try_push_with<T>(
        &self,
        value: T,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Result<Schedule, (T, Refused)> {
        match self.claim(Admit::Counted) {
            Ok(c) => Ok(self.write(c, value, map, resubmit)),
            Err(why) => Err((value, why)),
        }
    }

    /// Pushes a user message, waiting for room until `deadline` (for ever when
    /// `None`). For threads outside the pool only. `resubmit` as for
    /// [`try_push_with`](Mailbox::try_push_with).
    #[inline]
    pub(crate) fn push_blocking_with<T>(
        &self,
        value: T,
        deadline: Option<Instant>,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Result<Schedule, (T, Refused)> {
        let claim = match self.claim(Admit::Counted) {
            Ok(c) => c,
            Err(Refused::Full) => {
                let mut slow = self.slow.lock();
                loop {
                    if slow.user_closed {
                        return Err((value, Refused::Closed));
                    }
                    // With no room this sets BLOCKED under the lock we hold
                    // until we wait, so the pop that frees room notifies after.
                    match self.claim(Admit::CountedOrFlag(BLOCKED)) {
                        Ok(c) => break c,
                        Err(Refused::Full) => {}
                        Err(why) => return Err((value, why)),
                    }
                    slow = match deadline {
                        None => self.room.wait(slow),
                        Some(d) => {
                            let now = Instant::now();
                            if now >= d {
                                // BLOCKED may stay set: it costs the consumer
                                // one look under the lock, which clears it.
                                return Err((value, Refused::Timeout));
                            }
                            self.room.wait_timeout(slow, d - now)
                        }
                    };
                }
            }
            Err(why) => return Err((value, why)),
        };
        Ok(self.write(claim, value, map, resubmit))
    }

    /// Pushes a user message from an actor running on a pool worker, which must
    /// not block. A send to self (`to_self`) goes in whatever the room and does
    /// not count toward capacity: the actor could never drain its own mailbox
    /// while waiting on it. Otherwise, with no room, `park` decides: `Some(waker)`
    /// parks the message here and `waker` is woken once it has moved into the
    /// lane (the sending actor stays suspended until then); `None` pushes it in
    /// without counting it, for a send that would close a cycle of suspended
    /// actors. `resubmit` as for [`try_push_with`](Mailbox::try_push_with).
    #[inline]
    pub(crate) fn push_or_park<T>(
        &self,
        value: T,
        to_self: bool,
        park: impl FnOnce() -> Option<crate::sync::Arc<dyn SendWaker>>,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Result<Sent, T> {
        let admit = if to_self {
            Admit::Exempt
        } else {
            Admit::Counted
        };
        match self.claim(admit) {
            Ok(c) => return Ok(Sent::Pushed(self.write(c, value, map, resubmit))),
            Err(Refused::Full) => {}
            Err(_) => return Err(value),
        }
        let mut slow = self.slow.lock();
        if slow.user_closed {
            return Err(value);
        }
        // Mapped before deciding, so a panicking mapping leaves no trace.
        let item = map(value);
        // The lock is held: the lane cannot close under the claims below.
        let open = "the user lane closes only under the lock";
        // With no room this sets PARKED, so newcomers queue behind us, and the
        // pop that frees room sees it.
        let schedule = match self.claim(Admit::CountedOrFlag(PARKED)) {
            Ok(c) => self.write(c, item, |m| m, &|| {}),
            Err(Refused::Full) => {
                if let Some(waker) = park() {
                    slow.queues().parked.push_back(Parked { item, waker });
                    return Ok(Sent::Parked);
                }
                let c = self.claim(Admit::Exempt).expect(open);
                let s = self.write(c, item, |m| m, &|| {});
                if slow.parked_len() == 0 {
                    // ORDERING: Relaxed; under the lock, like every change of
                    // PARKED.
                    self.tail.fetch_and(!PARKED, Ordering::Relaxed);
                }
                s
            }
            Err(_) => unreachable!("{open}"),
        };
        Ok(Sent::Pushed(schedule))
    }

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

    /// Takes the consumer role, waiting for a close from outside the pool to
    /// finish its drain.
    fn consumer(&self) -> Consumer<'_> {
        let backoff = Backoff::new();
        loop {
            if let Some(c) = self.try_consumer() {
                return c;
            }
            backoff.snooze();
        }
    }

    fn try_consumer(&self) -> Option<Consumer<'_>> {
        // ORDERING: Acquire pairs with the Release in `Consumer::drop`: the
        // previous holder's head and block changes are visible.
        self.consumer
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Consumer(&self.consumer))
    }

    /// Takes the message at the head if one is claimed, waiting for its
    /// sender to finish writing it. Returns `None` when the lane is empty,
    /// else the message (`None` for a hole), whether it counted toward
    /// capacity, and whether the next slot of the block was already written
    /// when looked at (a hint).
    #[inline(always)]
    fn take_head(&self, _role: &Consumer<'_>) -> Option<(Option<M>, bool, bool)> {
        // ORDERING: Relaxed; only the consumer role touches it.
        if self.head_in_first.load(Ordering::Relaxed) {
            return self.take_first();
        }
        let backoff = Backoff::new();
        // ORDERING: Relaxed; only the consumer role writes `head`.
        let head = self.head.load(Ordering::Relaxed);
        let (block, state) = loop {
            // ORDERING: Acquire pairs with the Release store of the sender that
            // installed the first block.
            let block = self.head_block.load(Ordering::Acquire);
            if !block.is_null() {
                // SAFETY: the head block is freed only by the consumer role,
                // which we hold.
                let slot = unsafe { &(*block).slots[offset(head)] };
                // ORDERING: Acquire pairs with the sender's Release mark: the
                // message is visible.
                let state = slot.state.load(Ordering::Acquire);
                if state & WRITTEN != 0 {
                    break (block, state);
                }
            }
            // ORDERING: Acquire; only tells whether a sender claimed the head.
            if pos(self.tail.load(Ordering::Acquire)) == head {
                return None;
            }
            // Claimed but not yet written (or its block not yet published).
            backoff.snooze();
        };
        let off = offset(head);
        // SAFETY: as above.
        let slot = unsafe { &(*block).slots[off] };
        let m = if state & HOLE != 0 {
            None
        } else {
            // SAFETY: WRITTEN (seen with Acquire) says the sender is done and
            // initialised the message; we take it once, as head moves on.
            Some(slot.msg.with(|p| unsafe { (*p).assume_init_read() }))
        };
        if off + 1 == BLOCK_CAP {
            // The block is used up: cross into the next, which its installer
            // linked before writing the slot we just read.
            // SAFETY: as above.
            // ORDERING: Acquire pairs with the installer's Release.
            let next = unsafe { (*block).next.load(Ordering::Acquire) };
            debug_assert!(!next.is_null(), "installer links before writing");
            // ORDERING: Relaxed; read only by the consumer role (and by the
            // Drop), handed over by the role's Release.
            self.head_block.store(next, Ordering::Relaxed);
            // ORDERING: Relaxed; `len`'s snapshot.
            self.head.store(next_pos(next_pos(head)), Ordering::Relaxed);
            // SAFETY: every slot of `block` was written and read, so no sender
            // touches it again, and the head has left it.
            unsafe { Block::free(block) };
            return Some((m, state & EXEMPT == 0, false));
        }
        // ORDERING: Relaxed, as above.
        self.head.store(next_pos(head), Ordering::Relaxed);
        // SAFETY: as above; `off + 1` is a slot of the same block.
        let next = unsafe { &(*block).slots[off + 1] };
        // ORDERING: Relaxed; only a hint (see `pop_hinted`): the next take
        // reads the mark again with Acquire.
        let more = next.state.load(Ordering::Relaxed) & WRITTEN != 0;
        Some((m, state & EXEMPT == 0, more))
    }

    /// [`take_head`](Mailbox::take_head) when the head is in the first slot.
    /// Empties the slot for the next lap that begins in it. The hint is
    /// `false`: what follows is in a block, if anywhere.
    fn take_first(&self) -> Option<(Option<M>, bool, bool)> {
        let backoff = Backoff::new();
        // ORDERING: Relaxed; only the consumer role writes `head`.
        let head = self.head.load(Ordering::Relaxed);
        debug_assert_eq!(offset(head), 0);
        let state = loop {
            // ORDERING: Acquire pairs with the sender's Release mark: the
            // message is visible.
            let state = self.first.state.load(Ordering::Acquire);
            if state & WRITTEN != 0 {
                break state;
            }
            // ORDERING: Acquire; only tells whether a sender claimed the head.
            if pos(self.tail.load(Ordering::Acquire)) == head {
                return None;
            }
            backoff.snooze();
        };
        let m = if state & HOLE != 0 {
            None
        } else {
            // SAFETY: WRITTEN (seen with Acquire) says the sender is done and
            // initialised the message; we take it once, as head moves on.
            Some(self.first.msg.with(|p| unsafe { (*p).assume_init_read() }))
        };
        // ORDERING: Relaxed. The next sender to write the slot claims it in a
        // lap that `free_if_empty` begins after this, with a Release RMW on
        // `tail` that the sender's claim reads with Acquire.
        self.first.state.store(0, Ordering::Relaxed);
        // ORDERING: Relaxed; only the consumer role touches it.
        self.head_in_first.store(false, Ordering::Relaxed);
        // ORDERING: Relaxed; `len`'s snapshot.
        self.head.store(next_pos(head), Ordering::Relaxed);
        Some((m, state & EXEMPT == 0, false))
    }

    /// Takes the next item: control first, then (if `accept_user`) user messages.
    ///
    /// Taking a user message makes room: when the lane has drained to the low
    /// watermark, parked sends move in (their wakers are returned, to be woken
    /// by the caller outside any lock) and blocked outside senders are woken.
    #[cfg(any(test, loom))]
    pub(crate) fn pop(
        &self,
        accept_user: bool,
        wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>,
    ) -> Option<Popped<M, C>> {
        self.pop_hinted(accept_user, wakers).map(|(item, _)| item)
    }

    /// [`pop`](Mailbox::pop), also saying whether the slot after a user
    /// message taken was already written (more to take, known without reading
    /// `tail`, the line senders write). If not, a runner that finds
    /// [`looks_empty`](Mailbox::looks_empty) after the handler can end its
    /// turn as drained instead of making an empty `pop`.
    #[inline]
    pub(crate) fn pop_hinted(
        &self,
        accept_user: bool,
        wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>,
    ) -> Option<(Popped<M, C>, bool)> {
        // ORDERING: Acquire; a miss is harmless (the item's RMW on `tail` makes
        // the idle transition look again), a hit is confirmed under the lock.
        if self.controls.load(Ordering::Acquire) != 0 {
            let mut slow = self.slow.lock();
            // Control items are rare: once the queues empty, their buffers
            // go back rather than stay for the actor's whole life.
            if let Some(c) = slow.pop_control() {
                // ORDERING: Relaxed; under the lock.
                self.controls.fetch_sub(1, Ordering::Relaxed);
                return Some((Popped::Control(c), false));
            }
        }
        if !accept_user {
            // ORDERING: Relaxed; only the consumer role writes it.
            if self.pending.load(Ordering::Relaxed) != 0 {
                // Suspended: give back the places taken so far now.
                let role = self.consumer();
                self.flush(&role, wakers);
            }
            return None;
        }
        loop {
            let role = self.consumer();
            let Some((m, counted, more)) = self.take_head(&role) else {
                // Places held back stay so until a batch is full (see
                // `RELEASE_SHIFT`): an actor woken per message, as in
                // request and reply, writes the senders' line only on claims.
                return None;
            };
            if counted {
                // ORDERING: Relaxed; only the consumer role touches it.
                let n = self.pending.load(Ordering::Relaxed) + 1;
                if n >= self.batch {
                    // ORDERING: Relaxed, as above.
                    self.pending.store(0, Ordering::Relaxed);
                    self.release(n as usize, wakers);
                } else {
                    // ORDERING: Relaxed, as above.
                    self.pending.store(n, Ordering::Relaxed);
                }
            }
            let Some(m) = m else { continue };
            drop(role);
            return Some((Popped::User(m), more));
        }
    }

    /// Gives back the places taken and not yet given back, as a `pop` that
    /// does not accept user messages does: a runner whose handler suspended
    /// the actor calls it, so a suspended actor holds no places back.
    pub(crate) fn give_back(&self, wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>) {
        // ORDERING: Relaxed; only the consumer role (this runner) writes it.
        if self.pending.load(Ordering::Relaxed) != 0 {
            let role = self.consumer();
            self.flush(&role, wakers);
        }
    }

    /// Whether the runner would find nothing to take: no control item and no
    /// claimed user position. Two loads, no lock; only a hint, for the same
    /// reason as in [`pop_hinted`](Mailbox::pop_hinted).
    pub(crate) fn looks_empty(&self) -> bool {
        // ORDERING: Acquire, as in `pop`; Relaxed for `head`, which only the
        // consumer role (this runner) writes.
        self.controls.load(Ordering::Acquire) == 0
            && pos(self.tail.load(Ordering::Acquire)) == self.head.load(Ordering::Relaxed)
    }

    /// Gives back the places taken and not yet given back.
    fn flush(&self, _role: &Consumer<'_>, wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>) {
        // ORDERING: Relaxed; only the consumer role touches it.
        let n = self.pending.load(Ordering::Relaxed);
        if n != 0 {
            // ORDERING: Relaxed, as above.
            self.pending.store(0, Ordering::Relaxed);
            self.release(n as usize, wakers);
        }
    }

    /// Gives back the places of `n` counted messages the consumer took.
    fn release(&self, n: usize, wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>) {
        // ORDERING: Relaxed; a count. A PARKED or BLOCKED set by a CAS on an
        // earlier value is in the word we get back (one location), and the
        // lock taken below orders the rest. No claim publishes through it.
        let prev = self.tail.fetch_sub(n as u64 * ONE_COUNT, Ordering::Relaxed);
        let now = count(prev) - n;
        if prev & (PARKED | BLOCKED) != 0 && now <= self.low_watermark {
            self.make_room(wakers);
        }
    }

    /// At the low watermark: moves parked sends in and wakes blocked senders.
    fn make_room(&self, wakers: &mut Vec<crate::sync::Arc<dyn SendWaker>>) {
        let mut slow = self.slow.lock();
        while let Some(p) = slow.pop_parked() {
            // The lock is held, so the lane is open.
            let c = match self.claim(Admit::Parked) {
                Ok(c) => c,
                Err(why) => {
                    debug_assert_eq!(why, Refused::Full);
                    slow.queues().parked.push_front(p);
                    break;
                }
            };
            // The actor is running (the consumer calls this), so the claim
            // schedules nothing. Checked in release builds too: a token taken
            // here would never be queued (and its reference never released).
            let s = self.write(c, p.item, |m| m, &|| {});
            assert_eq!(
                s,
                Schedule::DoNothing,
                "a parked send moved in by the running actor took its run token"
            );
            wakers.push(p.waker);
        }
        slow.tidy();
        if slow.parked_len() == 0 {
            // ORDERING: Relaxed; PARKED changes only under the lock.
            self.tail.fetch_and(!PARKED, Ordering::Relaxed);
        }
        // ORDERING: Relaxed; BLOCKED changes only under the lock.
        let t = self.tail.load(Ordering::Relaxed);
        // Blocked outside senders are woken in a batch once the lane has
        // drained to the low watermark, not one per message: a futex wake per
        // pop would cost more than the message. A sender whose deadline comes
        // first re-checks the room before giving up, so none times out while
        // there is room.
        if t & BLOCKED != 0 && t & PARKED == 0 && count(t) <= self.low_watermark {
            // ORDERING: Relaxed; under the lock, as above.
            self.tail.fetch_and(!BLOCKED, Ordering::Relaxed);
            self.room.notify_all();
        }
    }

    /// Closes the user lane: no claim succeeds from now on. Returns the end
    /// position; every position before it is claimed and will be written.
    fn close_lane(&self) -> u64 {
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
    fn drain_user(&self, role: &Consumer<'_>, end: u64) -> Vec<M> {
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

    fn close_with(&self, all: bool) -> Drained<M, C> {
        let role = self.consumer();
        let mut slow = self.slow.lock();
        slow.user_closed = true;
        let end = self.close_lane();
        let user = self.drain_user(&role, end);
        let (parked, control) = match slow.queues.as_mut() {
            Some(q) => {
                let control = if all {
                    std::mem::take(&mut q.control).into()
                } else {
                    Vec::new()
                };
                (std::mem::take(&mut q.parked).into(), control)
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
        }
    }

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

    /// Frees the head block if the lane is empty (step 5 of the protocol).
    fn free_if_empty(&self, _role: &Consumer<'_>) {
        // ORDERING: Relaxed; the role hands `head_block` over, and a block a
        // sender installed is published by its Release store (Acquire here).
        let block = self.head_block.load(Ordering::Acquire);
        if block.is_null() {
            return;
        }
        // ORDERING: Relaxed; only the consumer role writes `head`.
        let head = self.head.load(Ordering::Relaxed);
        // ORDERING: Acquire, as in `claim`.
        let t = self.tail.load(Ordering::Acquire);
        if pos(t) != head {
            return;
        }
        let marker = head - offset(head) as u64 + BLOCK_CAP as u64;
        let next = next_pos(marker);
        // `head` moves first, so that `len` meanwhile finds it past `tail` (a
        // distance it reads as none) rather than before a parked marker (the
        // rest of the lap, which it would count as queued).
        // ORDERING: Relaxed; `len`'s snapshot.
        self.head.store(next, Ordering::Relaxed);
        // Park `tail` on the marker: senders wait there as for an install. The
        // CAS fails if anything was claimed since we looked.
        // ORDERING: AcqRel, as for every RMW on `tail`.
        if self
            .tail
            .compare_exchange(t, with_pos(t, marker), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            // ORDERING: Relaxed, as above.
            self.head.store(head, Ordering::Relaxed);
            return;
        }
        // `head_block` first: a sender installs a block only after it sees
        // `tail_block` null, and its `head_block` store must come after ours.
        // ORDERING: Relaxed; ordered before the Release store below.
        self.head_block.store(ptr::null_mut(), Ordering::Relaxed);
        // ORDERING: Release pairs with the installer's Acquire CAS.
        self.tail_block.store(ptr::null_mut(), Ordering::Release);
        // The next lap begins in the first slot, which `take_first` emptied.
        // ORDERING: Relaxed; only the consumer role touches it.
        self.head_in_first.store(true, Ordering::Relaxed);
        // ORDERING: Relaxed for the read; the CAS decides.
        let mut cur = self.tail.load(Ordering::Relaxed);
        loop {
            // Only the flags can have changed (senders wait).
            // ORDERING: AcqRel; Release publishes the null pointers and the
            // emptied first slot to the senders that see the new position
            // (Acquire).
            match self.tail.compare_exchange_weak(
                cur,
                with_pos(cur, next) | FIRST,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: the lane was empty and no claim can land in `block` any
        // more; every sender that wrote in it is done (we read its slots).
        unsafe { Block::free(block) };
    }
}

impl<M, C> Drop for Mailbox<M, C> {
    fn drop(&mut self) {
        // `&mut self`: no other thread is left, so Relaxed reads see all.
        // ORDERING: Relaxed, as said.
        let end = pos(self.tail.load(Ordering::Relaxed));
        // ORDERING: Relaxed, as said.
        let mut p = self.head.load(Ordering::Relaxed);
        // ORDERING: Relaxed, as said.
        let mut block = self.head_block.load(Ordering::Relaxed);
        // ORDERING: Relaxed, as said.
        if p != end && self.head_in_first.load(Ordering::Relaxed) {
            // ORDERING: Relaxed, as said.
            let state = self.first.state.load(Ordering::Relaxed);
            if state & WRITTEN != 0 && state & HOLE == 0 {
                // SAFETY: written and never taken (the head is on it).
                self.first
                    .msg
                    .with_mut(|m| unsafe { (*m).assume_init_drop() });
            }
            p = next_pos(p);
        }
        while p != end && !block.is_null() {
            let off = offset(p);
            if off == BLOCK_CAP {
                // SAFETY: a live block of this mailbox.
                // ORDERING: Relaxed, as said.
                let next = unsafe { (*block).next.load(Ordering::Relaxed) };
                // SAFETY: passed for good.
                unsafe { Block::free(block) };
                block = next;
            } else {
                // SAFETY: a live block of this mailbox.
                let slot = unsafe { &(*block).slots[off] };
                // ORDERING: Relaxed, as said.
                let state = slot.state.load(Ordering::Relaxed);
                if state & WRITTEN != 0 && state & HOLE == 0 {
                    // SAFETY: written and never taken (it is past the head).
                    slot.msg.with_mut(|m| unsafe { (*m).assume_init_drop() });
                }
            }
            p = next_pos(p);
        }
        if !block.is_null() {
            // SAFETY: the last block, reached by no one else.
            unsafe { Block::free(block) };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Idle, LAP, Mailbox, Popped, Schedule};
    use crate::sync::Ordering;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn senders_words_are_a_cache_line_past_the_consumers() {
        use std::mem::{align_of, offset_of};
        type Mb = Mailbox<u64, u64>;
        // The mailbox is 8-byte aligned, so none of its 8-byte-aligned words
        // straddles a 64-byte line, and two of them share none, wherever the
        // mailbox lies, once they are 64 bytes apart.
        assert!(align_of::<Mb>() >= 8);
        let consumer_last_word = offset_of!(Mb, consumer) & !7;
        for sender_word in [
            offset_of!(Mb, capacity),
            offset_of!(Mb, tail_block),
            offset_of!(Mb, tail),
        ] {
            assert!(sender_word >= consumer_last_word + 64, "{sender_word}");
        }
        for consumer_word in [
            offset_of!(Mb, head),
            offset_of!(Mb, head_block),
            offset_of!(Mb, controls),
            offset_of!(Mb, pending),
            offset_of!(Mb, batch),
            offset_of!(Mb, head_in_first),
        ] {
            assert!(consumer_word < offset_of!(Mb, consumer));
        }
    }

    fn push(mb: &Mailbox<u32, ()>, v: u32) -> Schedule {
        mb.try_push_with(v, |v| v, &|| {})
            .map_err(|_| "refused")
            .unwrap()
    }

    /// Pops every user message the runner may take now.
    fn pop_all(mb: &Mailbox<u32, ()>) -> Vec<u32> {
        let mut wakers = Vec::new();
        let mut out = Vec::new();
        while let Some(p) = mb.pop(true, &mut wakers) {
            match p {
                Popped::User(v) => out.push(v),
                Popped::Control(()) => panic!("no control item was sent"),
            }
        }
        out
    }

    /// A mailbox with the messages `0..n` handled, at the end of the turn
    /// that handled them.
    fn after_messages(n: u32) -> Mailbox<u32, ()> {
        let mb = Mailbox::new(64);
        for v in 0..n {
            let s = push(&mb, v);
            assert_eq!(s == Schedule::Submit, v == 0);
        }
        mb.transition_to_running();
        assert_eq!(pop_all(&mb), (0..n).collect::<Vec<_>>());
        mb
    }

    fn has_block(mb: &Mailbox<u32, ()>) -> bool {
        // ORDERING: Relaxed; single-threaded test.
        !mb.head_block.load(Ordering::Relaxed).is_null()
            // ORDERING: Relaxed, as above.
            || !mb.tail_block.load(Ordering::Relaxed).is_null()
    }

    #[test]
    fn going_idle_frees_the_block_unless_asked_to_keep_it() {
        let mb = after_messages(2);
        assert!(has_block(&mb), "the second message was queued in a block");
        assert_eq!(mb.transition_to_idle(true, true, false), Idle::Done);
        assert!(!has_block(&mb), "an idle, empty mailbox owns no block");

        let mb = after_messages(2);
        assert_eq!(mb.transition_to_idle(true, true, true), Idle::Done);
        assert!(has_block(&mb), "a kept block stays for the next message");
        // And the kept block takes the next message without a new one.
        let before = mb.head_block.load(Ordering::Relaxed);
        let _ = push(&mb, 8);
        assert_eq!(mb.head_block.load(Ordering::Relaxed), before);
    }

    #[test]
    fn a_lone_message_needs_no_block() {
        let mb = after_messages(1);
        assert!(!has_block(&mb), "the first message went in the first slot");
        assert_eq!(mb.transition_to_idle(true, true, false), Idle::Done);
        // The next one, in the same lap, is in a block.
        assert_eq!(push(&mb, 1), Schedule::Submit);
        assert!(has_block(&mb));
        mb.transition_to_running();
        assert_eq!(pop_all(&mb), vec![1]);
        // Freeing it begins a lap in the first slot again.
        assert_eq!(mb.transition_to_idle(true, true, false), Idle::Done);
        assert!(!has_block(&mb));
        assert_eq!(push(&mb, 2), Schedule::Submit);
        assert!(!has_block(&mb), "a lap after a freed block");
        mb.transition_to_running();
        assert_eq!(pop_all(&mb), vec![2]);
    }

    #[test]
    fn order_holds_across_the_first_slot_and_the_blocks() {
        let mb = Mailbox::new(64);
        let mut next = 0;
        // Bursts of every length up to three blocks, each taken whole and
        // followed by the free that begins the next lap in the first slot.
        for burst in 1..=3 * LAP as u32 {
            for v in next..next + burst {
                let _ = push(&mb, v);
            }
            assert_eq!(mb.len(), burst as usize);
            mb.transition_to_running();
            assert_eq!(pop_all(&mb), (next..next + burst).collect::<Vec<_>>());
            assert_eq!(mb.len(), 0);
            assert_eq!(mb.transition_to_idle(true, true, false), Idle::Done);
            assert!(!has_block(&mb));
            next += burst;
        }
    }

    #[test]
    fn closing_or_dropping_gives_back_the_first_slots_message() {
        use std::sync::Arc;
        let token = Arc::new(());
        for n in [1, 2, LAP as usize + 1] {
            let mb: Mailbox<Arc<()>, ()> = Mailbox::new(64);
            for _ in 0..n {
                let _ = mb.try_push_with(token.clone(), |v| v, &|| {});
            }
            assert_eq!(Arc::strong_count(&token), 1 + n);
            drop(mb);
            assert_eq!(Arc::strong_count(&token), 1, "dropped with {n} queued");

            let mb: Mailbox<Arc<()>, ()> = Mailbox::new(64);
            for _ in 0..n {
                let _ = mb.try_push_with(token.clone(), |v| v, &|| {});
            }
            assert_eq!(mb.close().user.len(), n, "closed with {n} queued");
            assert_eq!(Arc::strong_count(&token), 1);
        }
    }
}
