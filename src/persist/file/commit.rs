//! Group commit: the queue between appenders and the journal's writer thread
//! (and between the writer and its completer), the one-shot an appender
//! waits on, and the release that wakes a batch.
//!
//! # Protocol
//! 1. An appender pushes its request under the lock; it is refused (gets
//!    the request back) once the queue is closed. It signals `ready` only if
//!    the writer said, under the same lock, that it is waiting: a writer busy
//!    with a batch (the common case under load) costs an appender no wake-up
//!    call.
//! 2. The writer takes a batch: finding the queue empty and open, it marks
//!    itself waiting and waits on `ready` (the wait releases the lock, so a
//!    push after the mark sees it), then takes up to `max` requests in
//!    arrival order. (Before it takes, it may yield for a bounded while to
//!    blocked appenders on their way back, see `writer.rs`; then it blocks,
//!    so an idle journal costs no CPU.) It writes them
//!    all, syncs once, and only after that one sync settles each request.
//!    So appends arriving while an fsync runs share the next fsync.
//! 3. The writer hands each settled batch to the completer through a second
//!    queue of this kind and takes its next batch at once: the completer
//!    answers batch N while the writer writes and syncs batch N+1. The
//!    completer takes settled batches in the order they were handed over
//!    ([`complete`]), so answers keep the writer's order.
//! 4. The completer wakes a batch's blocked appenders through one
//!    [`Release`]: it fills the batch's first one-shot and hands it all the
//!    others; each appender, once awake, fills the first one-shot of each
//!    half of what it was handed and hands it the rest of its half, before
//!    returning. Every one-shot is filled exactly once, each by one thread,
//!    and the completer makes one wake-up call per batch instead of one per
//!    append.
//! 5. `close` marks the queue closed and wakes the writer, which drains what
//!    was accepted before the close, then sees an empty closed queue, closes
//!    the completer's queue and exits; the completer drains that queue the
//!    same way and exits. No request is accepted and then forgotten.
//!
//! A waiting appender blocks on its own [`Completion`], which is filled
//! exactly once (or closed by a dropped [`Completer`]) in one critical
//! section that also stores the relay it must pass on; it signals only if the
//! appender marked itself waiting there, the same handshake as the queue's.
//! An appender that drops its completion unwaited marks it gone and passes
//! on any relay it holds; one filled after that is passed on by its filler.
//! So no relay is stranded. `loom-tests/persist_group_commit.rs` models the
//! queue, the one-shot and the relay; `loom-tests/persist_pipeline.rs` the
//! writer's handoff to the completer.

use crate::sync::{Arc, Condvar, Mutex};

use std::collections::VecDeque;
use std::fmt;

struct QueueState<R> {
    items: VecDeque<R>,
    closed: bool,
    /// The writer waits on `ready` (set and cleared by it, under the lock).
    writer_waiting: bool,
}

/// A closable multi-producer queue drained in batches by one writer.
pub(crate) struct CommitQueue<R> {
    state: Mutex<QueueState<R>>,
    ready: Condvar,
}

impl<R> CommitQueue<R> {
    pub(crate) fn new() -> Self {
        CommitQueue {
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                closed: false,
                writer_waiting: false,
            }),
            ready: Condvar::new(),
        }
    }

    /// Queues `r` for the writer, or hands it back if the queue is closed.
    pub(crate) fn submit(&self, r: R) -> Result<(), R> {
        let mut st = self.state.lock();
        if st.closed {
            return Err(r);
        }
        st.items.push_back(r);
        let wake = st.writer_waiting;
        drop(st);
        if wake {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Waits for requests and takes up to `max` (at least one), oldest first;
    /// `None` once the queue is closed and drained.
    pub(crate) fn take(&self, max: usize) -> Option<Vec<R>> {
        let mut st = self.state.lock();
        loop {
            if !st.items.is_empty() {
                let n = st.items.len().min(max.max(1));
                return Some(st.items.drain(..n).collect());
            }
            if st.closed {
                return None;
            }
            st.writer_waiting = true;
            st = self.ready.wait(st);
            st.writer_waiting = false;
        }
    }

    /// How many requests are queued; `None` once the queue is closed.
    pub(crate) fn queued(&self) -> Option<usize> {
        let st = self.state.lock();
        (!st.closed).then_some(st.items.len())
    }

    /// Refuses further requests; the writer drains the queued ones, then
    /// `take` returns `None`.
    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_all();
    }
}

/// The completer's loop: takes what the writer settled, oldest first, and
/// hands each to `deliver`, until the writer closed the queue and it is
/// drained.
pub(crate) fn complete<S>(settled: &CommitQueue<S>, mut deliver: impl FnMut(S)) {
    while let Some(batch) = settled.take(usize::MAX) {
        for s in batch {
            deliver(s);
        }
    }
}

impl<R> fmt::Debug for CommitQueue<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CommitQueue { .. }")
    }
}

struct SlotState<T> {
    value: Option<T>,
    /// Filled, or given up by a dropped completer.
    done: bool,
    /// The appender waits on `filled` (set and cleared by it, under the lock).
    waiting: bool,
    /// The appender's side was dropped: nobody will pass `relay` on, so
    /// whoever fills the slot does.
    gone: bool,
    /// Later one-shots of the same batch that this appender wakes once it
    /// wakes itself (see [`Release`]).
    relay: Vec<Filled<T>>,
}

struct Slot<T> {
    state: Mutex<SlotState<T>>,
    filled: Condvar,
}

/// A one-shot and the value to fill it with.
type Filled<T> = (Arc<Slot<T>>, Option<T>);

impl<T> Slot<T> {
    /// Ends the one-shot with `value` (`None`: closed unfilled), hands it
    /// `relay` to pass on, and wakes the appender if it waits. If the
    /// appender is gone, passes `relay` on itself.
    fn finish(&self, value: Option<T>, relay: Vec<Filled<T>>) {
        let mut st = self.state.lock();
        debug_assert!(!st.done, "a one-shot is filled once");
        st.value = value;
        st.done = true;
        if st.gone {
            drop(st);
            pass_on(relay);
            return;
        }
        st.relay = relay;
        let wake = st.waiting;
        drop(st);
        if wake {
            self.filled.notify_one();
        }
    }
}

/// Fills the first one-shot of each half of `filled` and hands it the rest
/// of its half to pass on: a binary tree of wake-ups, so no thread makes
/// more than two wake-up calls for a batch, however large.
fn pass_on<T>(mut filled: Vec<Filled<T>>) {
    if filled.is_empty() {
        return;
    }
    let mut second = filled.split_off(filled.len().div_ceil(2));
    for half in [&mut filled, &mut second] {
        if half.is_empty() {
            continue;
        }
        let (slot, value) = half.remove(0);
        slot.finish(value, std::mem::take(half));
    }
}

/// The writer's side of a one-shot: fills it, or (dropped unfilled) closes it.
pub(crate) struct Completer<T>(Option<Arc<Slot<T>>>);

/// The appender's side of a one-shot.
pub(crate) struct Completion<T>(Arc<Slot<T>>);

/// A one-shot for one append's outcome.
pub(crate) fn completion<T>() -> (Completer<T>, Completion<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            done: false,
            waiting: false,
            gone: false,
            relay: Vec::new(),
        }),
        filled: Condvar::new(),
    });
    (Completer(Some(Arc::clone(&slot))), Completion(slot))
}

impl<T> Completer<T> {
    /// Fills the one-shot now, waking its appender.
    pub(crate) fn complete(mut self, value: T) {
        if let Some(slot) = self.0.take() {
            slot.finish(Some(value), Vec::new());
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.finish(None, Vec::new());
        }
    }
}

impl<T> fmt::Debug for Completer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Completer { .. }")
    }
}

/// The one-shots of one batch, filled together when the batch is settled.
///
/// The filler makes one wake-up call: the appender it wakes wakes up to two
/// more before it returns, and each of those up to two more (see
/// [`pass_on`]). So the writer, which would otherwise make one wake-up call
/// per append while every later batch waits for it, is back at its queue
/// after one, and the wake-ups of a large batch run on the appenders'
/// threads, in parallel. One call rather than two matters on few CPUs: the
/// woken appender often takes the filler's CPU at once, and a second root
/// would wait for the filler to run again, its half of the batch then
/// missing the next sync. Dropped unreleased, it releases what it holds (a
/// one-shot is never left unfilled).
pub(crate) struct Release<T> {
    filled: Vec<Filled<T>>,
}

impl<T> Release<T> {
    #[cfg_attr(not(loom), allow(dead_code))]
    pub(crate) fn new() -> Self {
        Release::with_capacity(0)
    }

    /// A release with room for `n` one-shots.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Release {
            filled: Vec::with_capacity(n),
        }
    }

    /// Fills `done` with `value` when the release happens.
    pub(crate) fn push(&mut self, mut done: Completer<T>, value: T) {
        if let Some(slot) = done.0.take() {
            self.filled.push((slot, Some(value)));
        }
    }

    /// Fills every one-shot pushed and wakes their appenders.
    pub(crate) fn release(self) {}
}

impl<T> Drop for Release<T> {
    /// Fills the first one-shot and hands it all the others to pass on.
    fn drop(&mut self) {
        let mut filled = std::mem::take(&mut self.filled);
        if filled.is_empty() {
            return;
        }
        let (slot, value) = filled.remove(0);
        slot.finish(value, filled);
    }
}

impl<T> fmt::Debug for Release<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Release({} one-shots)", self.filled.len())
    }
}

impl<T> Completion<T> {
    /// Waits for the value; `None` if the writer dropped the request unfilled.
    /// Then wakes the appenders it was handed (see [`Release`]).
    pub(crate) fn wait(self) -> Option<T> {
        let mut st = self.0.state.lock();
        while !st.done {
            st.waiting = true;
            st = self.0.filled.wait(st);
            st.waiting = false;
        }
        let value = st.value.take();
        let relay = std::mem::take(&mut st.relay);
        drop(st);
        pass_on(relay);
        value
    }
}

impl<T> Drop for Completion<T> {
    /// An appender that leaves without waiting still passes its relay on,
    /// or leaves it to whoever fills its slot later.
    fn drop(&mut self) {
        let mut st = self.0.state.lock();
        st.gone = true;
        let relay = std::mem::take(&mut st.relay);
        drop(st);
        pass_on(relay);
    }
}
