//! What a breaker reports: its transitions (with the reason) and the outcome
//! of every call, to listeners and, for the actor, to an event-bus topic.

use crate::sync::Arc;
use std::fmt;
use std::time::Duration;

/// The state of a breaker.
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
    pub fn new() -> Self {
        Listeners::default()
    }

    /// Adds a callback for every transition.
    pub fn on_transition(mut self, f: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.transitions.push(Arc::new(f));
        self
    }

    /// Adds a callback for every call outcome (rejections and late answers
    /// included).
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
