//! [`Breaker`]: the state machine behind a lock, guarding calls made inline
//! on the caller's thread.
//!
//! # Protocol
//! Admission and recording each take the lock once; the call itself runs
//! outside it, so callers on many threads are admitted one at a time but call
//! in parallel. Listeners run under the lock, so every listener sees events in
//! the order the state machine made them.

use super::config::BreakerConfig;
use super::error::CallError;
use super::events::Listeners;
use super::metrics::BreakerMetrics;
use super::state::{Permit, Rejected, StateMachine, Verdict};
use crate::sync::Mutex;
use std::time::{Duration, Instant};

/// A circuit breaker for calls made inline, on the caller's thread; share it
/// between threads behind an `Arc`.
///
/// The open state ends lazily: the first call after the reset time becomes
/// the probe (there is no timer behind an inline breaker; the breaker actor
/// has one). The breaker cannot interrupt a call: one that returns after the
/// call timeout is counted as a timeout, and its result is still handed back,
/// since the caller waited for it anyway.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{Breaker, BreakerConfig, CallError, State};
/// use std::time::Duration;
///
/// let breaker = Breaker::new(BreakerConfig::builder().max_failures(2).build()?);
/// assert_eq!(breaker.call(|| Ok::<_, String>(1)), Ok(1));
/// for _ in 0..2 {
///     assert!(matches!(breaker.call(|| Err::<u32, _>("down")), Err(CallError::Failed("down"))));
/// }
/// assert_eq!(breaker.state(), State::Open);
/// // Open: the closure is not run.
/// assert!(matches!(breaker.call(|| -> Result<u32, &str> { unreachable!() }), Err(CallError::Rejected(_))));
/// assert_eq!(breaker.metrics().rejections, 1);
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Breaker {
    machine: Mutex<StateMachine>,
    listeners: Listeners,
    call_timeout: Duration,
}

impl Breaker {
    /// A closed breaker with no listeners.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, State};
    /// use std::sync::Arc;
    ///
    /// let breaker = Arc::new(Breaker::new(BreakerConfig::builder().build()?));
    /// let b = Arc::clone(&breaker); // shared between threads
    /// std::thread::spawn(move || b.call(|| Ok::<_, ()>(1))).join().unwrap().unwrap();
    /// assert_eq!(breaker.state(), State::Closed);
    /// assert_eq!(breaker.metrics().successes, 1);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn new(config: BreakerConfig) -> Self {
        Breaker::with_listeners(config, Listeners::new())
    }

    /// A closed breaker reporting to `listeners`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, Listeners, Outcome};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = Arc::clone(&seen);
    /// let listeners = Listeners::new().on_outcome(move |o| s.lock().unwrap().push(o.outcome));
    /// let breaker = Breaker::with_listeners(BreakerConfig::builder().build()?, listeners);
    /// let _ = breaker.call(|| Ok::<_, ()>(()));
    /// let _ = breaker.call(|| Err::<(), _>(()));
    /// assert_eq!(*seen.lock().unwrap(), [Outcome::Success, Outcome::Failure]);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn with_listeners(config: BreakerConfig, listeners: Listeners) -> Self {
        Breaker {
            call_timeout: config.call_timeout(),
            machine: Mutex::new(StateMachine::new(config)),
            listeners,
        }
    }

    /// Runs `f` unless the breaker refuses; an `Err` counts as a failure.
    ///
    /// # Errors
    /// [`CallError::Rejected`] if the breaker is open or its probes are
    /// taken (`f` does not run); [`CallError::Failed`] with `f`'s error.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, CallError};
    ///
    /// fn fetch(breaker: &Breaker, id: u32) -> Result<String, CallError<std::io::Error>> {
    ///     breaker.call(|| {
    ///         // A blocking call to a dependency: a database, a socket, a device.
    ///         if id == 0 { Err(std::io::Error::other("not found")) } else { Ok(format!("row {id}")) }
    ///     })
    /// }
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().build()?);
    /// assert_eq!(fetch(&breaker, 3)?, "row 3");
    /// assert!(matches!(fetch(&breaker, 0), Err(CallError::Failed(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        self.call_classified(f, |r| match r {
            Ok(_) => Verdict::Success,
            Err(_) => Verdict::Failure,
        })
    }

    /// Runs `f` unless the breaker refuses, and counts its result as
    /// `classify` says: to ignore some errors, or to count some success values
    /// as failures. The result goes back to the caller either way.
    ///
    /// # Errors
    /// As [`Breaker::call`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, State, Verdict};
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().max_failures(1).build()?);
    /// // "Not found" is the caller's problem, not the dependency's: ignore it.
    /// let classify = |r: &Result<u32, &str>| match r {
    ///     Ok(_) => Verdict::Success,
    ///     Err("not found") => Verdict::Ignored,
    ///     Err(_) => Verdict::Failure,
    /// };
    /// assert!(breaker.call_classified(|| Err("not found"), classify).is_err());
    /// assert_eq!(breaker.state(), State::Closed);
    /// assert!(breaker.call_classified(|| Err("connection reset"), classify).is_err());
    /// assert_eq!(breaker.state(), State::Open);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn call_classified<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        classify: impl FnOnce(&Result<T, E>) -> Verdict,
    ) -> Result<T, CallError<E>> {
        let permit = self.try_acquire_at(Instant::now())?;
        // A panic in `f` is recorded as a failure on its way out.
        let mut guard = Unwinding {
            breaker: self,
            permit: Some(permit),
        };
        let result = f();
        let permit = guard.permit.take().expect("taken only here");
        let mut verdict = classify(&result);
        let now = Instant::now();
        if verdict != Verdict::Ignored
            && now.saturating_duration_since(permit.started()) > self.call_timeout
        {
            verdict = Verdict::Timeout;
        }
        self.record_at(permit, verdict, now);
        result.map_err(CallError::Failed)
    }

    /// Admits a call at `now` (for callers that make the call themselves, or
    /// drive time by hand); hand the permit back to [`Breaker::record_at`].
    ///
    /// # Errors
    /// [`Rejected`] if the breaker is open or its probes are taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, Verdict};
    /// use std::time::Instant;
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().build()?);
    /// let permit = breaker.try_acquire_at(Instant::now())?;
    /// let ok = 2 + 2 == 4; // the call, made by the caller
    /// let verdict = if ok { Verdict::Success } else { Verdict::Failure };
    /// breaker.record_at(permit, verdict, Instant::now());
    /// assert_eq!(breaker.metrics().successes, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_acquire_at(&self, now: Instant) -> Result<Permit, Rejected> {
        let mut m = self.machine.lock();
        let admission = m.try_acquire(now);
        if let Some(t) = &admission.transition {
            self.listeners.transition(t);
        }
        if admission.permit.is_err() {
            self.listeners.outcome(&m.rejection_outcome());
        }
        admission.permit
    }

    /// Records how the call of `permit` ended at `now`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, State, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t0 = Instant::now();
    /// let permit = breaker.try_acquire_at(t0)?;
    /// breaker.record_at(permit, Verdict::Timeout, t0 + Duration::from_secs(11));
    /// assert_eq!(breaker.state(), State::Open);
    /// assert_eq!(breaker.metrics().timeouts, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_at(&self, permit: Permit, verdict: Verdict, now: Instant) {
        let mut m = self.machine.lock();
        let recorded = m.record(permit, verdict, now);
        self.listeners.outcome(&recorded.outcome);
        if let Some(t) = &recorded.transition {
            self.listeners.transition(t);
        }
    }

    /// The state now.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, State};
    /// use std::time::{Duration, Instant};
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let _ = breaker.call(|| Err::<(), _>(()));
    /// assert_eq!(breaker.state(), State::Open);
    /// // No timer: the reset time passing shows at the next call.
    /// let _ = breaker.try_acquire_at(Instant::now() + Duration::from_secs(2));
    /// assert_eq!(breaker.state(), State::HalfOpen);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn state(&self) -> super::State {
        self.machine.lock().state()
    }

    /// The counters now.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig};
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().build()?);
    /// let _ = breaker.call(|| Ok::<_, ()>(()));
    /// let _ = breaker.call(|| Err::<(), _>(()));
    /// let m = breaker.metrics();
    /// assert_eq!((m.calls, m.successes, m.failures, m.consecutive_failures), (2, 1, 1, 1));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn metrics(&self) -> BreakerMetrics {
        self.machine.lock().metrics()
    }
}

/// Records a failure if the guarded call unwinds.
struct Unwinding<'a> {
    breaker: &'a Breaker,
    permit: Option<Permit>,
}

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            self.breaker.record_at(p, Verdict::Failure, Instant::now());
        }
    }
}
