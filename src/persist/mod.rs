//! Event sourcing and command/query separation on a durable journal.
//!
//! TODO module docs

mod file;
mod index;
mod journal;
mod memory;

pub use file::{
    DEFAULT_SEGMENT_SIZE, FileJournal, FileJournalBuilder, FsyncPolicy, StdStorage, Storage,
    StorageFile, TornTail,
};
pub use journal::{AppendDone, AppendListener, Journal, JournalError, PersistedEvent};
pub use memory::MemoryJournal;

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
