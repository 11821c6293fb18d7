//! Group commit: the queue between appenders and the journal's writer thread,
//! and the one-shot an appender waits on.
//!
//! # Protocol
//! 1. An appender pushes its request under the lock; it is refused (gets
//!    the request back) once the queue is closed. It signals `ready` only if
//!    the writer said, under the same lock, that it is waiting: a writer busy
//!    with a batch (the common case under load) costs an appender no wake-up
//!    call.
//! 2. The writer, finding the queue empty and open, marks itself waiting and
//!    waits on `ready` (the wait releases the lock, so a push after the mark
//!    sees it), then takes up to `max` requests in arrival order: everything
//!    that arrived while it was writing and syncing the last batch. It writes
//!    them all, syncs once, and completes each request after that one sync.
//!    So appends arriving while an fsync runs share the next fsync.
//! 3. `close` marks the queue closed and wakes the writer, which drains what
//!    was accepted before the close, then sees an empty closed queue and
//!    exits. No request is accepted and then forgotten.
//!
//! A waiting appender blocks on its own [`Completion`], which the writer
//! fills exactly once (or drops, which the waiter sees as closed), in one
//! critical section; it signals only if the appender marked itself waiting
//! there, the same handshake as the queue's.
//! `loom-tests/persist_group_commit.rs` models both.

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

    /// Refuses further requests; the writer drains the queued ones, then
    /// `take` returns `None`.
    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_all();
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
}

struct Slot<T> {
    state: Mutex<SlotState<T>>,
    filled: Condvar,
}

impl<T> Slot<T> {
    /// Ends the one-shot with `value` (`None`: closed unfilled) and wakes
    /// the appender if it waits.
    fn finish(&self, value: Option<T>) {
        let mut st = self.state.lock();
        st.value = value;
        st.done = true;
        let wake = st.waiting;
        drop(st);
        if wake {
            self.filled.notify_one();
        }
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
        }),
        filled: Condvar::new(),
    });
    (Completer(Some(Arc::clone(&slot))), Completion(slot))
}

impl<T> Completer<T> {
    pub(crate) fn complete(mut self, value: T) {
        if let Some(slot) = self.0.take() {
            slot.finish(Some(value));
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.finish(None);
        }
    }
}

impl<T> Completion<T> {
    /// Waits for the value; `None` if the writer dropped the request unfilled.
    pub(crate) fn wait(self) -> Option<T> {
        let mut st = self.0.state.lock();
        while !st.done {
            st.waiting = true;
            st = self.0.filled.wait(st);
            st.waiting = false;
        }
        st.value.take()
    }
}
