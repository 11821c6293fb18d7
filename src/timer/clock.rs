//! Where the timer reads the time: the system's monotonic clock, or a manual
//! clock that moves only when told (tests, loom models, and users' tests
//! through [`crate::testkit`]).

use crate::sync::{Arc, Mutex};
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

/// A clock that stands still until [`ManualClock::advance`] moves it.
///
/// A [`System`](crate::System) built with one
/// ([`SystemBuilder::clock`](crate::SystemBuilder::clock)) reads all its time
/// through it: delayed and periodic messages, ask timeouts, child shutdown
/// timeouts, restart backoff and the circuit breaker's timeouts move only
/// when the test advances the clock, so a test of timed behaviour never
/// sleeps. Clones share one time. The clock
/// starts at the real time of its creation and never goes back.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::ManualClock;
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.clone().advance(Duration::from_secs(3));
/// assert_eq!(clock.now() - t0, Duration::from_secs(3));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualInner>>,
}

struct ManualInner {
    now: Instant,
    wakers: Vec<Waker>,
}

impl ManualClock {
    /// A clock reading the real time of its creation until it is advanced.
    pub fn new() -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new(ManualInner {
                now: Instant::now(),
                wakers: Vec::new(),
            })),
        }
    }

    /// The clock's current time.
    pub fn now(&self) -> Instant {
        self.inner.lock().now
    }

    /// Moves the time forward by `by`, then wakes every timer using this clock.
    ///
    /// It returns once the timers have been told, not once they have fired:
    /// follow it with [`System::await_quiescent`](crate::System::await_quiescent)
    /// to wait until what came due has been delivered and handled.
    pub fn advance(&self, by: Duration) {
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

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        ManualClock::now(self)
    }

    fn sleep_until(&self, _deadline: Instant) -> Option<Duration> {
        None
    }

    fn watch(&self, wake: Waker) {
        self.inner.lock().wakers.push(wake);
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}
