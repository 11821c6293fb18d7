//! Errors of event-sourced actors and projections.

use super::codec::CodecError;
use super::journal::JournalError;
use crate::AskError;
use std::error::Error;
use std::fmt;

/// Why an event-sourced actor or a projection could not start, persist, or
/// restore.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemoryJournal, PersistError, Persistence};
/// # use playhouse::persist::{Codec, CodecError, EventSourced};
/// # struct Noop;
/// # impl EventSourced for Noop {
/// #     type Command = (); type Event = (); type State = (); type Rejection = ();
/// #     fn decide(&self, _: &(), _: ()) -> Result<Vec<()>, ()> { Ok(vec![]) }
/// #     fn apply(&self, _: &mut (), _: &()) {}
/// # }
/// # struct Unit;
/// # impl Codec<()> for Unit {
/// #     fn encode(&self, _: &()) -> Result<Vec<u8>, CodecError> { Ok(vec![]) }
/// #     fn decode(&self, _: &[u8]) -> Result<(), CodecError> { Ok(()) }
/// # }
/// use std::sync::Arc;
///
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let err = persistence.event_sourced("s", || Noop, Unit).snapshot_every(0).factory().err().expect("refused");
/// assert!(matches!(err, PersistError::Config { setting: "snapshot_every", .. }));
/// println!("{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistError {
    /// The journal or snapshot store failed.
    Journal(JournalError),
    /// An event or state could not be encoded, or a stored one decoded.
    Codec {
        /// The stream (or projection).
        stream: String,
        /// The sequence number (or offset) of the value.
        seq: u64,
        /// What the codec said.
        error: CodecError,
    },
    /// Another live actor writes this stream: one writer per stream.
    StreamInUse {
        /// The stream.
        stream: String,
    },
    /// An empty stream id.
    EmptyStreamId,
    /// An invalid setting (a zero snapshot interval, snapshots without a
    /// store or codec, ...).
    Config {
        /// The setting.
        setting: &'static str,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The actor could not be spawned.
    Spawn(String),
    /// An ask got no answer. For a journal write this means its outcome is
    /// unknown, so the actor restarts and replays what is really stored.
    Unanswered(AskError),
    /// A wait for a projection to reach an offset ran out of time.
    Timeout,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Journal(e) => e.fmt(f),
            PersistError::Codec { stream, seq, .. } => {
                write!(f, "cannot encode or decode stream {stream:?} at seq {seq}")
            }
            PersistError::StreamInUse { stream } => {
                write!(f, "stream {stream:?} already has a live writer")
            }
            PersistError::EmptyStreamId => f.write_str("empty stream id"),
            PersistError::Config { setting, reason } => {
                write!(f, "invalid setting {setting}: {reason}")
            }
            PersistError::Spawn(e) => write!(f, "cannot spawn: {e}"),
            PersistError::Unanswered(_) => f.write_str("no answer"),
            PersistError::Timeout => f.write_str("timed out"),
        }
    }
}

impl Error for PersistError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            // Journal is transparent: shown as the journal's own error.
            PersistError::Journal(e) => e.source(),
            PersistError::Codec { error, .. } => Some(error),
            PersistError::Unanswered(e) => Some(e),
            _ => None,
        }
    }
}

impl From<JournalError> for PersistError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::EmptyStreamId => PersistError::EmptyStreamId,
            e => PersistError::Journal(e),
        }
    }
}

/// Why a command was not carried out.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{CommandError, EventSourced, EventSourcedAddr, MemoryJournal, Persistence};
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # use playhouse::persist::{Codec, CodecError};
/// # struct U8;
/// # impl Codec<u8> for U8 {
/// #     fn encode(&self, b: &u8) -> Result<Vec<u8>, CodecError> { Ok(vec![*b]) }
/// #     fn decode(&self, b: &[u8]) -> Result<u8, CodecError> { Ok(b[0]) }
/// # }
///
/// /// At most three items.
/// struct Basket;
/// impl EventSourced for Basket {
///     type Command = u8;
///     type Event = u8;
///     type State = Vec<u8>;
///     type Rejection = &'static str;
///     fn decide(&self, items: &Vec<u8>, item: u8) -> Result<Vec<u8>, &'static str> {
///         if items.len() == 3 { Err("basket full") } else { Ok(vec![item]) }
///     }
///     fn apply(&self, items: &mut Vec<u8>, item: &u8) { items.push(*item); }
/// }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let basket = persistence.event_sourced("basket-1", || Basket, U8).spawn(&system)?;
/// for item in 1..=3 {
///     basket.execute(item, Duration::from_secs(5))?;
/// }
/// match basket.execute(4, Duration::from_secs(5)) {
///     Err(CommandError::Rejected(why)) => assert_eq!(why, "basket full"),
///     Err(CommandError::Failed(e)) => panic!("not persisted: {e}"),
///     other => panic!("unexpected {other:?}"),
/// }
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError<R> {
    /// The aggregate rejected it; nothing changed.
    Rejected(R),
    /// Its events could not be persisted; the actor restarts (or stops) and
    /// nothing was applied. Whether the events reached the journal is known
    /// only after a replay.
    Failed(PersistError),
    /// The actor did not answer (see [`AskError`]).
    Ask(AskError),
}

impl<R: fmt::Display> fmt::Display for CommandError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Rejected(r) => write!(f, "command rejected: {r}"),
            CommandError::Failed(_) => f.write_str("command failed"),
            CommandError::Ask(_) => f.write_str("command unanswered"),
        }
    }
}

impl<R: fmt::Debug + fmt::Display> Error for CommandError<R> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CommandError::Rejected(_) => None,
            CommandError::Failed(e) => Some(e),
            CommandError::Ask(e) => Some(e),
        }
    }
}
