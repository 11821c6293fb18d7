//! The timer's min-heap of entries, keyed by `(deadline, seq)`, and the state
//! the timer lock guards.

use super::EntryState;
use crate::sync::{Arc, AtomicUsize, Ordering};
use std::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Purging cancelled entries is not worth a heap rebuild below this size.
const PURGE_MIN_LEN: usize = 64;

/// What an entry runs.
pub(super) enum Task {
    Once(Box<dyn FnOnce() + Send>),
    Every {
        period: Duration,
        f: Box<dyn FnMut() + Send>,
    },
}

/// One scheduled callback, ordered by `(deadline, seq)`.
pub(super) struct Entry {
    pub(super) deadline: Instant,
    /// Assigned by [`State::push`]; breaks ties in insertion order.
    pub(super) seq: u64,
    pub(super) state: Arc<EntryState>,
    pub(super) task: Task,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

/// What the timer lock guards.
pub(super) struct State {
    /// A min-heap through `Reverse`.
    pub(super) heap: BinaryHeap<Reverse<Entry>>,
    pub(super) next_seq: u64,
    /// Entries popped by the thread whose batch is not settled (invariant 2).
    pub(super) firing: usize,
    pub(super) shutdown: bool,
    /// What the timer thread waits for (protocol steps 1 and 2).
    pub(super) thread: ThreadWait,
}

/// Whether the timer thread waits on the condition variable, and until when.
/// Written by the thread under the lock, around its wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ThreadWait {
    /// Not waiting: it looks at the heap before it waits again (or there is
    /// no thread: an inline timer).
    Awake,
    /// Waiting until this instant, when it looks at the heap again.
    Until(Instant),
    /// Waiting until notified (an empty heap, or a manual clock).
    Indefinitely,
}

impl State {
    /// Pushes `entry` with the next sequence number; returns whether it is now
    /// the earliest entry.
    pub(super) fn push(&mut self, mut entry: Entry) -> bool {
        let seq = self.next_seq;
        self.next_seq += 1;
        entry.seq = seq;
        self.heap.push(Reverse(entry));
        self.heap.peek().is_some_and(|Reverse(top)| top.seq == seq)
    }

    /// Whether an entry due at `deadline`, just pushed as the earliest, must
    /// wake the thread: only if it waits for a later instant, or indefinitely.
    /// An awake thread looks at the heap before it waits again, and a thread
    /// waiting until an earlier instant finds the entry then.
    pub(super) fn must_wake_for(&self, deadline: Instant) -> bool {
        match self.thread {
            ThreadWait::Awake => false,
            ThreadWait::Until(at) => deadline < at,
            ThreadWait::Indefinitely => true,
        }
    }

    /// Pops cancelled entries off the top of the heap, for the caller to drop
    /// after unlocking.
    pub(super) fn pop_cancelled_top(&mut self) -> Vec<Entry> {
        let mut gone = Vec::new();
        self.pop_cancelled_top_into(usize::MAX, &mut gone);
        gone
    }

    /// Pops at most `most` cancelled entries off the top of the heap into
    /// `gone`, for the caller to drop after unlocking.
    pub(super) fn pop_cancelled_top_into(&mut self, most: usize, gone: &mut Vec<Entry>) {
        for _ in 0..most {
            let cancelled_top = self
                .heap
                .peek()
                .is_some_and(|Reverse(top)| !top.state.is_pending());
            if !cancelled_top {
                return;
            }
            if let Some(Reverse(entry)) = self.heap.pop() {
                gone.push(entry);
            }
        }
    }

    /// Removes every cancelled entry when about half the heap has been
    /// cancelled since the last purge, returning them for the caller to drop
    /// after unlocking. Each rebuild is paid for by the cancellations that
    /// triggered it, so it costs O(1) amortised per cancel.
    pub(super) fn purge_cancelled(&mut self, cancels: &AtomicUsize) -> Vec<Entry> {
        // ORDERING: Relaxed. The count is a hint; what is purged is decided by
        // each entry's own state below.
        let cancelled = cancels.load(Ordering::Relaxed);
        if self.heap.len() < PURGE_MIN_LEN || cancelled * 2 < self.heap.len() {
            return Vec::new();
        }
        // ORDERING: Relaxed (a hint, as above). Subtracting what was read keeps
        // cancels counted meanwhile; only this locked path ever subtracts.
        cancels.fetch_sub(cancelled, Ordering::Relaxed);
        let (keep, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.heap)
            .into_vec()
            .into_iter()
            .partition(|Reverse(entry)| entry.state.is_pending());
        self.heap = BinaryHeap::from(keep);
        gone.into_iter().map(|Reverse(entry)| entry).collect()
    }
}
