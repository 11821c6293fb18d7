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
//! of its own; a second thread of the journal, its completer, delivers the
//! outcomes (callbacks and listeners run there) while the writer already
//! syncs the next batch. An actor hands the journal its append
//! ([`Journal::append_with`]) and hears the outcome as a continuation, so no
//! pool worker waits for a disk;
//! snapshot saves run on the file snapshot store's writer thread the same
//! way, through a small child actor. Replay on start reads the journal on
//! the actor's worker, one batch per turn, so a long stream never holds a
//! worker for long. A store of your own whose writes block can have its
//! writes made on a dedicated thread ([`Persistence::port_options`]).
//!
//! # The read side
//!
//! A [`Projection`] is a read model fed from the journal's global order by
//! a [`ProjectionActor`]: it catches up from its snapshotted offset, then
//! follows live appends. Queries ([`ProjectionAddr::query`]) can ask to
//! read their own writes ([`ReadAfter`]): they wait, up to a deadline, until
//! the projection has seen a given event.
//!
//! # When to use it
//!
//! Event sourcing fits state whose history matters or must be explained
//! (orders, accounts, workflows), and state rebuilt after a crash from
//! what was acknowledged, with several read models from one stream of
//! facts. Each command costs a durable write before it is answered, so it
//! is not for state that can simply be recomputed or lost (caches, rates,
//! counters for a dashboard): keep that in a plain actor. Nor does it make
//! a command idempotent: a caller that retries after a timeout may persist
//! twice unless the command carries an id the aggregate checks.
//!
//! # Example
//!
//! An account that refuses overdrafts, a read model of every balance, and
//! a restart that brings the account back from its journal. Tests use the
//! [`MemoryJournal`]; a program passes a [`FileJournal`] instead.
//!
//! ```
//! use playhouse::persist::{
//!     Codec, CodecError, CommandError, EventSourced, EventSourcedAddr, MemoryJournal,
//!     Persistence, Projection, ProjectionAddr, ReadAfter,
//! };
//! use playhouse::System;
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! /// The write side: commands in, events out, state = the fold of events.
//! struct Account;
//! enum Cmd { Deposit(u64), Withdraw(u64) }
//! impl EventSourced for Account {
//!     type Command = Cmd;
//!     type Event = i64; // + deposited, - withdrawn
//!     type State = i64; // the balance
//!     type Rejection = String;
//!     fn decide(&self, balance: &i64, cmd: Cmd) -> Result<Vec<i64>, String> {
//!         match cmd {
//!             Cmd::Deposit(n) => Ok(vec![n as i64]),
//!             Cmd::Withdraw(n) if n as i64 > *balance => Err(format!("balance {balance}")),
//!             Cmd::Withdraw(n) => Ok(vec![-(n as i64)]),
//!         }
//!     }
//!     fn apply(&self, balance: &mut i64, event: &i64) {
//!         *balance += event;
//!     }
//! }
//!
//! /// How events are stored.
//! struct I64;
//! impl Codec<i64> for I64 {
//!     fn encode(&self, n: &i64) -> Result<Vec<u8>, CodecError> { Ok(n.to_le_bytes().to_vec()) }
//!     fn decode(&self, b: &[u8]) -> Result<i64, CodecError> {
//!         Ok(i64::from_le_bytes(b.try_into().map_err(CodecError::new)?))
//!     }
//! }
//!
//! /// The read side: every account's balance, from the journal's global order.
//! #[derive(Default)]
//! struct Balances(HashMap<String, i64>);
//! impl Projection for Balances {
//!     type Event = i64;
//!     fn apply(&mut self, stream: &str, _seq: u64, event: i64) {
//!         *self.0.entry(stream.to_string()).or_default() += event;
//!     }
//! }
//!
//! const T: Duration = Duration::from_secs(5);
//! let system = System::new();
//! let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
//! let balances = persistence.projection("balances", Balances::default, I64).spawn(&system)?;
//! let alice = persistence.event_sourced("account-alice", || Account, I64).spawn(&system)?;
//!
//! alice.execute(Cmd::Deposit(100), T)?;
//! let seq = alice.execute(Cmd::Withdraw(30), T)?; // persisted, then applied
//! let refused = alice.execute(Cmd::Withdraw(500), T);
//! assert!(matches!(refused, Err(CommandError::Rejected(_)))); // nothing persisted
//!
//! // Read your own write: wait until the projection has seen it.
//! let after = ReadAfter::Event { stream: "account-alice".into(), seq };
//! assert_eq!(balances.query(after, |b| b.0["account-alice"], T)?, 70);
//!
//! // A new actor for the stream replays its events.
//! alice.stop();
//! playhouse::testkit::await_stopped(&system, &alice, T)?;
//! # while persistence.is_leased("account-alice") { std::thread::yield_now(); }
//! let again = persistence.event_sourced("account-alice", || Account, I64).spawn(&system)?;
//! assert_eq!(again.inspect(|balance, seq| (*balance, seq), T)?, (70, 2));
//! system.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
pub use journal::{
    AppendDone, AppendListener, EventRef, EventVisitor, Journal, JournalError, PersistedEvent,
};
pub use memory::MemoryJournal;
pub use persistence::Persistence;
pub use projection::{Projection, ProjectionActor, ProjectionBuilder, ProjectionMsg, Query};
pub use query::{ProjectionAddr, ReadAfter};
pub use snapshot::{FileSnapshotStore, MemorySnapshotStore, SaveDone, Snapshot, SnapshotStore};

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
