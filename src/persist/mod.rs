//! Event sourcing and command/query separation on a durable journal.
//!
//! TODO module docs

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
    EventSourcedMsg,
};
pub use file::{
    DEFAULT_SEGMENT_SIZE, FileJournal, FileJournalBuilder, FsyncPolicy, StdStorage, Storage,
    StorageFile, TornTail,
};
pub use journal::{AppendDone, AppendListener, Journal, JournalError, PersistedEvent};
pub use memory::MemoryJournal;
pub use persistence::Persistence;
pub use projection::{Projection, ProjectionActor, ProjectionBuilder, ProjectionMsg};
pub use query::{ProjectionAddr, ReadAfter};
pub use snapshot::{FileSnapshotStore, MemorySnapshotStore, Snapshot, SnapshotStore};

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
