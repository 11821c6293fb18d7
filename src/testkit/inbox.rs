//! The queue behind a probe and a dead-letter collector, with the waits every expectation is built on.
//!
//! A [`Feed`] pushes, an [`Inbox`] takes in order. The queue closes when the
//! last feed is dropped (the probe's actor stopped, the system that held the
//! dead-letter hook went away); the inbox still hands out what was queued.
//! Every wait is bounded by a wall-clock deadline: the time a test thread may
//! be held, whatever clock the system reads.
//!
//! # Protocol
//!
//! Items and the count of live feeds sit under one lock. A push and the drop
//! of the last feed change them under the lock and then notify every waiter;
//! a waiter looks under the lock and waits on the condition variable without
//! releasing it in between, so it either sees the change or gets the
//! notification. Modelled in `loom-tests/testkit_inbox.rs`.

use super::error::ExpectError;
use crate::sync::{Arc, Condvar, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

struct State<T> {
    items: VecDeque<T>,
    /// Feeds alive; the queue is closed when it reaches zero.
    feeds: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Notified on every push and when the last feed goes.
    cond: Condvar,
}

/// The receiving side: takes items in the order they were pushed.
pub(crate) struct Inbox<T> {
    shared: Arc<Shared<T>>,
}

/// A sending side; the queue closes when the last one is dropped.
pub(crate) struct Feed<T> {
    shared: Arc<Shared<T>>,
}

/// The wall-clock instant `d` from now; `Duration::MAX` (wait for ever)
/// is clamped to a century.
pub(crate) fn wall_deadline(d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(d.min(CENTURY)).unwrap_or(now)
}

/// What one bounded wait found.
enum Next<T> {
    Item(T),
    Timeout,
    Closed,
}

/// An empty queue and its first feed.
pub(crate) fn queue<T>() -> (Feed<T>, Inbox<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            feeds: 1,
        }),
        cond: Condvar::new(),
    });
    (
        Feed {
            shared: Arc::clone(&shared),
        },
        Inbox { shared },
    )
}

impl<T> Feed<T> {
    pub(crate) fn push(&self, item: T) {
        self.shared.state.lock().items.push_back(item);
        self.shared.cond.notify_all();
    }
}

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().feeds += 1;
        Feed {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Feed<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.feeds -= 1;
        if state.feeds == 0 {
            drop(state);
            self.shared.cond.notify_all();
        }
    }
}

impl<T> Inbox<T> {
    /// The next item, waiting until `deadline`.
    fn next_until(&self, deadline: Instant) -> Next<T> {
        let mut state = self.shared.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Next::Item(item);
            }
            if state.feeds == 0 {
                return Next::Closed;
            }
            let now = Instant::now();
            if now >= deadline {
                return Next::Timeout;
            }
            state = self.shared.cond.wait_timeout(state, deadline - now);
        }
    }

    /// A new feed into this queue (reopening it if it was closed).
    pub(crate) fn feed(&self) -> Feed<T> {
        self.shared.state.lock().feeds += 1;
        Feed {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The next item without waiting.
    pub(crate) fn try_next(&self) -> Option<T> {
        self.shared.state.lock().items.pop_front()
    }

    /// How many items are queued.
    pub(crate) fn len(&self) -> usize {
        self.shared.state.lock().items.len()
    }

    /// The next item that `accept` takes, skipping (dropping) the others, or
    /// an error naming `expected` with the skipped items.
    pub(crate) fn fish(
        &self,
        within: Duration,
        expected: impl FnOnce() -> String,
        mut accept: impl FnMut(&T) -> bool,
    ) -> Result<T, ExpectError<T>> {
        let deadline = wall_deadline(within);
        let mut skipped = Vec::new();
        loop {
            match self.next_until(deadline) {
                Next::Item(item) if accept(&item) => return Ok(item),
                Next::Item(item) => skipped.push(item),
                Next::Timeout => {
                    return Err(ExpectError::Timeout {
                        expected: expected(),
                        within,
                        received: skipped,
                    });
                }
                Next::Closed => {
                    return Err(ExpectError::Closed {
                        expected: expected(),
                        received: skipped,
                    });
                }
            }
        }
    }

    /// The next item, which `check` must accept; otherwise it is handed back in
    /// [`ExpectError::Unexpected`].
    pub(crate) fn expect(
        &self,
        within: Duration,
        expected: impl FnOnce() -> String,
        check: impl FnOnce(&T) -> bool,
    ) -> Result<T, ExpectError<T>> {
        let deadline = wall_deadline(within);
        match self.next_until(deadline) {
            Next::Item(item) if check(&item) => Ok(item),
            Next::Item(got) => Err(ExpectError::Unexpected {
                expected: expected(),
                got,
            }),
            Next::Timeout => Err(ExpectError::Timeout {
                expected: expected(),
                within,
                received: Vec::new(),
            }),
            Next::Closed => Err(ExpectError::Closed {
                expected: expected(),
                received: Vec::new(),
            }),
        }
    }

    /// Succeeds if nothing arrives for `quiet` (or the queue closes empty).
    pub(crate) fn expect_none(&self, quiet: Duration) -> Result<(), ExpectError<T>> {
        let deadline = wall_deadline(quiet);
        match self.next_until(deadline) {
            Next::Item(got) => Err(ExpectError::Unexpected {
                expected: format!("nothing for {quiet:?}"),
                got,
            }),
            Next::Timeout | Next::Closed => Ok(()),
        }
    }

    /// The next `n` items, all within `within`.
    pub(crate) fn take_n(&self, n: usize, within: Duration) -> Result<Vec<T>, ExpectError<T>> {
        let deadline = wall_deadline(within);
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            match self.next_until(deadline) {
                Next::Item(item) => got.push(item),
                Next::Timeout => {
                    return Err(ExpectError::Timeout {
                        expected: format!("{n} messages"),
                        within,
                        received: got,
                    });
                }
                Next::Closed => {
                    return Err(ExpectError::Closed {
                        expected: format!("{n} messages"),
                        received: got,
                    });
                }
            }
        }
        Ok(got)
    }
}

impl<T> fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("Inbox")
            .field("queued", &state.items.len())
            .field("closed", &(state.feeds == 0))
            .finish()
    }
}
