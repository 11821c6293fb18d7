//! What a failed expectation or wait reports: what was expected, and what came instead.

use crate::{AskError, SpawnError};
use std::error::Error;
use std::fmt;
use std::time::Duration;

/// An expectation of a [`Probe`](super::Probe) or
/// [`DeadLetters`](super::DeadLetters) that was not met. It names what was
/// expected and hands back what arrived instead, so a failing test says what
/// happened; its `Display` prints the messages with their `Debug`.
///
/// # Examples
///
/// ```
/// use playhouse::System;
/// use playhouse::testkit::{ExpectError, Probe};
/// use std::time::Duration;
///
/// let system = System::new();
/// let probe = Probe::<u32>::new(&system)?;
/// probe.recipient().tell(7)?;
/// match probe.expect_msg(8, Duration::from_secs(5)) {
///     Err(ExpectError::Unexpected { got, .. }) => assert_eq!(got, 7),
///     other => panic!("{other:?}"),
/// }
/// let err = probe.expect_next(Duration::from_millis(1)).unwrap_err();
/// assert!(err.to_string().starts_with("expected a message within"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub enum ExpectError<M> {
    /// Nothing that met the expectation arrived in time. `received` holds what
    /// arrived and was passed over (by [`Probe::fish_for`](super::Probe::fish_for)
    /// or a short [`Probe::receive_n`](super::Probe::receive_n)).
    Timeout {
        /// What was expected.
        expected: String,
        /// How long it was waited for.
        within: Duration,
        /// What arrived and did not meet it, in order.
        received: Vec<M>,
    },
    /// Another message arrived first; it is handed back.
    Unexpected {
        /// What was expected.
        expected: String,
        /// What arrived instead.
        got: M,
    },
    /// The probe's actor stopped (its system shut down) and nothing that met
    /// the expectation was left queued.
    Closed {
        /// What was expected.
        expected: String,
        /// What was left queued and did not meet it, in order.
        received: Vec<M>,
    },
}

impl<M: fmt::Debug> fmt::Display for ExpectError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectError::Timeout {
                expected,
                within,
                received,
            } if received.is_empty() => {
                write!(f, "expected {expected} within {within:?}, got nothing")
            }
            ExpectError::Timeout {
                expected,
                within,
                received,
            } => write!(
                f,
                "expected {expected} within {within:?}, got only {received:?}"
            ),
            ExpectError::Unexpected { expected, got } => {
                write!(f, "expected {expected}, got {got:?}")
            }
            ExpectError::Closed { expected, received } => write!(
                f,
                "expected {expected}, but the probe stopped (left queued: {received:?})"
            ),
        }
    }
}

impl<M: fmt::Debug> fmt::Debug for ExpectError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Display text, so `unwrap` in a test prints the whole story.
        write!(f, "ExpectError({self})")
    }
}

impl<M: fmt::Debug> Error for ExpectError<M> {}

/// A wait of the test kit ([`await_stopped`](super::await_stopped),
/// [`await_children`](super::await_children)) that did not end as hoped.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::{await_stopped, WaitError};
/// use playhouse::{Actor, ActorError, Context, System};
/// use std::time::Duration;
///
/// struct Idle;
/// impl Actor for Idle {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// let idle = system.spawn(|| Idle)?;
/// let err = await_stopped(&system, &idle, Duration::from_millis(10)).unwrap_err();
/// assert!(matches!(err, WaitError::Timeout { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitError {
    /// The condition did not hold in time.
    Timeout {
        /// What was waited for.
        waiting_for: String,
        /// How long.
        within: Duration,
        /// The last state seen.
        last_seen: String,
    },
    /// The system shut down before the condition held.
    Closed,
    /// The helper could not spawn the actor it watches with.
    Spawn(SpawnError),
    /// The actor asked for its state did not answer.
    Ask(AskError),
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Timeout {
                waiting_for,
                within,
                last_seen,
            } => write!(
                f,
                "waited {within:?} for {waiting_for}; last seen: {last_seen}"
            ),
            WaitError::Closed => f.write_str("the system shut down while waiting"),
            WaitError::Spawn(_) => f.write_str("could not spawn the watcher"),
            WaitError::Ask(_) => f.write_str("no answer"),
        }
    }
}

impl Error for WaitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            WaitError::Spawn(e) => Some(e),
            WaitError::Ask(e) => Some(e),
            _ => None,
        }
    }
}
