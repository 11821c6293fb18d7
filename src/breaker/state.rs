//! [`StateMachine`]: the breaker's rules as a pure state machine, with time
//! passed in as `now` (so tests drive it with exact instants).
//!
//! # Invariants
//! - `generation` changes on every transition. A [`Permit`] remembers the
//!   generation it was issued in; an outcome recorded with a permit of another
//!   generation is counted in the metrics but moves no state, so a call that
//!   began before the breaker opened cannot close or reopen it afterwards.
//! - Half-open admits at most `max_probes` permits per generation: `admitted`
//!   only grows, except that an ignored probe gives its place back.
//! - `calls == successes + failures + timeouts + ignored + in_flight`.

use super::config::BreakerConfig;
use super::events::{CallOutcome, Outcome, Reason, State, Transition};
use super::metrics::BreakerMetrics;
use super::window::{Sample, SlidingWindow};
use std::error::Error;
use std::fmt;
use std::time::{Duration, Instant};

/// What the caller decided about a finished call.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
/// use std::time::Instant;
///
/// let mut sm = StateMachine::new(BreakerConfig::builder().build()?);
/// let t = Instant::now();
/// for v in [Verdict::Success, Verdict::Failure, Verdict::Timeout, Verdict::Ignored] {
///     let p = sm.try_acquire(t).permit.unwrap();
///     let _ = sm.record(p, v, t);
/// }
/// let m = sm.metrics();
/// assert_eq!((m.successes, m.failures, m.timeouts, m.ignored), (1, 1, 1, 1));
/// assert_eq!(m.consecutive_failures, 2); // an ignored call neither counts nor resets
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// It succeeded.
    Success,
    /// It failed.
    Failure,
    /// It took longer than the call timeout (a failure).
    Timeout,
    /// It failed in a way that should not count (neither success nor failure).
    Ignored,
}

/// Why a call was refused without being made.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{Breaker, BreakerConfig, CallError, Rejected};
/// use std::time::Duration;
///
/// let breaker = Breaker::new(BreakerConfig::builder().max_failures(1).reset_timeout(Duration::from_secs(5)).build()?);
/// let _ = breaker.call(|| Err::<(), _>(()));
/// match breaker.call(|| Ok::<_, ()>(())) {
///     Err(CallError::Rejected(Rejected::Open { retry_after })) => {
///         assert!(retry_after <= Duration::from_secs(5)); // come back then
///     }
///     other => panic!("expected a rejection, got {other:?}"),
/// }
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejected {
    /// The breaker is open; the next probe may go in `retry_after`.
    Open {
        /// The time left until the breaker goes half-open.
        retry_after: Duration,
    },
    /// The breaker is half-open and its probes are taken.
    ProbesTaken,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Open { retry_after } => {
                write!(f, "circuit breaker is open (next probe in {retry_after:?})")
            }
            Rejected::ProbesTaken => f.write_str("circuit breaker is half-open and probing"),
        }
    }
}

impl Error for Rejected {}

/// Leave to make one call, from [`StateMachine::try_acquire`]; hand it back
/// with the call's verdict to [`StateMachine::record`].
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
/// use std::time::Instant;
///
/// let mut sm = StateMachine::new(BreakerConfig::builder().build()?);
/// let t = Instant::now();
/// let permit = sm.try_acquire(t).permit.unwrap();
/// assert_eq!(sm.metrics().in_flight, 1);
/// let _ = sm.record(permit, Verdict::Success, t);
/// assert_eq!(sm.metrics().in_flight, 0);
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a permit must be recorded, or the call stays in flight"]
pub struct Permit {
    generation: u64,
    probe: bool,
    started: Instant,
    state: State,
}

impl Permit {
    /// When the call was admitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().build()?);
    /// let t = Instant::now();
    /// let permit = sm.try_acquire(t).permit.unwrap();
    /// assert_eq!(permit.started(), t);
    /// let r = sm.record(permit, Verdict::Success, t + Duration::from_millis(30));
    /// assert_eq!(r.outcome.elapsed, Duration::from_millis(30));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Whether it is a half-open probe.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t0 = Instant::now();
    /// let first = sm.try_acquire(t0).permit.unwrap();
    /// assert!(!first.is_probe());
    /// let _ = sm.record(first, Verdict::Failure, t0);
    /// let probe = sm.try_acquire(t0 + Duration::from_secs(1)).permit.unwrap();
    /// assert!(probe.is_probe());
    /// # let _ = sm.record(probe, Verdict::Success, t0);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

/// The answer of [`StateMachine::try_acquire`]: the permit or the refusal, and
/// the transition the call caused (open to half-open when the reset time has
/// passed).
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, Reason, State, StateMachine, Verdict};
/// use std::time::{Duration, Instant};
///
/// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
/// let t0 = Instant::now();
/// let p = sm.try_acquire(t0).permit.unwrap();
/// let _ = sm.record(p, Verdict::Failure, t0);
/// // The first acquire past the reset time goes half-open, and says so.
/// let admission = sm.try_acquire(t0 + Duration::from_secs(1));
/// let t = admission.transition.expect("open to half-open");
/// assert_eq!((t.from, t.to, t.reason), (State::Open, State::HalfOpen, Reason::ResetTimeout));
/// assert!(admission.permit.is_ok());
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct Admission {
    /// The permit, or why there is none.
    pub permit: Result<Permit, Rejected>,
    /// The transition made before deciding, if any.
    pub transition: Option<Transition>,
}

/// The answer of [`StateMachine::record`]: the outcome to report and the
/// transition it caused.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, Outcome, Reason, State, StateMachine, Verdict};
/// use std::time::Instant;
///
/// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
/// let t = Instant::now();
/// let p = sm.try_acquire(t).permit.unwrap();
/// let recorded = sm.record(p, Verdict::Failure, t);
/// assert_eq!(recorded.outcome.outcome, Outcome::Failure);
/// let tr = recorded.transition.expect("opened");
/// assert_eq!((tr.to, tr.reason), (State::Open, Reason::ConsecutiveFailures(1)));
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct Recorded {
    /// The call's outcome as counted.
    pub outcome: CallOutcome,
    /// The transition it caused, if any.
    pub transition: Option<Transition>,
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    calls: u64,
    successes: u64,
    failures: u64,
    timeouts: u64,
    ignored: u64,
    rejections: u64,
    slow: u64,
    late: u64,
    transitions: u64,
}

/// The circuit breaker's rules, with no clock, thread or lock of its own.
///
/// [`super::Breaker`] puts it behind a lock for inline use, the breaker actor
/// owns one; use it directly to embed a breaker in an actor of your own, or to
/// check a configuration against a scripted sequence of calls.
///
/// - **Closed:** every call is admitted. A failure or timeout adds to the
///   consecutive count, a success resets it; outcomes go into the window.
///   Reaching `max_failures` in a row, or a failure or slow-call rate at its
///   threshold once the window holds `minimum_calls`, opens.
/// - **Open:** every call is rejected with the time left. At the reset time
///   the next [`StateMachine::try_acquire`] or [`StateMachine::reset_due`]
///   goes half-open.
/// - **Half-open:** `max_probes` calls are admitted; the rest are rejected. A
///   failed or timed-out probe reopens for the open time times the backoff
///   factor (capped); `max_probes` successes close and reset the backoff.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, Rejected, State, StateMachine, Verdict};
/// use std::time::{Duration, Instant};
///
/// let config = BreakerConfig::builder()
///     .max_failures(2)
///     .reset_timeout(Duration::from_secs(10))
///     .build()?;
/// let mut sm = StateMachine::new(config);
/// let t0 = Instant::now();
/// for _ in 0..2 {
///     let permit = sm.try_acquire(t0).permit.unwrap();
///     let _ = sm.record(permit, Verdict::Failure, t0);
/// }
/// assert_eq!(sm.state(), State::Open);
/// let refused = sm.try_acquire(t0 + Duration::from_secs(4)).permit;
/// assert_eq!(refused, Err(Rejected::Open { retry_after: Duration::from_secs(6) }));
/// let probe = sm.try_acquire(t0 + Duration::from_secs(10));
/// assert_eq!(sm.state(), State::HalfOpen);
/// let _ = sm.record(probe.permit.unwrap(), Verdict::Success, t0 + Duration::from_secs(11));
/// assert_eq!(sm.state(), State::Closed);
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct StateMachine {
    config: BreakerConfig,
    inner: Inner,
    generation: u64,
    consecutive: u32,
    window: SlidingWindow,
    /// The open time before jitter of the current or next opening.
    open_for: Duration,
    rng: u64,
    counters: Counters,
}

impl StateMachine {
    /// A closed breaker.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let sm = StateMachine::new(BreakerConfig::builder().build()?);
    /// assert_eq!(sm.state(), State::Closed);
    /// assert_eq!(sm.metrics().calls, 0);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn new(config: BreakerConfig) -> Self {
        StateMachine {
            window: SlidingWindow::new(config.window),
            open_for: config.reset_timeout,
            rng: crate::sync::random_seed(),
            config,
            inner: Inner::Closed,
            generation: 0,
            consecutive: 0,
            counters: Counters::default(),
        }
    }

    /// The configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine};
    ///
    /// let sm = StateMachine::new(BreakerConfig::builder().max_probes(3).build()?);
    /// assert_eq!(sm.config().max_probes(), 3);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The state now (an open breaker past its reset time reads open until
    /// the next acquire or [`StateMachine::reset_due`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t0);
    /// // Past the reset time it still reads open: only an acquire or reset_due moves it.
    /// assert_eq!(sm.state(), State::Open);
    /// let _ = sm.reset_due(t0 + Duration::from_secs(1));
    /// assert_eq!(sm.state(), State::HalfOpen);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn state(&self) -> State {
        match self.inner {
            Inner::Closed => State::Closed,
            Inner::Open { .. } => State::Open,
            Inner::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// When an open breaker goes half-open.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// assert_eq!(sm.open_until(), None); // closed
    /// let t = Instant::now();
    /// let p = sm.try_acquire(t).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t);
    /// assert_eq!(sm.open_until(), Some(t + Duration::from_secs(1)));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn open_until(&self) -> Option<Instant> {
        match self.inner {
            Inner::Open { until } => Some(until),
            _ => None,
        }
    }

    /// A number that changes with every transition (an open breaker's timer
    /// can tell whether the opening it was set for is still current).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::Instant;
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t = Instant::now();
    /// let before = sm.generation();
    /// let p = sm.try_acquire(t).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t); // opens
    /// assert_ne!(sm.generation(), before);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Goes half-open if the breaker is open and its reset time has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t0);
    /// // What a timer does when the open time is up:
    /// assert!(sm.reset_due(t0 + Duration::from_millis(999)).is_none());
    /// let t = sm.reset_due(t0 + Duration::from_secs(1)).expect("due");
    /// assert_eq!(t.to, State::HalfOpen);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn reset_due(&mut self, now: Instant) -> Option<Transition> {
        match self.inner {
            Inner::Open { until } if now >= until => Some(self.enter(
                Inner::HalfOpen {
                    admitted: 0,
                    succeeded: 0,
                },
                Reason::ResetTimeout,
                None,
            )),
            _ => None,
        }
    }

    /// Admits a call made at `now`, or says why not.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, Rejected, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t0);
    /// let refused = sm.try_acquire(t0 + Duration::from_millis(400)).permit;
    /// assert_eq!(refused, Err(Rejected::Open { retry_after: Duration::from_millis(600) }));
    /// assert_eq!(sm.metrics().rejections, 1);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn try_acquire(&mut self, now: Instant) -> Admission {
        let transition = self.reset_due(now);
        let state = self.state();
        let permit = match &mut self.inner {
            Inner::Closed => Ok(false),
            Inner::Open { until } => Err(Rejected::Open {
                retry_after: until.saturating_duration_since(now),
            }),
            Inner::HalfOpen { admitted, .. } => {
                if *admitted < self.config.max_probes {
                    *admitted += 1;
                    Ok(true)
                } else {
                    Err(Rejected::ProbesTaken)
                }
            }
        };
        let permit = match permit {
            Ok(probe) => {
                self.counters.calls += 1;
                Ok(Permit {
                    generation: self.generation,
                    probe,
                    started: now,
                    state,
                })
            }
            Err(r) => {
                self.counters.rejections += 1;
                Err(r)
            }
        };
        Admission { permit, transition }
    }

    /// The outcome a rejection is reported as (for listeners).
    pub(super) fn rejection_outcome(&self) -> CallOutcome {
        CallOutcome {
            outcome: Outcome::Rejected,
            elapsed: Duration::ZERO,
            slow: false,
            state: self.state(),
        }
    }

    /// Records how the call of `permit` ended at `now`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict};
    /// use std::time::Instant;
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
    /// let t = Instant::now();
    /// let early = sm.try_acquire(t).permit.unwrap();
    /// let p = sm.try_acquire(t).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t); // opens
    /// // A call admitted before the opening cannot move the new state.
    /// let r = sm.record(early, Verdict::Success, t);
    /// assert!(r.transition.is_none());
    /// assert_eq!(sm.state(), State::Open);
    /// assert_eq!(sm.metrics().successes, 1); // but it is counted
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn record(&mut self, permit: Permit, verdict: Verdict, now: Instant) -> Recorded {
        let elapsed = now.saturating_duration_since(permit.started);
        let slow = self
            .config
            .slow_call
            .is_some_and(|(threshold, _)| elapsed >= threshold);
        let c = &mut self.counters;
        c.slow += u64::from(slow);
        let outcome = match verdict {
            Verdict::Success => {
                c.successes += 1;
                Outcome::Success
            }
            Verdict::Failure => {
                c.failures += 1;
                Outcome::Failure
            }
            Verdict::Timeout => {
                c.timeouts += 1;
                Outcome::Timeout
            }
            Verdict::Ignored => {
                c.ignored += 1;
                Outcome::Ignored
            }
        };
        let outcome = CallOutcome {
            outcome,
            elapsed,
            slow,
            state: permit.state,
        };
        let transition = if permit.generation == self.generation {
            self.apply(permit.probe, verdict, slow, now)
        } else {
            None
        };
        Recorded {
            outcome,
            transition,
        }
    }

    /// Counts an answer that came after its call had timed out, and gives the
    /// outcome to report.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, Outcome, StateMachine};
    /// use std::time::Duration;
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().build()?);
    /// let o = sm.record_late(Duration::from_secs(12));
    /// assert_eq!(o.outcome, Outcome::Late);
    /// assert_eq!(sm.metrics().late_answers, 1);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn record_late(&mut self, elapsed: Duration) -> CallOutcome {
        self.counters.late += 1;
        CallOutcome {
            outcome: Outcome::Late,
            elapsed,
            slow: true,
            state: self.state(),
        }
    }

    /// The counters now.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict};
    /// use std::time::Instant;
    ///
    /// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(2).build()?);
    /// let t = Instant::now();
    /// for _ in 0..2 {
    ///     let p = sm.try_acquire(t).permit.unwrap();
    ///     let _ = sm.record(p, Verdict::Failure, t);
    /// }
    /// let m = sm.metrics();
    /// assert_eq!((m.state, m.calls, m.failures, m.transitions), (State::Open, 2, 2, 1));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn metrics(&self) -> BreakerMetrics {
        let c = self.counters;
        let minimum = self.window.calls() >= self.config.minimum_calls;
        let rates_on = self.config.failure_rate.is_some() || self.config.slow_call.is_some();
        BreakerMetrics {
            state: self.state(),
            calls: c.calls,
            successes: c.successes,
            failures: c.failures,
            timeouts: c.timeouts,
            ignored: c.ignored,
            rejections: c.rejections,
            in_flight: c.calls - c.successes - c.failures - c.timeouts - c.ignored,
            slow_calls: c.slow,
            late_answers: c.late,
            transitions: c.transitions,
            consecutive_failures: self.consecutive,
            failure_rate: (rates_on && minimum)
                .then(|| self.window.failure_rate())
                .flatten(),
            slow_call_rate: (rates_on && minimum)
                .then(|| self.window.slow_rate())
                .flatten(),
            reset_timeout: self.open_for,
        }
    }

    /// Moves the state for an outcome of the current generation.
    fn apply(
        &mut self,
        probe: bool,
        verdict: Verdict,
        slow: bool,
        now: Instant,
    ) -> Option<Transition> {
        let failed = matches!(verdict, Verdict::Failure | Verdict::Timeout);
        match &mut self.inner {
            Inner::Closed => {
                if verdict == Verdict::Ignored {
                    return None;
                }
                self.window.record(Sample { failed, slow }, now);
                if failed {
                    self.consecutive += 1;
                } else {
                    self.consecutive = 0;
                }
                let reason = self.trip_reason()?;
                self.open_for = self.config.reset_timeout;
                Some(self.open(reason, now))
            }
            Inner::HalfOpen {
                admitted,
                succeeded,
            } => {
                debug_assert!(probe, "half-open admits only probes");
                match verdict {
                    Verdict::Ignored => {
                        *admitted -= 1;
                        None
                    }
                    Verdict::Success => {
                        *succeeded += 1;
                        if *succeeded < self.config.max_probes {
                            return None;
                        }
                        self.open_for = self.config.reset_timeout;
                        Some(self.enter(Inner::Closed, Reason::ProbesSucceeded, None))
                    }
                    Verdict::Failure | Verdict::Timeout => {
                        let grown = self.open_for.as_secs_f64() * self.config.backoff_factor;
                        self.open_for = Duration::try_from_secs_f64(grown)
                            .unwrap_or(Duration::MAX)
                            .min(self.config.max_reset_timeout);
                        Some(self.open(Reason::ProbeFailed, now))
                    }
                }
            }
            // Open admits nothing, so no permit of this generation exists.
            Inner::Open { .. } => None,
        }
    }

    fn trip_reason(&self) -> Option<Reason> {
        if let Some(max) = self.config.max_failures
            && self.consecutive >= max
        {
            return Some(Reason::ConsecutiveFailures(self.consecutive));
        }
        if self.window.calls() < self.config.minimum_calls {
            return None;
        }
        if let (Some(threshold), Some(rate)) =
            (self.config.failure_rate, self.window.failure_rate())
            && rate >= threshold
        {
            return Some(Reason::FailureRate(rate));
        }
        if let (Some((_, threshold)), Some(rate)) = (self.config.slow_call, self.window.slow_rate())
            && rate >= threshold
        {
            return Some(Reason::SlowCallRate(rate));
        }
        None
    }

    /// Opens for `open_for` plus jitter, capped.
    fn open(&mut self, reason: Reason, now: Instant) -> Transition {
        let mut d = self.open_for;
        if self.config.jitter > 0.0 {
            let extra = d.as_secs_f64() * self.config.jitter * self.next_unit();
            d = d.saturating_add(Duration::try_from_secs_f64(extra).unwrap_or(Duration::ZERO));
        }
        d = d.min(self.config.max_reset_timeout);
        let until = now.checked_add(d).unwrap_or(now);
        self.enter(Inner::Open { until }, reason, Some(d))
    }

    fn enter(&mut self, next: Inner, reason: Reason, open_for: Option<Duration>) -> Transition {
        let from = self.state();
        self.inner = next;
        self.generation += 1;
        self.counters.transitions += 1;
        self.consecutive = 0;
        self.window.clear();
        Transition {
            from,
            to: self.state(),
            reason,
            open_for,
        }
    }

    /// A pseudo-random number in `[0, 1)` (xorshift64*); jitter needs spread,
    /// not quality.
    fn next_unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}
