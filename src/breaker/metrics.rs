//! [`BreakerMetrics`]: a breaker's counters, readable at any time.

use super::events::State;
use std::time::Duration;

/// A snapshot of a breaker's counters.
///
/// Every admitted call ends in exactly one of `successes`, `failures`,
/// `timeouts` and `ignored` (or is still `in_flight`), so
/// `calls == successes + failures + timeouts + ignored + in_flight`.
/// Rejected calls are not admitted and count only in `rejections`.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker, State};
/// use playhouse::System;
/// use std::time::Duration;
/// # use playhouse::{Actor, ActorError, Context, Reply};
/// # /// Halves even numbers; an odd one is an error.
/// # struct Halver;
/// # impl Actor for Halver {
/// #     type Msg = (u32, Reply<Result<u32, String>>);
/// #     fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
/// #         let _ = r.send(if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) });
/// #         Ok(())
/// #     }
/// # }
///
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// let halver = system.spawn(|| Halver)?;
/// let breaker = CircuitBreaker::builder(BreakerConfig::builder().build()?, halver.recipient())
///     .spawn(&system)?;
/// for n in [2, 3, 4] {
///     let _ = breaker.call(n, T);
/// }
/// let m = breaker.breaker_metrics(T)?;
/// assert_eq!((m.state, m.calls, m.successes, m.failures), (State::Closed, 3, 2, 1));
/// assert_eq!(m.calls, m.successes + m.failures + m.timeouts + m.ignored + m.in_flight);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct BreakerMetrics {
    /// The state now.
    pub state: State,
    /// Calls admitted.
    pub calls: u64,
    /// Admitted calls that succeeded.
    pub successes: u64,
    /// Admitted calls that failed, other than by timing out.
    pub failures: u64,
    /// Admitted calls that took longer than the call timeout.
    pub timeouts: u64,
    /// Admitted calls whose error the ignore predicate accepted.
    pub ignored: u64,
    /// Calls refused without being made.
    pub rejections: u64,
    /// Admitted calls still running.
    pub in_flight: u64,
    /// Calls that took at least the slow-call threshold (of any outcome).
    pub slow_calls: u64,
    /// Answers that came after their call had timed out.
    pub late_answers: u64,
    /// Transitions so far.
    pub transitions: u64,
    /// Failures in a row now (closed).
    pub consecutive_failures: u32,
    /// The window's failure rate in percent, once it holds the minimum of
    /// calls and a rate rule is set (as of the last call: a time window
    /// slides when calls end).
    pub failure_rate: Option<f64>,
    /// The window's slow-call rate in percent, on the same terms.
    pub slow_call_rate: Option<f64>,
    /// The open time before jitter of the current or last opening: the reset
    /// timeout, grown by the backoff factor for each failed probe since the
    /// breaker last closed.
    pub reset_timeout: Duration,
}
