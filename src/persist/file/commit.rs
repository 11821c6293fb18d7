//! Group commit: the queue between appenders and the journal's writer thread,
//! and the one-shot an appender waits on.
//!
//! # Protocol
//! 1. An appender pushes its request under the lock and signals `ready`; it
//!    is refused (gets the request back) once the queue is closed.
//! 2. The writer waits on `ready` while the queue is empty and open, then
//!    takes up to `max` requests in arrival order: everything that arrived
//!    while it was writing and syncing the last batch. It writes them all,
//!    syncs once, and completes each request after that one sync. So appends
//!    arriving while an fsync runs share the next fsync.
//! 3. `close` marks the queue closed and wakes the writer, which drains what
//!    was accepted before the close, then sees an empty closed queue and
//!    exits. No request is accepted and then forgotten.
//!
//! A waiting appender blocks on its own [`Completion`], which the writer
//! fills exactly once (or drops, which the waiter sees as closed).
//! `loom-tests/persist_group_commit.rs` models both.

use crate::sync::{Arc, Condvar, Mutex};
use std::collections::VecDeque;
use std::fmt;

struct QueueState<R> {
    items: VecDeque<R>,
    closed: bool,
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
        drop(st);
        self.ready.notify_one();
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
            st = self.ready.wait(st);
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

struct Slot<T> {
    value: Mutex<(Option<T>, bool)>,
    filled: Condvar,
}

/// The writer's side of a one-shot: fills it, or (dropped unfilled) closes it.
pub(crate) struct Completer<T>(Arc<Slot<T>>);

/// The appender's side of a one-shot.
pub(crate) struct Completion<T>(Arc<Slot<T>>);

/// A one-shot for one append's outcome.
pub(crate) fn completion<T>() -> (Completer<T>, Completion<T>) {
    let slot = Arc::new(Slot {
        value: Mutex::new((None, false)),
        filled: Condvar::new(),
    });
    (Completer(Arc::clone(&slot)), Completion(slot))
}

impl<T> Completer<T> {
    pub(crate) fn complete(self, value: T) {
        self.0.value.lock().0 = Some(value);
        // Drop marks it done and wakes the waiter.
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        self.0.value.lock().1 = true;
        self.0.filled.notify_all();
    }
}

impl<T> Completion<T> {
    /// Waits for the value; `None` if the writer dropped the request unfilled.
    pub(crate) fn wait(self) -> Option<T> {
        let mut v = self.0.value.lock();
        while !v.1 {
            v = self.0.filled.wait(v);
        }
        v.0.take()
    }
}
