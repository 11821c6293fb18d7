//! The actor whose turn runs on this thread, so that a plain `tell` made by
//! its handler can suspend it as [`crate::Context::send`] does instead of
//! blocking the worker or failing.
//!
//! A turn publishes a [`Current`] record on its stack through a thread-local
//! pointer for as long as it runs, and clears it when it ends (also when it
//! unwinds). The record is only read through `&`: what a `tell` changes (the
//! sends it parked) is a `Cell` the turn folds into its context after each
//! item, before the next pop, so the actor takes no user message while a
//! send it made is parked. One thread-local store at each end of a turn; a
//! `tell` reads the pointer once.

use super::stage::Stage;
use super::{Cell, SendFrom};
use crate::actor::Actor;
use crate::mailbox::{SendWaker, Sent};
use crate::quiet::{Credit, Quiet};
use crate::runtime::Shared;
use crate::sync::Arc;
use std::cell::Cell as StdCell;
use std::ptr;

/// The running turn, as a sender.
pub(crate) struct Current<'a> {
    id: u64,
    system: *const Shared,
    waker: &'a dyn Fn() -> Arc<dyn SendWaker>,
    quiet: &'a Quiet,
    /// The in-flight credit of `tell`s made through this record (the turn's
    /// own lives in the context the handler holds); the turn takes what is
    /// left at its end.
    credit: Credit,
    /// The sends of the running handler held behind one that parked (see
    /// `stage.rs`): begun by a context's send, joined by the context's and
    /// by `tell`s' later sends to the same target. Its count of parked
    /// sends is also where `tell`s count theirs.
    stage: Stage,
}

crate::sync::thread_local! {
    static CURRENT: StdCell<*const Current<'static>> = const { StdCell::new(ptr::null()) };
}

/// Whether a turn runs on this thread now (on a pool worker or a dedicated
/// thread): a panic here is inside the turn, whose handlers and hooks run
/// under `catch_unwind`. Only the panic hook asks, which loom builds leave
/// out.
#[cfg(not(loom))]
pub(crate) fn in_turn() -> bool {
    CURRENT.with(|c| !c.get().is_null())
}

impl<'a> Current<'a> {
    #[inline]
    pub(crate) fn new(
        id: u64,
        system: &'a Arc<Shared>,
        waker: &'a dyn Fn() -> Arc<dyn SendWaker>,
    ) -> Self {
        Current {
            id,
            system: Arc::as_ptr(system),
            waker,
            quiet: system.quiet(),
            credit: Credit::default(),
            stage: Stage::new(),
        }
    }

    /// Publishes this record for the thread until the guard drops.
    #[inline]
    pub(crate) fn enter(&self) -> Entered {
        let me = ptr::from_ref(self).cast::<Current<'static>>();
        Entered(CURRENT.with(|c| c.replace(me)))
    }

    /// Pushes the sends the handler that just returned held, then returns
    /// the sends parked since the last call: by `tell`s, and held sends
    /// that parked when pushed.
    #[inline]
    pub(crate) fn take_parked(&self) -> usize {
        if !self.stage.is_empty() {
            self.push_held();
        }
        self.stage.take_parked()
    }

    /// Pushes what the handler that returned held.
    #[cold]
    #[inline(never)]
    fn push_held(&self) {
        self.stage.push(&self.from());
    }

    /// The credit `tell`s took and did not use, for the turn to give back.
    #[inline]
    pub(crate) fn take_credit(&self) -> usize {
        self.credit.take_left()
    }

    fn from(&self) -> SendFrom<'_> {
        SendFrom {
            id: self.id,
            waker: self.waker,
            quiet: self.quiet,
            credit: &self.credit,
            stage: Some(&self.stage),
            begins: false,
        }
    }
}

/// Restores the thread's previous record (none, outside a turn).
pub(crate) struct Entered(*const Current<'static>);

impl Drop for Entered {
    #[inline]
    fn drop(&mut self) {
        let prev = self.0;
        CURRENT.with(|c| c.set(prev));
    }
}

/// The turn of a given system running on this thread (not `Send`: it
/// points at the turn's stack).
pub(crate) struct Turn(*const Current<'static>);

/// The turn of `system` running on this thread, if any.
#[inline]
pub(crate) fn running_turn(system: &Arc<Shared>) -> Option<Turn> {
    let cur = CURRENT.with(StdCell::get);
    (!cur.is_null() && ptr::eq(unsafe_ref(cur).system, Arc::as_ptr(system))).then_some(Turn(cur))
}

impl Turn {
    /// The running actor as the sender.
    pub(crate) fn from(&self) -> SendFrom<'_> {
        unsafe_ref(self.0).from()
    }

    /// Records what became of a send made with [`Turn::from`]: a parked
    /// one suspends the actor once the turn folds it in.
    pub(crate) fn sent(&self, sent: &Sent) {
        if let Sent::Parked = sent {
            unsafe_ref(self.0).stage.count_parked(1);
        }
    }
}

/// The held sends of the turn of actor `id` running on this thread, for a
/// send from its context.
#[inline]
pub(crate) fn stage_of<'a>(id: u64) -> Option<&'a Stage> {
    let cur = CURRENT.with(StdCell::get);
    if cur.is_null() {
        return None;
    }
    let cur = unsafe_ref(cur);
    (cur.id == id).then_some(&cur.stage)
}

/// Before a send of the running turn to `cell` that bypasses the stage (a
/// `try_tell`, a send that may block): pushes what the turn holds for it,
/// so the send goes in behind those.
#[inline]
pub(crate) fn push_held_to<A: Actor>(cell: &Arc<Cell<A>>) {
    let cur = CURRENT.with(StdCell::get);
    if !cur.is_null() {
        let cur = unsafe_ref(cur);
        cur.stage.push_if_held(cell, &cur.from());
    }
}

/// The record behind a non-null pointer of this thread.
#[allow(unsafe_code)]
fn unsafe_ref<'a>(p: *const Current<'static>) -> &'a Current<'a> {
    // SAFETY: the pointer is set only by `Current::enter`, to a record that
    // outlives its guard, and the guard clears it (restoring the previous
    // one) before the record goes; it is read only on the thread that set
    // it, inside the turn that owns the record, and only through `&`.
    unsafe { &*p.cast::<Current<'a>>() }
}
