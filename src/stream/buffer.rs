//! The overflow strategies of a buffer stage (see `Source::buffer`).

/// What a full buffer does with one more element (see
/// [`crate::stream::Source::buffer`]).
///
/// # Examples
///
/// A buffer that keeps the latest readings for a slow consumer: when it is
/// full, the oldest waiting reading is shed to dead letters.
///
/// ```
/// use playhouse::stream::{Overflow, Sink, Source};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let n = Source::from_iter(0..1000)
///     .buffer(16, Overflow::DropOldest)
///     .to(Sink::count())
///     .run(&system)?
///     .wait(Duration::from_secs(5))?;
/// assert!(n > 0 && n <= 1000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Grant no more credit, so the upstream waits (every stage's default).
    #[default]
    Backpressure,
    /// Drop the oldest waiting element (to dead letters) to make room.
    DropOldest,
    /// Drop the arriving element (to dead letters).
    DropNewest,
    /// Fail the stream with [`super::StreamError::Overflow`].
    Fail,
}
