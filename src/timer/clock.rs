//! Where the timer reads the time: the system's monotonic clock, or a manual
//! clock that moves only when told (tests and loom models).

use crate::sync::Arc;
#[cfg(any(test, loom))]
use crate::sync::Mutex;
#[cfg(any(test, loom))]
use std::fmt;
use std::time::{Duration, Instant};

/// A callback registered with a [`Clock`], called after the clock jumps.
pub(crate) type Waker = Arc<dyn Fn() + Send + Sync>;

/// Where the timer reads the time.
pub(crate) trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Instant;

    /// How long a thread may sleep before `deadline` arrives, or `None` when the
    /// clock moves only when told (the waker registered with [`Clock::watch`]
    /// reports every move, so the thread waits until then).
    fn sleep_until(&self, deadline: Instant) -> Option<Duration> {
        Some(deadline.saturating_duration_since(self.now()))
    }

    /// Registers `wake`, to be called after every jump of the clock. A clock that
    /// moves on its own never jumps, so the default drops it.
    fn watch(&self, wake: Waker) {
        let _ = wake;
    }
}

/// The monotonic clock of the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it, for tests
/// and loom models (loom does not model time).
#[cfg(any(test, loom))]
pub(crate) struct ManualClock {
    inner: Mutex<ManualInner>,
}

#[cfg(any(test, loom))]
struct ManualInner {
    now: Instant,
    wakers: Vec<Waker>,
}

#[cfg(any(test, loom))]
impl ManualClock {
    /// A clock reading the real time of its creation until it is advanced.
    pub(crate) fn new() -> Self {
        ManualClock {
            inner: Mutex::new(ManualInner {
                now: Instant::now(),
                wakers: Vec::new(),
            }),
        }
    }

    /// Moves the time forward by `by`, then wakes every timer using this clock.
    pub(crate) fn advance(&self, by: Duration) {
        let wakers = {
            let mut inner = self.inner.lock();
            inner.now += by;
            inner.wakers.clone()
        };
        // Called after the clock's lock is released: a waker takes a timer's
        // lock, under which the timer thread reads this clock (see the lock
        // order in the module docs).
        for wake in wakers {
            wake();
        }
    }
}

#[cfg(any(test, loom))]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.inner.lock().now
    }

    fn sleep_until(&self, _deadline: Instant) -> Option<Duration> {
        None
    }

    fn watch(&self, wake: Waker) {
        self.inner.lock().wakers.push(wake);
    }
}

#[cfg(any(test, loom))]
impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}
