//! One timer thread per system: delayed and periodic callbacks.
//!
//! INTERFACE STUB: the bodies are being written; the signatures below are the
//! contract the actor runtime builds on.

use crate::error::BuildError;
use std::fmt;
use std::time::{Duration, Instant};

/// Cancels a scheduled message (or a periodic series) when asked.
///
/// Dropping the handle does not cancel; call [`TimerHandle::cancel`].
#[derive(Clone)]
pub struct TimerHandle {
    _private: (),
}

impl TimerHandle {
    /// Cancels the entry: it will not fire again. Returns `false` when it had
    /// already fired for the last time or was cancelled before.
    pub fn cancel(&self) -> bool {
        todo!()
    }
    /// Whether [`TimerHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        todo!()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TimerHandle { .. }")
    }
}

/// The timer thread of one system.
pub(crate) struct Timer {
    _private: (),
}

impl Timer {
    /// Starts the thread, named `name`.
    pub(crate) fn start(name: String) -> Result<Timer, BuildError> {
        let _ = name;
        todo!()
    }
    /// Runs `f` on the timer thread at `at` (at once if `at` has passed).
    pub(crate) fn once(&self, at: Instant, f: impl FnOnce() + Send + 'static) -> TimerHandle {
        let _ = (at, f);
        todo!()
    }
    /// Runs `f` at `first`, then every `period` (fixed rate, no burst to catch up).
    pub(crate) fn every(
        &self,
        first: Instant,
        period: Duration,
        f: impl FnMut() + Send + 'static,
    ) -> TimerHandle {
        let _ = (first, period, f);
        todo!()
    }
    /// Whether some entry is due now (deadline passed) or its callback is running.
    pub(crate) fn due_or_firing(&self) -> bool {
        todo!()
    }
    /// The earliest deadline of a pending (not cancelled) entry.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        todo!()
    }
    /// Stops and joins the thread; entries not yet fired are dropped. Idempotent.
    pub(crate) fn shutdown(&self) {
        todo!()
    }
}
