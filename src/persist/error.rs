//! Errors of event-sourced actors and projections.

use super::codec::CodecError;
use super::journal::JournalError;
use crate::AskError;
use std::error::Error;
use std::fmt;

/// Why an event-sourced actor or a projection could not start, persist, or
/// restore.
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
