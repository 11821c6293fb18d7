//! What a breaker reports: its transitions (with the reason) and the outcome
//! of every call, to listeners and, for the actor, to an event-bus topic.

use crate::sync::Arc;
use std::fmt;
use std::time::Duration;

/// The state of a breaker.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::State;
///
/// assert_eq!(State::HalfOpen.to_string(), "half-open");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls pass; failures are counted.
    Closed,
    /// Calls fail at once, until the reset timeout passes.
    Open,
    /// A limited number of probe calls pass; the rest fail at once.
    HalfOpen,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half-open",
        })
    }
}

/// Why a breaker changed state.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{Breaker, BreakerConfig, Listeners, Reason};
/// use std::sync::{Arc, Mutex};
///
/// let reasons = Arc::new(Mutex::new(Vec::new()));
/// let r = Arc::clone(&reasons);
/// let listeners = Listeners::new().on_transition(move |t| r.lock().unwrap().push(t.reason));
/// let breaker = Breaker::with_listeners(BreakerConfig::builder().max_failures(2).build()?, listeners);
/// for _ in 0..2 {
///     let _ = breaker.call(|| Err::<(), _>(()));
/// }
/// assert_eq!(*reasons.lock().unwrap(), [Reason::ConsecutiveFailures(2)]);
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// This many failures in a row (closed to open).
    ConsecutiveFailures(u32),
    /// The window's failure rate in percent reached the threshold (closed to open).
    FailureRate(f64),
    /// The window's slow-call rate in percent reached the threshold (closed to open).
    SlowCallRate(f64),
    /// The open time passed (open to half-open).
    ResetTimeout,
    /// Every probe succeeded (half-open to closed).
    ProbesSucceeded,
    /// A probe failed or timed out (half-open to open).
    ProbeFailed,
}

/// A change of state.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict};
/// use std::time::{Duration, Instant};
///
/// let mut sm = StateMachine::new(BreakerConfig::builder().max_failures(1).build()?);
/// let t = Instant::now();
/// let p = sm.try_acquire(t).permit.unwrap();
/// let tr = sm.record(p, Verdict::Failure, t).transition.expect("opened");
/// assert_eq!((tr.from, tr.to), (State::Closed, State::Open));
/// assert_eq!(tr.open_for, Some(Duration::from_secs(1)));
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// Why.
    pub reason: Reason,
    /// When `to` is [`State::Open`]: how long it stays open (backoff and
    /// jitter included).
    pub open_for: Option<Duration>,
}

/// How one call ended, as the breaker counted it.
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
/// let breaker = Breaker::with_listeners(BreakerConfig::builder().max_failures(1).build()?, listeners);
/// let _ = breaker.call(|| Err::<(), _>(()));
/// let _ = breaker.call(|| Ok::<_, ()>(())); // refused: open
/// assert_eq!(*seen.lock().unwrap(), [Outcome::Failure, Outcome::Rejected]);
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It succeeded.
    Success,
    /// It failed (an error answer, a success value the failure predicate
    /// rejects, the service gone or the reply dropped).
    Failure,
    /// It took longer than the call timeout: a failure.
    Timeout,
    /// It failed with an error the ignore predicate accepts: not counted.
    Ignored,
    /// The breaker refused it (open, or half-open with its probes taken).
    Rejected,
    /// An answer that came after its call had already timed out: counted
    /// here only, never as a success.
    Late,
}

/// The report of one call (or late answer).
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, Outcome, State, StateMachine, Verdict};
/// use std::time::{Duration, Instant};
///
/// let config = BreakerConfig::builder().slow_calls(Duration::from_millis(100), 50.0).build()?;
/// let mut sm = StateMachine::new(config);
/// let t = Instant::now();
/// let p = sm.try_acquire(t).permit.unwrap();
/// let o = sm.record(p, Verdict::Success, t + Duration::from_millis(150)).outcome;
/// assert_eq!((o.outcome, o.slow, o.state), (Outcome::Success, true, State::Closed));
/// assert_eq!(o.elapsed, Duration::from_millis(150));
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallOutcome {
    /// How it ended.
    pub outcome: Outcome,
    /// From admission to its end (zero for a rejection).
    pub elapsed: Duration,
    /// Whether it took at least the slow-call threshold.
    pub slow: bool,
    /// The state the breaker was in when the call was admitted or rejected.
    pub state: State,
}

/// What a breaker actor publishes to a [`crate::Recipient`] such as an event
/// bus's publisher, in the order it happens: a call's outcome comes before the
/// transition it caused.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerAddr, BreakerConfig, BreakerEvent, CircuitBreaker, State};
/// use playhouse::bus::{EventBus, EventBusExt};
/// use playhouse::testkit::Probe;
/// use playhouse::System;
/// use std::time::Duration;
///
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// // Breaker events go out on a bus, for dashboards and alerts.
/// let bus = EventBus::<BreakerEvent>::builder().spawn(&system)?;
/// let alerts = Probe::new(&system)?;
/// bus.subscribe_all(alerts.recipient(), T)?;
/// let config = BreakerConfig::builder().max_failures(1).build()?;
/// let breaker = CircuitBreaker::guarding(config, |_: ()| Err::<(), _>("down"))
///     .publish_to(bus.publisher())
///     .publish_calls(false) // transitions only
///     .spawn(&system)?;
/// let _ = breaker.call((), T);
/// match alerts.expect_next(T)? {
///     BreakerEvent::Transition(t) => assert_eq!(t.to, State::Open),
///     other => panic!("unexpected {other:?}"),
/// }
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakerEvent {
    /// A change of state.
    Transition(Transition),
    /// A call's outcome.
    Call(CallOutcome),
}

type TransitionFn = Arc<dyn Fn(&Transition) + Send + Sync>;
type OutcomeFn = Arc<dyn Fn(&CallOutcome) + Send + Sync>;

/// Callbacks for a breaker's transitions and call outcomes, run in the order
/// added, each event once, in the order events happen.
///
/// They run inside the breaker: on the actor's worker for the actor, under the
/// lock for [`super::Breaker`]. Keep them short; they must not block, panic, or
/// call back into the same breaker. Forwarding to a channel is the usual use.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{Breaker, BreakerConfig, Listeners, State};
///
/// let (tx, rx) = crossbeam_channel::unbounded();
/// let listeners = Listeners::new().on_transition(move |t| {
///     let _ = tx.send(t.to);
/// });
/// let config = BreakerConfig::builder().max_failures(1).build()?;
/// let breaker = Breaker::with_listeners(config, listeners);
/// let _ = breaker.call(|| Err::<(), _>("down"));
/// assert_eq!(rx.try_recv(), Ok(State::Open));
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct Listeners {
    transitions: Vec<TransitionFn>,
    outcomes: Vec<OutcomeFn>,
}

impl Listeners {
    /// No listeners.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::Listeners;
    ///
    /// let none = Listeners::new();
    /// assert_eq!(format!("{none:?}"), "Listeners { transitions: 0, outcomes: 0 }");
    /// ```
    pub fn new() -> Self {
        Listeners::default()
    }

    /// Adds a callback for every transition.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, Listeners, State};
    ///
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let listeners = Listeners::new().on_transition(move |t| {
    ///     let _ = tx.send((t.from, t.to));
    /// });
    /// let breaker = Breaker::with_listeners(BreakerConfig::builder().max_failures(1).build()?, listeners);
    /// let _ = breaker.call(|| Err::<(), _>(()));
    /// assert_eq!(rx.try_recv(), Ok((State::Closed, State::Open)));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn on_transition(mut self, f: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.transitions.push(Arc::new(f));
        self
    }

    /// Adds a callback for every call outcome (rejections and late answers
    /// included).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, Listeners};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let slow = Arc::new(AtomicU64::new(0));
    /// let s = Arc::clone(&slow);
    /// let listeners = Listeners::new().on_outcome(move |o| {
    ///     s.fetch_add(u64::from(o.slow), Ordering::Relaxed);
    /// });
    /// let breaker = Breaker::with_listeners(BreakerConfig::builder().build()?, listeners);
    /// let _ = breaker.call(|| Ok::<_, ()>(()));
    /// assert_eq!(slow.load(Ordering::Relaxed), 0); // no slow-call rule: never slow
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn on_outcome(mut self, f: impl Fn(&CallOutcome) + Send + Sync + 'static) -> Self {
        self.outcomes.push(Arc::new(f));
        self
    }

    pub(super) fn transition(&self, t: &Transition) {
        if t.to == State::Open {
            log::warn!(
                "circuit breaker opened ({:?}) for {:?}",
                t.reason,
                t.open_for
            );
        } else {
            log::info!("circuit breaker {} -> {} ({:?})", t.from, t.to, t.reason);
        }
        for f in &self.transitions {
            f(t);
        }
    }

    pub(super) fn outcome(&self, o: &CallOutcome) {
        for f in &self.outcomes {
            f(o);
        }
    }
}

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listeners")
            .field("transitions", &self.transitions.len())
            .field("outcomes", &self.outcomes.len())
            .finish()
    }
}
