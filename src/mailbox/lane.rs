//! The lock-free user lane: a linked list of blocks, its claims, writes and takes.
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
//!   without counting. Parked sends moving in claim runs of positions
//!   within a block with one CAS (`claim_run`). The last position of each
//!   lap of `LAP` positions is no
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

use super::*;

/// Positions per block; the last one of each lap is not a slot but the marker
/// of a block being installed (or freed). A power of two dividing `2^34`.
#[cfg(not(loom))]
pub(super) const LAP: u64 = 16;
#[cfg(loom)]
pub(super) const LAP: u64 = 4;
pub(super) const BLOCK_CAP: usize = (LAP - 1) as usize;
// A lap that starts in the mailbox's own slot still has a block for the
// rest, and the claim of its last slot installs the next one.
const _: () = assert!(BLOCK_CAP >= 3);

// A slot's state.
pub(super) const WRITTEN: usize = 1;
/// The message does not count toward capacity.
pub(super) const EXEMPT: usize = 2;
/// The sender's message mapping panicked: no message, skip the slot.
pub(super) const HOLE: usize = 4;

pub(super) fn offset(p: u64) -> usize {
    (p % LAP) as usize
}

/// The `tail` word after a claim of its position (a counted one raises the
/// count), and whether the claim schedules the actor (moves `IDLE` to
/// `SCHEDULED`). The claim ends a lap's first-slot state, so `FIRST` clears.
#[inline(always)]
fn claimed(t: u64, counted: bool) -> (u64, bool) {
    let submit = t & STATE == IDLE;
    let mut next = with_pos(t, next_pos(pos(t))) & !FIRST;
    if counted {
        next += ONE_COUNT;
    }
    if submit {
        next |= SCHEDULED;
    }
    (next, submit)
}

/// How a claim is admitted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Admit {
    /// Counts toward capacity; needs room (and no parked sends).
    Counted,
    /// As `Counted`, for an actor's send, which parks when refused: behind
    /// parked sends it is refused from the word first read, without the
    /// slow path's second look (a send from outside goes on to wait).
    FromActor,
    /// As `Counted`, but with no room sets `flag` (`PARKED` or `BLOCKED`) on
    /// the very word found full before reporting `Full`.
    CountedOrFlag(u64),
    /// A parked send moving in: needs room, whatever `PARKED` says.
    Parked,
    /// Does not count toward capacity.
    Exempt,
}

/// A claimed slot, to be written by its claimant.
pub(super) struct Claim<M> {
    /// In a block, or the mailbox's own first slot.
    pub(super) slot: *const Slot<M>,
    pub(super) exempt: bool,
    pub(super) submit: bool,
}

/// Consecutive claimed slots of one block (or the first slot alone), to be
/// written in order by their claimant (see `claim_run`).
pub(super) struct Run<M> {
    first: *const Slot<M>,
    len: usize,
    submit: bool,
}

impl<M> Run<M> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The claim of the run's `i`-th slot; only the first carries the run
    /// token, if the run took it.
    ///
    /// # Safety
    ///
    /// The slots before the `i`-th are written, the `i`-th and those after
    /// it are not: the consumer cannot have passed the block, so it is live.
    pub(super) unsafe fn claim(&self, i: usize) -> Claim<M> {
        debug_assert!(i < self.len);
        Claim {
            // SAFETY: `first.add(i)` stays within the block's slots
            // (`claim_run` keeps the run in one block), which the caller's
            // contract keeps live.
            slot: unsafe { self.first.add(i) },
            exempt: false,
            submit: self.submit && i == 0,
        }
    }
}

pub(super) struct Slot<M> {
    pub(super) msg: UnsafeCell<MaybeUninit<M>>,
    pub(super) state: AtomicUsize,
}

/// `BLOCK_CAP` slots and the link to the next block.
pub(super) struct Block<M> {
    pub(super) next: AtomicPtr<Block<M>>,
    pub(super) slots: [Slot<M>; BLOCK_CAP],
}

impl<M> Block<M> {
    /// A block with every slot empty, from the spare blocks when one is kept
    /// (see `spare`).
    pub(super) fn alloc() -> *mut Block<M> {
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
    pub(super) unsafe fn free(block: *mut Block<M>) {
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
pub(super) struct HoleOnUnwind<'a, M> {
    pub(super) slot: &'a Slot<M>,
    pub(super) exempt: usize,
    /// Set when the claim scheduled the actor: the runner must still come,
    /// for the hole and for the senders that found the actor scheduled since.
    pub(super) resubmit: Option<&'a dyn Fn()>,
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

/// The consumer role, released on drop.
pub(super) struct Consumer<'a>(&'a AtomicBool);

impl Drop for Consumer<'_> {
    fn drop(&mut self) {
        // ORDERING: Release hands the head and the blocks to the next holder.
        self.0.store(false, Ordering::Release);
    }
}

impl<M, C> Mailbox<M, C> {
    /// Claims the next position, admitting it as `admit` says, with one CAS
    /// on `tail` that also moves `IDLE` to `SCHEDULED`.
    ///
    /// Inline, the common case: a send admitted at once into a slot of the
    /// tail's block that is not its last (no block to install, no lap
    /// beginning), won at the first try, and an actor's send refused at once
    /// behind parked sends. Anything else, including a lost CAS, goes to
    /// [`claim_slow`](Mailbox::claim_slow), which looks again from a fresh
    /// read; both make the same decision from the same word.
    #[inline(always)]
    pub(super) fn claim(&self, admit: Admit) -> Result<Claim<M>, Refused> {
        // ORDERING: Acquire, as in `claim_slow`.
        let t = self.tail.load(Ordering::Acquire);
        let admitted = match admit {
            Admit::Exempt => true,
            Admit::Counted | Admit::FromActor => t & PARKED == 0 && count(t) < self.capacity,
            _ => false,
        };
        let p = pos(t);
        let off = offset(p);
        if admitted && t & (CLOSED | FIRST) == 0 && off + 1 < BLOCK_CAP {
            // ORDERING: Acquire, as in `claim_slow`: the block's slots are
            // initialised.
            let block = self.tail_block.load(Ordering::Acquire);
            if !block.is_null() {
                let counted = admit != Admit::Exempt;
                let (next, submit) = claimed(t, counted);
                // ORDERING: AcqRel, as in `claim_slow`.
                if self
                    .tail
                    .compare_exchange_weak(t, next, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return Ok(Claim {
                        // SAFETY: `block` is live: our claim in it is not
                        // yet written, so the consumer cannot have freed it.
                        slot: unsafe { ptr::addr_of!((*block).slots[off]) },
                        exempt: !counted,
                        submit,
                    });
                }
            }
        }
        if admit == Admit::FromActor && t & (PARKED | CLOSED) == PARKED {
            // Parked sends wait: an actor's send queues behind them whatever
            // the room, as `claim_slow` decides from the same word.
            return Err(Refused::Full);
        }
        self.claim_slow(admit)
    }

    /// [`claim`](Mailbox::claim), every case.
    #[inline(never)]
    pub(super) fn claim_slow(&self, admit: Admit) -> Result<Claim<M>, Refused> {
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
                    if flag == PARKED && t & PARKED != 0 {
                        // Already said. PARKED is cleared only under the lock
                        // the caller holds: `t`, read under it, is no older
                        // than the last clear, so the flag stays set until
                        // the caller unlocks, every later RMW on `tail` (a
                        // pop's give-back among them) reads it, and this
                        // admission refuses whatever the room. The CAS below
                        // would change nothing but take the senders' line.
                        break Err(Refused::Full);
                    }
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
            let (next, submit) = claimed(t, counted);
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

    /// Claims up to `want` consecutive positions for parked sends moving in,
    /// with one CAS on `tail` that raises the count by as many: as many as
    /// there is room for, within the block at the tail. Falls back to
    /// [`claim`](Mailbox::claim) (one position) where a lap begins or a block
    /// is being installed. For the consumer role under the lock only
    /// (`make_room`): the caller writes every claimed slot at once, in
    /// position order, so the consumer (itself) never meets a claimed slot
    /// left unwritten, and no claim of another sender can come between the
    /// run's positions.
    pub(super) fn claim_run(&self, want: usize) -> Result<Run<M>, Refused> {
        debug_assert!(want >= 1);
        let mut spare: *mut Block<M> = ptr::null_mut();
        // ORDERING: Acquire, as in `claim`.
        let mut t = self.tail.load(Ordering::Acquire);
        let claimed = loop {
            if t & CLOSED != 0 {
                break Err(Refused::Closed);
            }
            let room = self.capacity.saturating_sub(count(t));
            if room == 0 {
                break Err(Refused::Full);
            }
            let p = pos(t);
            let off = offset(p);
            // ORDERING: Acquire pairs with the Release that stored the block
            // (an installer's): its slots are initialised.
            let block = self.tail_block.load(Ordering::Acquire);
            if off == BLOCK_CAP || t & FIRST != 0 || block.is_null() {
                // A lap's start or an install: the one-position claim knows
                // how to wait for, or make, the block.
                if !spare.is_null() {
                    // SAFETY: never shared: only a successful install
                    // publishes a spare.
                    unsafe { Block::free(spare) };
                }
                return self.claim(Admit::Parked).map(|c| Run {
                    first: c.slot,
                    len: 1,
                    submit: c.submit,
                });
            }
            let n = want.min(room).min(BLOCK_CAP - off);
            let ends_block = off + n == BLOCK_CAP;
            if ends_block && spare.is_null() {
                spare = Block::alloc();
            }
            // `off + n` stays within the lap, so the position cannot wrap in
            // between; ending on the marker, the claimant installs the next
            // block, as the claimant of a block's last slot does in `claim`.
            let mut next = with_pos(t, p + n as u64) + n as u64 * ONE_COUNT;
            let submit = t & STATE == IDLE;
            if submit {
                next |= SCHEDULED;
            }
            // ORDERING: AcqRel, as in `claim`.
            match self
                .tail
                .compare_exchange(t, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if ends_block {
                        let nb = std::mem::replace(&mut spare, ptr::null_mut());
                        self.install(block, nb);
                    }
                    // SAFETY: `block` is live: our claims in it are not yet
                    // written, so the consumer cannot have freed it.
                    let first = unsafe { ptr::addr_of!((*block).slots[off]) };
                    break Ok(Run {
                        first,
                        len: n,
                        submit,
                    });
                }
                Err(actual) => t = actual,
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
    pub(super) fn install(&self, block: *mut Block<M>, next: *mut Block<M>) {
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
    pub(super) fn write<T>(
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

    /// Takes the consumer role, waiting for a close from outside the pool to
    /// finish its drain.
    pub(super) fn consumer(&self) -> Consumer<'_> {
        let backoff = Backoff::new();
        loop {
            if let Some(c) = self.try_consumer() {
                return c;
            }
            backoff.snooze();
        }
    }

    pub(super) fn try_consumer(&self) -> Option<Consumer<'_>> {
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
    pub(super) fn take_head(&self, _role: &Consumer<'_>) -> Option<(Option<M>, bool, bool)> {
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
    pub(super) fn take_first(&self) -> Option<(Option<M>, bool, bool)> {
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
    pub(crate) fn pop(&self, accept_user: bool, wakers: &mut Resumes) -> Option<Popped<M, C>> {
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
        wakers: &mut Resumes,
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

    /// Whether the runner would find nothing to take: no control item and no
    /// claimed user position. Two loads, no lock; only a hint, for the same
    /// reason as in [`pop_hinted`](Mailbox::pop_hinted).
    pub(crate) fn looks_empty(&self) -> bool {
        // ORDERING: Acquire, as in `pop`; Relaxed for `head`, which only the
        // consumer role (this runner) writes.
        self.controls.load(Ordering::Acquire) == 0
            && pos(self.tail.load(Ordering::Acquire)) == self.head.load(Ordering::Relaxed)
    }

    /// Frees the head block if the lane is empty (step 5 of the protocol).
    pub(super) fn free_if_empty(&self, _role: &Consumer<'_>) {
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
