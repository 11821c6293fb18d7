//! The sends a handler holds back once one of its sends to a target parked.
//!
//! An actor's send that finds its target's mailbox full parks, and every
//! later send of the same actor to that target queues behind it (an actor's
//! messages to one target keep their order). Parking one send takes the
//! target's lock, which its consumer also takes to move parked sends in: a
//! producer whose turn sends a batch into a full mailbox would take it once
//! per message. Instead, once a send of a handler parked, the handler's
//! later sends to the same target are held in the turn's [`Stage`], counted
//! in flight, and pushed together under one lock when the handler returns
//! (`Mailbox::push_or_park_staged`): they join the parked run, or, if the
//! consumer moved it in meanwhile, claim places or park a run of their own.
//!
//! # Invariants
//!
//! - One target at a time, identified by its cell's address (the stage
//!   holds a reference, so the address is not reused meanwhile). A send of
//!   the turn that parks on another target first pushes what is held.
//! - What is held is pushed before the turn takes its next item, so the
//!   actor counts the sends that parked before it can handle the notice of
//!   their delivery, and before any other send of the turn to the same
//!   target (`try_tell`, a send that may block: `Cell::deliver_try` and
//!   `Cell::deliver_blocking`), so one sender's messages to one target still
//!   arrive in the order they were sent.
//! - Every held message was counted in flight when it was held. One whose
//!   target stopped meanwhile is a dead letter, uncounted, like a parked
//!   send dropped by a closing mailbox: the handler was told it was sent.
//!
//! What holding changes: held sends reach the target's mailbox when the
//! handler returns, not as it runs. One sender's messages to one target
//! keep their order, but a message that a third actor sends to the target
//! because of something this handler did (a reply, a tell) may now go in
//! ahead of them; no order between different senders is promised.

use super::{Cell, Envelope, SendFrom};
use crate::actor::Actor;
use crate::sync::Arc;
use std::any::Any;
use std::cell::Cell as StdCell;

/// A turn's held sends (see the module docs). Lives on the turn's stack and
/// is reached only from the thread running the turn.
pub(crate) struct Stage {
    /// The address of the cell whose sends are held; null for none. Read
    /// by every send of the turn, so kept apart from the box.
    target: StdCell<*const ()>,
    /// Made by the first held send; taken out while in use, so no borrow
    /// is ever left open.
    held: StdCell<Option<Box<dyn Held>>>,
    /// The turn's sends that parked since it last counted them: by `tell`
    /// (see `current.rs`), and held sends that parked when pushed.
    parked: StdCell<usize>,
}

/// The held sends to one target, of its message type.
trait Held {
    fn as_any(&mut self) -> &mut dyn Any;
    /// Pushes the held sends in order; returns how many parked.
    fn push(self: Box<Self>, from: &SendFrom<'_>) -> usize;
    /// Drops the held sends as dead letters (see `Drop for Stage`).
    fn abandon(self: Box<Self>);
}

/// Should the turn unwind between a handler and the push after it (a panic
/// in the runtime's own code, outside the handlers' `catch_unwind`), what
/// is held goes to dead letters, uncounted, rather than vanish while
/// counted in flight.
impl Drop for Stage {
    fn drop(&mut self) {
        if let Some(h) = self.held.take() {
            h.abandon();
        }
    }
}

struct HeldFor<A: Actor> {
    cell: Arc<Cell<A>>,
    items: Vec<Envelope<A::Msg>>,
}

impl<A: Actor> Held for HeldFor<A> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn push(self: Box<Self>, from: &SendFrom<'_>) -> usize {
        let HeldFor { cell, items } = *self;
        cell.push_held(items, from)
    }

    fn abandon(self: Box<Self>) {
        let HeldFor { cell, items } = *self;
        log::error!(
            "actor {}: {} sends held by a turn that unwound go to dead letters",
            cell.label(),
            items.len()
        );
        cell.dead_letter_held(items);
    }
}

/// Room the first held send makes for those that follow it.
const FIRST_HELD: usize = 32;

fn address<A: Actor>(cell: &Arc<Cell<A>>) -> *const () {
    Arc::as_ptr(cell).cast()
}

impl Stage {
    pub(crate) fn new() -> Self {
        Stage {
            target: StdCell::new(std::ptr::null()),
            held: StdCell::new(None),
            parked: StdCell::new(0),
        }
    }

    /// Whether sends to `cell` are held now.
    #[inline]
    pub(crate) fn holds<A: Actor>(&self, cell: &Arc<Cell<A>>) -> bool {
        self.target.get() == address(cell)
    }

    /// Holds a send to the target being held (see [`holds`](Stage::holds)).
    pub(crate) fn hold<A: Actor>(&self, cell: &Arc<Cell<A>>, env: Envelope<A::Msg>) {
        debug_assert!(self.holds(cell));
        let held: Box<dyn Held> = match self.held.take() {
            Some(mut h) => {
                match h.as_any().downcast_mut::<HeldFor<A>>() {
                    Some(h) => h.items.push(env),
                    None => unreachable!("the box holds a reference to the target it names"),
                }
                h
            }
            // The first held send: the box is made only now, so a handler
            // that parks one send on each of many targets allocates nothing.
            // A handler that holds one usually holds a batch.
            None => {
                let mut items = Vec::with_capacity(FIRST_HELD);
                items.push(env);
                Box::new(HeldFor {
                    cell: Arc::clone(cell),
                    items,
                })
            }
        };
        self.held.set(Some(held));
    }

    /// Begins holding the sends to `cell`, one of whose sends just parked;
    /// what was held for another target is pushed first. Until a send is
    /// held, only the address is kept; should the target be freed and
    /// another actor take its address within the handler, sends to that one
    /// would be held too, still in order (they are pushed as any held send).
    #[inline]
    pub(crate) fn begin<A: Actor>(&self, cell: &Arc<Cell<A>>, from: &SendFrom<'_>) {
        if !self.target.get().is_null() {
            self.push(from);
        }
        self.target.set(address(cell));
    }

    /// Pushes what is held, if it is for `cell` (before a send of the turn
    /// that bypasses the stage).
    pub(crate) fn push_if_held<A: Actor>(&self, cell: &Arc<Cell<A>>, from: &SendFrom<'_>) {
        if self.holds(cell) {
            self.push(from);
        }
    }

    /// Pushes what is held, if anything.
    pub(crate) fn push(&self, from: &SendFrom<'_>) {
        if self.target.get().is_null() {
            return;
        }
        self.target.set(std::ptr::null());
        // Taken out before pushing: a dead letter's drop (user code) may
        // send again through this stage.
        if let Some(h) = self.held.take() {
            let parked = h.push(from);
            self.count_parked(parked);
        }
    }

    /// Counts sends of the turn that parked.
    #[inline]
    pub(crate) fn count_parked(&self, n: usize) {
        self.parked.set(self.parked.get() + n);
    }

    /// The sends of the turn that parked since the last call.
    #[inline]
    pub(crate) fn take_parked(&self) -> usize {
        self.parked.replace(0)
    }

    /// Whether no target is held: what the turn checks after each item.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.target.get().is_null()
    }
}

impl<A: Actor> Cell<A> {
    /// Pushes the sends a handler held for this actor (see the module docs).
    fn push_held(self: &Arc<Self>, items: Vec<Envelope<A::Msg>>, from: &SendFrom<'_>) -> usize {
        if items.is_empty() {
            return 0;
        }
        let park = || {
            self.shared
                .waits
                .try_wait(from.id, self.id)
                .then(from.waker)
        };
        match self.mailbox.push_or_park_staged(items, from.id, park) {
            Ok((parked, schedule)) => {
                self.after_push(schedule);
                parked
            }
            Err(items) => {
                // Stopped since the send that parked: dead letters, as the
                // parked sends its close dropped.
                self.dead_letter_held(items);
                0
            }
        }
    }

    /// Held sends that will never go in: dead letters, uncounted.
    fn dead_letter_held(&self, items: Vec<Envelope<A::Msg>>) {
        let n = items.len();
        let label = self.label();
        for env in items {
            self.dead_letter_envelope(&label, env);
        }
        self.shared.work_done(n);
    }
}
