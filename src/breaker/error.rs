//! [`CallError`]: why a call through a breaker did not return a value.

use super::state::Rejected;
use crate::AskError;
use std::error::Error;
use std::fmt;

/// Why a call through a breaker did not return a value.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerAddr, BreakerConfig, CallError, CircuitBreaker};
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
/// match breaker.call(3, T) {
///     Ok(half) => println!("half: {half}"),
///     Err(CallError::Failed(e)) => assert_eq!(e, "3 is odd"), // the service's own error
///     Err(CallError::Rejected(r)) => println!("failing fast: {r}"),
///     Err(e) => println!("no answer: {e}"),
/// }
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError<E> {
    /// The breaker refused the call; the service saw nothing.
    Rejected(Rejected),
    /// The call took longer than the call timeout (a failure). A late answer
    /// is counted in the metrics only.
    Timeout,
    /// The service answered with this error.
    Failed(E),
    /// The service could not answer: it stopped, or dropped the reply (an
    /// operation that panicked does this). Counted as a failure.
    Unavailable(AskError),
    /// The caller's ask of the breaker actor itself failed (it stopped, or the
    /// caller's deadline passed first); the call may still have been made.
    Breaker(AskError),
}

impl<E> CallError<E> {
    /// The answer of an ask of a breaker actor, flattened: the ask's own
    /// failure becomes [`CallError::Breaker`]. For the continuation of
    /// [`crate::Context::ask`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::AskError;
    /// use playhouse::breaker::CallError;
    ///
    /// let answered: Result<Result<u32, CallError<String>>, AskError> = Ok(Ok(7));
    /// assert_eq!(CallError::flatten(answered), Ok(7));
    /// let unanswered: Result<Result<u32, CallError<String>>, AskError> = Err(AskError::Timeout);
    /// assert_eq!(CallError::flatten(unanswered), Err(CallError::Breaker(AskError::Timeout)));
    /// ```
    pub fn flatten<T>(
        answer: Result<Result<T, CallError<E>>, AskError>,
    ) -> Result<T, CallError<E>> {
        answer.unwrap_or_else(|e| Err(CallError::Breaker(e)))
    }

    /// Whether the breaker refused the call.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{CallError, Rejected};
    ///
    /// assert!(CallError::<()>::Rejected(Rejected::ProbesTaken).is_rejected());
    /// assert!(!CallError::Failed("boom").is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        matches!(self, CallError::Rejected(_))
    }
}

impl<E> From<Rejected> for CallError<E> {
    fn from(r: Rejected) -> Self {
        CallError::Rejected(r)
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Rejected(r) => r.fmt(f),
            CallError::Timeout => f.write_str("call through the circuit breaker timed out"),
            CallError::Failed(_) => f.write_str("call through the circuit breaker failed"),
            CallError::Unavailable(_) => f.write_str("protected service unavailable"),
            CallError::Breaker(_) => f.write_str("circuit breaker did not answer"),
        }
    }
}

impl<E: Error + 'static> Error for CallError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CallError::Failed(e) => Some(e),
            CallError::Unavailable(e) | CallError::Breaker(e) => Some(e),
            // Rejected is shown as the breaker's own refusal (its Display).
            CallError::Rejected(_) | CallError::Timeout => None,
        }
    }
}
