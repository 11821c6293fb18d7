//! The overflow strategies of a buffer stage (see `Source::buffer`).

/// What a full buffer does with one more element.
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
