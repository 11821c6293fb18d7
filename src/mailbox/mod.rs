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
//!
//! # Map
//!
//! - `state.rs`: the scheduling state word (`tail`) and the run token's protocol.
//! - `lane.rs`: the lock-free user lane (blocks, claims, the consumer role) and its memory ordering.
//! - `capacity.rs`: the bound, parked and blocked senders, the low watermark.
//! - `control.rs`: the control lane, the lock that guards the rare paths, and closing.

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

mod capacity;
mod control;
mod lane;
mod state;

use capacity::*;
use control::*;
use lane::*;
pub(crate) use state::MAX_CAPACITY;
use state::*;

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

/// Wakes an actor suspended by parked sends once their messages are in the
/// target mailbox (`delivered == true`) or were dropped because the target
/// stopped.
pub(crate) trait SendWaker: Send + Sync {
    /// `target` is the id of the actor the messages were parked with, `sends`
    /// how many of this sender's parked sends the wake-up covers (at least
    /// 1), and `edges` how many of the sender's wait-graph edges on `target`
    /// they release (see [`Parked`]; at most `sends`, possibly none).
    fn wake(self: crate::sync::Arc<Self>, target: u64, delivered: bool, sends: usize, edges: usize);
}

/// The senders whose parked sends left the parked queue (moved in by a pop,
/// or dropped by a close), to be woken by the caller outside any lock. A
/// sender with several sends taken together is woken once for all of them:
/// one wake-up (and so one resume notice on its control lane) per sender
/// and batch, not one per message.
#[derive(Default)]
pub(crate) struct Resumes {
    /// Each sender's waker, its sends, and the wait-graph edges they release.
    woken: Vec<(crate::sync::Arc<dyn SendWaker>, usize, usize)>,
}

/// Entries of [`Resumes`] a new run's waker is compared with, from the
/// last. An actor's parked sends lie together in the queue (it parks them
/// in one turn, and its later sends queue behind its first), so the last
/// few entries find it without a search that grows with the batch.
const RESUMES_LOOKBACK: usize = 4;

impl Resumes {
    pub(crate) fn new() -> Self {
        Resumes::default()
    }

    /// Counts the first send of a run (see [`Parked`]), which holds its
    /// sender's edge; returns the sender's entry, for the run's other sends.
    pub(super) fn add_run(&mut self, waker: crate::sync::Arc<dyn SendWaker>) -> usize {
        let len = self.woken.len();
        for (i, (w, sends, edges)) in self.woken.iter_mut().enumerate().rev() {
            if i + RESUMES_LOOKBACK < len {
                break;
            }
            if crate::sync::Arc::ptr_eq(w, &waker) {
                *sends += 1;
                *edges += 1;
                return i;
            }
        }
        self.woken.push((waker, 1, 1));
        len
    }

    /// Counts one more send of the run counted at `entry`.
    pub(super) fn add_follower(&mut self, entry: usize) {
        self.woken[entry].1 += 1;
    }

    /// The rest of the run counted at `entry` stays parked: it takes back a
    /// waker and the run's edge, which this wake-up no longer releases.
    pub(super) fn split(&mut self, entry: usize) -> crate::sync::Arc<dyn SendWaker> {
        let (w, _, edges) = &mut self.woken[entry];
        *edges -= 1;
        w.clone()
    }

    /// Counts the parked sends of `runs` (a queue order), giving back
    /// their messages.
    pub(super) fn add_all<M>(&mut self, runs: impl IntoIterator<Item = Parked<M>>) -> Vec<M> {
        let mut entry = None;
        runs.into_iter()
            .map(|p| {
                match (p.waker, entry) {
                    (Some(w), _) => entry = Some(self.add_run(w)),
                    (None, Some(e)) => self.add_follower(e),
                    (None, None) => debug_assert!(false, "a run begins with its waker"),
                }
                p.item
            })
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.woken.is_empty()
    }

    /// Wakes every sender counted, as delivered to the actor `target`.
    pub(crate) fn wake_all(&mut self, target: u64) {
        self.wake_all_as(target, true);
    }

    /// Wakes every sender counted, whose sends to the actor `target` were
    /// dropped (it stopped).
    pub(crate) fn wake_all_dropped(&mut self, target: u64) {
        self.wake_all_as(target, false);
    }

    fn wake_all_as(&mut self, target: u64, delivered: bool) {
        for (w, sends, edges) in self.woken.drain(..) {
            w.wake(target, delivered, sends, edges);
        }
    }
}

/// A message whose sender (an actor on a pool worker) is suspended until it
/// fits.
///
/// A sender's parked sends that follow one another in the queue form a
/// run. Its first holds the sender's waker and one wait-graph edge from the
/// sender to this actor (the `park` of [`Mailbox::push_or_park`] took
/// both); the others hold neither (`waker: None`): while the run's first is
/// parked the edge exists, so a send behind it can close no cycle, and
/// parking it takes no lock of the wait graph and no reference. A pop that
/// moves in only part of a run gives the rest a waker and the edge (see
/// [`Resumes::split`]), so the queue's first entry always has its waker.
pub(crate) struct Parked<M> {
    pub(super) item: M,
    /// The sending actor's id.
    pub(super) sender: u64,
    pub(super) waker: Option<crate::sync::Arc<dyn SendWaker>>,
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
    /// The parked sends' messages, in queue order.
    pub(crate) parked: Vec<M>,
    /// Their senders, to wake (as dropped) outside any lock.
    pub(crate) resumes: Resumes,
}

/// The result of [`Mailbox::push_or_park`].
pub(crate) enum Sent {
    Pushed(Schedule),
    Parked,
    /// Never from the mailbox: held by the sending turn behind one of its
    /// sends that parked, to be pushed when its handler returns
    /// (`actor/cell/stage.rs`).
    Held,
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
/// block, and which therefore makes most of the gap: at least 24 bytes for
/// any message of 16 bytes or more, which every mailbox of an actor holds
/// (its envelope alone is 16; the cell checks it when its type is built, see
/// [`Mailbox::SENDERS_A_LINE_AWAY`]). `tail` comes last so
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
    /// The consumer role is taken. The consumer's last word (see [`Mailbox`]).
    consumer: AtomicBool,
    /// Signalled when the user lane drains to the low watermark or closes.
    room: Condvar,
    low_watermark: usize,
    /// The slot of the first position of a lap that began with no block
    /// (`FIRST`): an actor spawned and sent one message needs no block.
    /// Written by the claimant and emptied by the consumer, who takes it
    /// before anything can claim it again (a new lap with `FIRST` begins
    /// only once the lane is empty).
    first: Slot<M>,
    /// Last in the gap, as far from the consumer's words as the gap allows:
    /// senders that park take it once per parked send, and its line taken
    /// from the consumer would cost the consumer's next pop a miss.
    slow: Mutex<Slow<M, C>>,
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

// SAFETY: the raw block pointers are owned by the mailbox: messages go in from
// any sender and come out in the consumer role, so the mailbox moves `M`s
// between threads (`M: Send`) and never shares one (no `&M` escapes).
unsafe impl<M: Send, C: Send> Send for Mailbox<M, C> {}
// SAFETY: as above; every shared access goes through atomics, the lock, or a
// slot the protocol gives one thread at a time.
unsafe impl<M: Send, C: Send> Sync for Mailbox<M, C> {}

impl<M, C> Mailbox<M, C> {
    /// Whether `first` and the cold words before it keep the senders' words
    /// a cache line past the consumer's (see [`Mailbox`]): true for a
    /// message of 16 bytes or more. A test checks the offsets.
    #[cfg(not(loom))]
    pub(crate) const SENDERS_A_LINE_AWAY: bool = std::mem::size_of::<Slot<M>>() >= 24;

    /// A mailbox holding at most `capacity` user messages (`capacity >= 1`). Parked
    /// senders resume when the lane drains to `capacity / 2`.
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(capacity >= 1);
        // `first` holds a message and its state word.
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
    /// `low`, below the capacity, replaces the default low watermark.
    pub(crate) fn new_scheduled(capacity: usize, low: Option<usize>) -> Self {
        let mut mb = Mailbox::new(capacity);
        if let Some(low) = low {
            debug_assert!(low < mb.capacity, "checked by the spawn");
            mb.low_watermark = low;
        }
        // ORDERING: Relaxed. The mailbox is not shared yet; submitting it to a run
        // queue publishes it. (The one plain store to `tail`.)
        mb.tail.store(SCHEDULED | FIRST, Ordering::Relaxed);
        mb
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the run token is out (the actor is in a run queue or being
    /// run): it stays out while work is left, so an actor that keeps itself
    /// busy reads as scheduled at every instant.
    pub(crate) fn is_scheduled(&self) -> bool {
        // ORDERING: Relaxed; a snapshot for shutdown's report.
        self.tail.load(Ordering::Relaxed) & SCHEDULED != 0
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
        use super::{Mutex, Slow};
        use std::mem::{align_of, offset_of, size_of};
        // The smallest message an actor's mailbox holds: an envelope of 16
        // bytes.
        type Mb = Mailbox<[u64; 2], u64>;
        const { assert!(Mb::SENDERS_A_LINE_AWAY) };
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
        // The lock parking senders take lies past `first`, at the gap's end.
        assert!(offset_of!(Mb, slow) > offset_of!(Mb, first));
        assert_eq!(
            offset_of!(Mb, slow) + size_of::<Mutex<Slow<[u64; 2], u64>>>(),
            offset_of!(Mb, capacity)
        );
    }

    fn push(mb: &Mailbox<u32, ()>, v: u32) -> Schedule {
        mb.try_push_with(v, |v| v, &|| {})
            .map_err(|_| "refused")
            .unwrap()
    }

    /// Pops every user message the runner may take now.
    fn pop_all(mb: &Mailbox<u32, ()>) -> Vec<u32> {
        let mut wakers = super::Resumes::new();
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

    /// Control items come out in the order they went in, whether the lane
    /// holds one (kept beside the queues) or several, across pops that
    /// empty it between pushes; a close hands back the rest in order.
    #[test]
    fn control_items_keep_their_order() {
        let mb: Mailbox<u32, u32> = Mailbox::new(4);
        let mut wakers = super::Resumes::new();
        let mut pop = || match mb.pop(true, &mut wakers) {
            Some(Popped::Control(c)) => Some(c),
            Some(Popped::User(v)) => panic!("user message {v}"),
            None => None,
        };
        assert_eq!(mb.push_control(0), Ok(Schedule::Submit));
        mb.transition_to_running();
        assert_eq!(pop(), Some(0));
        assert_eq!(pop(), None);
        let mut next = 1;
        let mut expected = Vec::new();
        // Pushes and pops interleaved: the lane goes from empty to one item,
        // to several, to one left while more come behind it, to empty.
        for (pushes, pops) in [(1, 1), (3, 1), (1, 2), (2, 3), (4, 2)] {
            for _ in 0..pushes {
                let _ = mb.push_control(next);
                expected.push(next);
                next += 1;
            }
            for _ in 0..pops {
                assert_eq!(pop(), Some(expected.remove(0)));
            }
        }
        assert_eq!(mb.close().control, expected, "a close hands back the rest");
        assert_eq!(mb.push_control(99), Err(99));
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

    /// Records that it was woken.
    struct Woken(std::sync::atomic::AtomicBool);

    impl super::SendWaker for Woken {
        fn wake(self: crate::sync::Arc<Self>, _: u64, delivered: bool, _: usize, _: usize) {
            assert!(delivered);
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// Records each wake-up's sends and edges, and counts its `park` calls.
    #[derive(Default)]
    struct Wakes {
        woken: std::sync::Mutex<Vec<(usize, usize)>>,
        parks: std::sync::atomic::AtomicUsize,
    }

    impl super::SendWaker for Wakes {
        fn wake(self: crate::sync::Arc<Self>, _: u64, delivered: bool, sends: usize, edges: usize) {
            assert!(delivered);
            self.woken.lock().unwrap().push((sends, edges));
        }
    }

    impl Wakes {
        fn woken(&self) -> Vec<(usize, usize)> {
            self.woken.lock().unwrap().clone()
        }

        fn parks(&self) -> usize {
            self.parks.load(Ordering::SeqCst)
        }
    }

    /// Parks `v` from `sender`, whose waker is `w`.
    fn park(mb: &Mailbox<u32, ()>, v: u32, sender: u64, w: &crate::sync::Arc<Wakes>) {
        let sent = mb.push_or_park(
            v,
            sender,
            false,
            || {
                w.parks.fetch_add(1, Ordering::SeqCst);
                Some(w.clone() as _)
            },
            |v| v,
            &|| {},
        );
        assert!(matches!(sent, Ok(super::Sent::Parked)), "{v} parks");
    }

    /// Pops until a pop moves parked sends in, and wakes their senders.
    fn pop_until_resumed(mb: &Mailbox<u32, ()>, out: &mut Vec<u32>) {
        let mut wakers = super::Resumes::new();
        while wakers.is_empty() {
            match mb.pop(true, &mut wakers) {
                Some(Popped::User(v)) => out.push(v),
                _ => panic!("messages are queued"),
            }
        }
        wakers.wake_all(0);
    }

    fn full(capacity: u32) -> Mailbox<u32, ()> {
        let mb = Mailbox::new_scheduled(capacity as usize, None);
        for v in 0..capacity {
            assert!(mb.try_push_with(v, |v| v, &|| {}).is_ok());
        }
        mb
    }

    #[test]
    fn a_senders_parked_sends_moved_in_together_wake_it_once() {
        let mb = full(8);
        let (a, b) = (
            crate::sync::Arc::new(Wakes::default()),
            crate::sync::Arc::new(Wakes::default()),
        );
        // a parks two, b one, then a one more behind b's: the four places
        // down to the low watermark take them all.
        park(&mb, 8, 1, &a);
        park(&mb, 9, 1, &a);
        park(&mb, 10, 2, &b);
        park(&mb, 11, 1, &a);
        assert_eq!(a.parks(), 2, "9 joined 8's run; 11 began a run behind b's");
        let mut out = Vec::new();
        pop_until_resumed(&mb, &mut out);
        assert_eq!(a.woken(), vec![(3, 2)], "one wake-up for a's three sends");
        assert_eq!(b.woken(), vec![(1, 1)]);
        out.extend(pop_all(&mb));
        assert_eq!(out, (0..12).collect::<Vec<_>>(), "order kept");
    }

    #[test]
    fn a_first_parked_send_makes_room_for_the_runs_behind_it() {
        let mb = full(8);
        let a = crate::sync::Arc::new(Wakes::default());
        park(&mb, 8, 1, &a);
        let room = |mb: &Mailbox<u32, ()>| {
            mb.slow
                .lock()
                .queues
                .as_ref()
                .map_or(0, |q| q.parked.capacity())
        };
        // At most the mailbox's capacity: a small mailbox parks few.
        assert!(room(&mb) >= 8, "{}", room(&mb));
        let big = full(1024);
        park(&big, 1024, 1, &a);
        assert!(room(&big) >= 64, "{}", room(&big));
        assert!(room(&big) < 1024, "{}", room(&big));
    }

    #[test]
    fn a_run_moved_in_in_parts_releases_its_edge_with_its_last_part() {
        let mb = full(8);
        let a = crate::sync::Arc::new(Wakes::default());
        for v in 8..14 {
            park(&mb, v, 1, &a);
        }
        assert_eq!(a.parks(), 1, "one run");
        let mut out = Vec::new();
        // Four places down to the low watermark: four of the six move in;
        // the other two keep the edge.
        pop_until_resumed(&mb, &mut out);
        assert_eq!(a.woken(), vec![(4, 0)]);
        assert_eq!(mb.len(), 8 - out.len() + 6);
        pop_until_resumed(&mb, &mut out);
        assert_eq!(
            a.woken(),
            vec![(4, 0), (2, 1)],
            "the edge goes with the last"
        );
        out.extend(pop_all(&mb));
        assert_eq!(out, (0..14).collect::<Vec<_>>(), "order kept");
    }

    #[test]
    fn closing_counts_each_parked_senders_sends_and_edges_once() {
        let mb = full(2);
        let (a, b) = (
            crate::sync::Arc::new(Wakes::default()),
            crate::sync::Arc::new(Wakes::default()),
        );
        park(&mb, 2, 1, &a);
        park(&mb, 3, 1, &a);
        park(&mb, 4, 2, &b);
        let mut d = mb.close_user();
        assert_eq!(d.user, vec![0, 1]);
        assert_eq!(d.parked, vec![2, 3, 4]);
        // Read rather than woken: `Wakes` expects deliveries.
        let entries: Vec<(usize, usize)> = d
            .resumes
            .woken
            .iter()
            .map(|(_, sends, edges)| (*sends, *edges))
            .collect();
        assert_eq!(entries, vec![(2, 1), (1, 1)]);
        d.resumes.woken.clear();
    }

    #[test]
    fn a_parked_send_moves_in_at_the_actors_own_low_watermark() {
        for (low, pops_before_resume) in [(None, 4), (Some(1), 7), (Some(6), 2)] {
            let mb: Mailbox<u32, ()> = Mailbox::new_scheduled(8, low);
            for v in 0..8 {
                assert!(mb.try_push_with(v, |v| v, &|| {}).is_ok());
            }
            let woken = crate::sync::Arc::new(Woken(Default::default()));
            let w = woken.clone();
            let sent = mb.push_or_park(8, 1, false, || Some(w as _), |v| v, &|| {});
            assert!(matches!(sent, Ok(super::Sent::Parked)));
            let mut wakers = super::Resumes::new();
            for popped in 1..=8 {
                assert!(mb.pop(true, &mut wakers).is_some());
                let resumed = !wakers.is_empty();
                assert_eq!(
                    resumed,
                    popped >= pops_before_resume,
                    "{low:?} after {popped}"
                );
                if resumed {
                    break;
                }
            }
            wakers.wake_all(0);
            assert!(woken.0.load(Ordering::SeqCst));
        }
    }
}
