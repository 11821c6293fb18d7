//! [`Persistence`]: the journal, the snapshot store and the one-writer-per-stream
//! leases that event-sourced actors share.

use super::error::PersistError;
use super::journal::Journal;
use super::snapshot::SnapshotStore;
use crate::SpawnOptions;
use crate::sync::{Arc, Mutex};
use std::collections::HashMap;
use std::fmt;

/// The stores event-sourced actors and projections use, plus the registry
/// that lets only one live actor write each stream. Cheap to clone; clones
/// share everything.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemoryJournal, MemorySnapshotStore, Persistence};
/// use std::sync::Arc;
///
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()))
///     .with_snapshots(Arc::new(MemorySnapshotStore::new()));
/// assert_eq!(persistence.journal().highest_offset(), 0);
/// ```
#[derive(Clone)]
pub struct Persistence {
    journal: Arc<dyn Journal>,
    snapshots: Option<Arc<dyn SnapshotStore>>,
    leases: Arc<Mutex<Leases>>,
    port: SpawnOptions,
    /// `port_options` was called: appends go through the port, on the
    /// thread those options choose.
    port_set: bool,
}

/// Who writes which stream: the actor id and the token of its current
/// instance. An actor keeps its id across supervisor restarts, so its next
/// instance takes the lease over; another actor is refused.
#[derive(Default)]
struct Leases {
    held: HashMap<String, (u64, u64)>,
    next_token: u64,
}

impl Persistence {
    /// Event-sourced actors on `journal`, without snapshots.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, Persistence};
    /// use std::sync::Arc;
    ///
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// assert!(persistence.snapshots().is_none());
    /// let shared = persistence.clone(); // clones share the journal and the leases
    /// assert!(!shared.is_leased("any"));
    /// ```
    pub fn new(journal: Arc<dyn Journal>) -> Self {
        Persistence {
            journal,
            snapshots: None,
            leases: Arc::new(Mutex::new(Leases::default())),
            port: SpawnOptions::new(),
            port_set: false,
        }
    }

    /// Spawn options of the small child actor through which each
    /// event-sourced actor and projection hands its writes to the stores.
    /// The file journal and file snapshot store never block it (they have
    /// writer threads). For a store whose `append_with` or `save_with` block
    /// (the traits' defaults, e.g. a database client), pass
    /// `SpawnOptions::new().dedicated_thread()` so that no pool worker waits
    /// for the storage. Without this call an event-sourced actor hands its
    /// appends to the journal itself, on its worker, saving a hop per
    /// command; once it is called, appends go through the child actor too.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, Persistence};
    /// use playhouse::SpawnOptions;
    /// use std::sync::Arc;
    ///
    /// // A journal whose appends block (a database client, say): keep them off the pool.
    /// let journal = Arc::new(MemoryJournal::new()); // stands in for it here
    /// let persistence = Persistence::new(journal).port_options(SpawnOptions::new().dedicated_thread());
    /// # let _ = persistence;
    /// ```
    pub fn port_options(mut self, options: SpawnOptions) -> Self {
        self.port = options;
        self.port_set = true;
        self
    }

    /// Whether an event-sourced actor hands its appends to the journal
    /// itself rather than through its port: with the default port options
    /// the port would call the journal on a pool worker too, so the hop buys
    /// nothing.
    pub(crate) fn appends_in_place(&self) -> bool {
        !self.port_set
    }

    /// The options [`Persistence::port_options`] set.
    pub(crate) fn port(&self) -> SpawnOptions {
        self.port.clone()
    }

    /// Keeps snapshots in `store`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, MemorySnapshotStore, Persistence};
    /// use std::sync::Arc;
    ///
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()))
    ///     .with_snapshots(Arc::new(MemorySnapshotStore::new()));
    /// assert!(persistence.snapshots().is_some());
    /// ```
    pub fn with_snapshots(mut self, store: Arc<dyn SnapshotStore>) -> Self {
        self.snapshots = Some(store);
        self
    }

    /// The journal.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal, Persistence};
    /// use std::sync::Arc;
    ///
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// persistence.journal().append("seed", 0, vec![b"imported".to_vec()])?;
    /// assert_eq!(persistence.journal().highest_seq("seed")?, 1);
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.journal
    }

    /// The snapshot store, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, MemorySnapshotStore, Persistence, SnapshotStore};
    /// use std::sync::Arc;
    ///
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()))
    ///     .with_snapshots(Arc::new(MemorySnapshotStore::new()));
    /// let store = persistence.snapshots().expect("configured");
    /// store.save("s", 1, vec![1])?;
    /// assert_eq!(store.load("s")?.len(), 1);
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn snapshots(&self) -> Option<&Arc<dyn SnapshotStore>> {
        self.snapshots.as_ref()
    }

    /// Whether a live actor writes `stream`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Codec, CodecError, EventSourced, MemoryJournal, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
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
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// persistence.event_sourced("s", || Noop, Unit).spawn(&system)?;
    /// system.await_quiescent(std::time::Duration::from_secs(5))?; // started: it holds the lease
    /// assert!(persistence.is_leased("s"));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_leased(&self, stream: &str) -> bool {
        self.leases.lock().held.contains_key(stream)
    }

    /// Takes `stream` for the instance of actor `actor`; returns its token.
    pub(crate) fn acquire(&self, stream: &str, actor: u64) -> Result<u64, PersistError> {
        let mut leases = self.leases.lock();
        if let Some(&(holder, _)) = leases.held.get(stream)
            && holder != actor
        {
            return Err(PersistError::StreamInUse {
                stream: stream.to_owned(),
            });
        }
        leases.next_token += 1;
        let token = leases.next_token;
        leases.held.insert(stream.to_owned(), (actor, token));
        Ok(token)
    }

    /// Gives `stream` back, unless a newer instance has taken it over.
    pub(crate) fn release(&self, stream: &str, token: u64) {
        let mut leases = self.leases.lock();
        if leases.held.get(stream).is_some_and(|&(_, t)| t == token) {
            leases.held.remove(stream);
        }
    }
}

impl fmt::Debug for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistence")
            .field("snapshots", &self.snapshots.is_some())
            .field("leased_streams", &self.leases.lock().held.len())
            .finish()
    }
}
