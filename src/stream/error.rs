//! The stream's errors: a pipeline that cannot start, and a stream that ended badly.

use crate::SpawnError;
use std::fmt;

/// Why a pipeline could not start: a setting that cannot work (checked before
/// anything is spawned), or an actor the system refused to spawn.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source, StartError, Window};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// let err = Source::from_iter(0..10).window(Window::count(0)).to(Sink::collect()).run(&system).unwrap_err();
/// assert!(matches!(err, StartError::Invalid(_)));
/// println!("{err}"); // names the setting
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// A zero batch size, window, buffer, rate, weight or period, or
    /// watermarks out of order. Names the setting.
    Invalid(&'static str),
    /// The system refused a stage actor (it is shutting down).
    Spawn(SpawnError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Invalid(s) => write!(f, "invalid stream setting: {s}"),
            StartError::Spawn(_) => f.write_str("could not spawn a stream stage"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Spawn(e) => Some(e),
            StartError::Invalid(_) => None,
        }
    }
}

impl From<SpawnError> for StartError {
    fn from(e: SpawnError) -> Self {
        StartError::Spawn(e)
    }
}

/// How a stream ended other than by completing: the error its handle returns.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source, StreamError};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// let failed = Source::from_iter([1, 0, 2])
///     .map(|n: u32| 10 / n) // panics on zero: a failure, as an Err would be
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5));
/// assert!(matches!(failed, Err(StreamError::Failed { .. })));
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// A stage under [`crate::stream::ErrorPolicy::Stop`] failed on an element
    /// (an `Err` or a panic), or a source failed.
    Failed {
        /// The stage's name (`"3:try_map"`).
        stage: String,
        /// The error's or the panic's message.
        reason: String,
    },
    /// A buffer under [`crate::stream::Overflow::Fail`] overflowed.
    Overflow {
        /// The buffer stage's name.
        stage: String,
    },
    /// The stream was cancelled from its handle, or its actors were stopped
    /// (the system shut down) before the sink completed.
    Cancelled,
    /// [`crate::stream::StreamHandle::wait`] ran out of time; the stream was
    /// cancelled.
    Timeout,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Failed { stage, reason } => {
                write!(f, "stream stage {stage} failed: {reason}")
            }
            StreamError::Overflow { stage } => write!(f, "stream buffer {stage} overflowed"),
            StreamError::Cancelled => f.write_str("stream cancelled"),
            StreamError::Timeout => f.write_str("stream did not complete in time"),
        }
    }
}

impl StreamError {
    /// Whether the stream was cancelled (from its handle, or by a timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::StreamError;
    ///
    /// assert!(StreamError::Timeout.is_cancelled());
    /// assert!(!StreamError::Overflow { stage: "2:buffer".into() }.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, StreamError::Cancelled | StreamError::Timeout)
    }
}

impl std::error::Error for StreamError {}

/// Why [`crate::stream::QueueHandle`] did not take an element; each variant
/// hands the element back.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{PushError, Sink, Source};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// let (source, queue) = Source::queue(&system, 1)?;
/// queue.try_push(1)?;
/// // The queue is full and nothing runs yet: the element comes back.
/// assert!(matches!(queue.try_push(2), Err(PushError::NoDemand(2))));
/// let handle = source.to(Sink::collect()).run(&system)?;
/// drop(queue);
/// assert_eq!(handle.wait(Duration::from_secs(5))?, vec![1]);
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(PartialEq, Eq)]
pub enum PushError<T> {
    /// The stream has no demand now (its buffer is full): from
    /// [`crate::stream::QueueHandle::try_push`], or from an actor that cannot
    /// wait.
    NoDemand(T),
    /// No room came within the deadline.
    Timeout(T),
    /// The stream has completed or was cancelled.
    Closed(T),
}

impl<T> PushError<T> {
    /// The element that was not taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::PushError;
    ///
    /// let e = PushError::Closed("order 7");
    /// assert_eq!(e.into_inner(), "order 7");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PushError::NoDemand(t) | PushError::Timeout(t) | PushError::Closed(t) => t,
        }
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::NoDemand(_) => f.write_str("NoDemand(..)"),
            PushError::Timeout(_) => f.write_str("Timeout(..)"),
            PushError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::NoDemand(_) => f.write_str("the stream has no demand"),
            PushError::Timeout(_) => f.write_str("the stream had no demand in time"),
            PushError::Closed(_) => f.write_str("the stream is closed"),
        }
    }
}

impl<T> std::error::Error for PushError<T> {}

/// The message of a caught panic.
pub(super) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}
