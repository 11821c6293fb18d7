//! Event sourcing and command/query separation on a durable journal.
//!
//! Built only on playhouse's public actor API: every piece here could live
//! in a crate of its own.
//!
//! # The write side
//!
//! An [`EventSourced`] aggregate decides commands into events and folds
//! events into its state. [`Persistence::event_sourced`] runs it as an
//! [`EventSourcedActor`] on one stream of a [`Journal`]:
//!
//! - The events of one command are persisted as **one atomic append before**
//!   they are applied and before the command is answered. While the write is
//!   in flight the actor is suspended: later commands wait in its bounded
//!   mailbox, in order, and their senders feel backpressure.
//! - A rejection is answered and changes nothing.
//! - On start, and on every restart by its supervisor, the actor loads the
//!   newest snapshot that decodes and replays the events after it.
//! - One live writer per stream: a second actor for the same stream is
//!   refused with [`PersistError::StreamInUse`].
//! - A failed, conflicting or unanswered write fails the command *and the
//!   actor*: nobody knows what reached the disk, so it restarts and replays
//!   what is really there (or, unsupervised, stops). It never retries a write
//!   into a false success.
//!
//! # Journals
//!
//! [`MemoryJournal`] is for tests. [`FileJournal`] keeps append-only
//! segment files: a versioned header, records framed with their length and a
//! CRC-32 (the `crc32fast` crate), rotation by size, and a lock file so only
//! one journal writes a directory. [`FsyncPolicy`] chooses between a sync per
//! append, group commit (appends that arrive while a sync runs share the
//! next one; the default) and no sync (not durable). On open, a torn tail is
//! cut off and reported ([`FileJournal::torn_tail`]); a damaged record
//! before the tail is [`JournalError::Corruption`] naming file and offset,
//! never skipped. A failed write or fsync fails the append and every later
//! one until the journal is reopened.
//!
//! **Blocking.** The file journal's writes and fsyncs run on a writer thread
//! of its own. An actor hands it its append through a small child actor and
//! hears the outcome as an ask continuation, so no pool worker waits for a
//! disk; snapshot saves run on the file snapshot store's writer thread the
//! same way. Replay on start reads the journal on the actor's worker, one
//! batch per turn, so a long stream never holds a worker for long. A store
//! of your own whose writes block can have the child actor on a dedicated
//! thread ([`Persistence::port_options`]).
//!
//! # The read side
//!
//! A [`Projection`] is a read model fed from the journal's global order by
//! a [`ProjectionActor`]: it catches up from its snapshotted offset, then
//! follows live appends. Queries ([`ProjectionAddr::query`]) can ask to
//! read their own writes ([`ReadAfter`]): they wait, up to a deadline, until
//! the projection has seen a given event.
//!
//! # Example
//!
//! `examples/event_sourcing.rs` runs user accounts on a file journal with a
//! find-by-email projection, and restores both in a second process.

mod codec;
mod error;
mod eventsourced;
mod file;
mod index;
mod journal;
mod memory;
mod persistence;
mod port;
mod projection;
mod query;
mod snapshot;

pub use codec::{Codec, CodecError};
pub use error::{CommandError, PersistError};
pub use eventsourced::{
    DEFAULT_WRITE_TIMEOUT, EventSourced, EventSourcedActor, EventSourcedAddr, EventSourcedBuilder,
    EventSourcedMsg, Inspection,
};
pub use file::{
    DEFAULT_SEGMENT_SIZE, FileJournal, FileJournalBuilder, FileJournalStats, FsyncPolicy,
    StdStorage, Storage, StorageFile, TornTail,
};
pub use journal::{AppendDone, AppendListener, Journal, JournalError, PersistedEvent};
pub use memory::MemoryJournal;
pub use persistence::Persistence;
pub use projection::{Projection, ProjectionActor, ProjectionBuilder, ProjectionMsg, Query};
pub use query::{ProjectionAddr, ReadAfter};
pub use snapshot::{FileSnapshotStore, MemorySnapshotStore, SaveDone, Snapshot, SnapshotStore};

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
