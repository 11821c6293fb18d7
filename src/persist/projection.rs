//! Projections: read models fed from the journal's global order.
//!
//! # Protocol
//! 1. `started` loads the newest snapshot of the read model and its offset
//!    (saved together, so they always agree), or starts from a fresh model
//!    at offset 0.
//! 2. It catches up: reads the journal from `offset + 1` in batches, applies
//!    each event of an accepted stream, and advances the offset. Between
//!    batches it sends itself a wake-up, so queries are answered meanwhile.
//! 3. It follows live appends: the journal's listener (registered once per
//!    actor, removed when it stops) `try_tell`s a wake-up after every
//!    acknowledged append. A wake-up lost to a full mailbox costs nothing:
//!    every query first catches up with the journal.
//! 4. Every N events it saves a snapshot of the model with its offset, so a
//!    restart neither re-applies nor skips an event.
//!
//! An event that does not decode fails the projection (never skipped).

use super::codec::Codec;
use super::error::PersistError;
use super::persistence::Persistence;
use super::port::{Port, PortMsg};
use super::query::ReadAfter;
use super::snapshot;
use crate::sync::Arc;
use crate::sync::Mutex;
use crate::{Actor, ActorError, Addr, Context, SpawnOptions, System};
use std::fmt;
use std::ops::ControlFlow;
use std::time::Duration;

/// How many events a projection applies per turn.
const BATCH: usize = 256;

/// A read model built from events of the journal, in global order.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{
///     Codec, CodecError, Journal, MemoryJournal, Persistence, Projection, ProjectionAddr,
///     ReadAfter,
/// };
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// /// Counts the events of every stream whose id starts with "order-".
/// #[derive(Default)]
/// struct OrderCount(u64);
/// impl Projection for OrderCount {
///     type Event = Vec<u8>;
///     fn accepts(&self, stream: &str) -> bool { stream.starts_with("order-") }
///     fn apply(&mut self, _stream: &str, _seq: u64, _event: Vec<u8>) { self.0 += 1; }
/// }
///
/// struct Raw;
/// impl Codec<Vec<u8>> for Raw {
///     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, CodecError> { Ok(v.clone()) }
///     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, CodecError> { Ok(b.to_vec()) }
/// }
///
/// let system = System::new();
/// let journal = Arc::new(MemoryJournal::new());
/// journal.append("order-1", 0, vec![b"placed".to_vec()])?;
/// let persistence = Persistence::new(journal.clone());
/// let counts = persistence.projection("order-count", OrderCount::default, Raw).spawn(&system)?;
/// journal.append("user-9", 0, vec![b"registered".to_vec()])?;
/// journal.append("order-1", 1, vec![b"paid".to_vec()])?;
/// let t = Duration::from_secs(5);
/// let after = ReadAfter::Event { stream: "order-1".into(), seq: 2 };
/// assert_eq!(counts.query(after, |c| c.0, t)?, 2);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Projection: Send + 'static {
    /// The events it reads, decoded by the projection's codec.
    type Event: Send + 'static;

    /// Whether the events of `stream` concern it (others are not decoded).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal, Persistence, Projection, ProjectionAddr, ReadAfter};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # #[derive(Default)]
    /// # struct Count(u64);
    /// # impl playhouse::persist::Projection for Count {
    /// #     type Event = Vec<u8>;
    /// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
    /// # }
    /// # struct Raw;
    /// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
    /// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
    /// # }
    ///
    /// /// Counts only payments.
    /// #[derive(Default)]
    /// struct Payments(u64);
    /// impl Projection for Payments {
    ///     type Event = Vec<u8>;
    ///     fn accepts(&self, stream: &str) -> bool {
    ///         stream.starts_with("payment-") // others are not even decoded
    ///     }
    ///     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) {
    ///         self.0 += 1;
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let journal = Arc::new(MemoryJournal::new());
    /// journal.append("payment-1", 0, vec![vec![1]])?;
    /// journal.append("order-1", 0, vec![vec![2]])?;
    /// let persistence = Persistence::new(journal);
    /// let p = persistence.projection("payments", Payments::default, Raw).spawn(&system)?;
    /// assert_eq!(p.query(ReadAfter::Offset(2), |m| m.0, Duration::from_secs(5))?, 1);
    /// # let _ = Count::default();
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn accepts(&self, stream: &str) -> bool {
        let _ = stream;
        true
    }

    /// Folds one event into the read model.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::Projection;
    /// use std::collections::BTreeMap;
    ///
    /// /// The last seq seen per stream.
    /// #[derive(Default)]
    /// struct Versions(BTreeMap<String, u64>);
    /// impl Projection for Versions {
    ///     type Event = Vec<u8>;
    ///     fn apply(&mut self, stream: &str, seq: u64, _event: Vec<u8>) {
    ///         self.0.insert(stream.to_string(), seq);
    ///     }
    /// }
    /// let mut v = Versions::default();
    /// v.apply("a", 1, vec![]);
    /// v.apply("a", 2, vec![]);
    /// assert_eq!(v.0["a"], 2);
    /// ```
    fn apply(&mut self, stream: &str, seq: u64, event: Self::Event);
}

/// A query run on a projection's model, or told why it could not be.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemoryJournal, Persistence, ProjectionMsg, Query, ReadAfter};
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # #[derive(Default)]
/// # struct Count(u64);
/// # impl playhouse::persist::Projection for Count {
/// #     type Event = Vec<u8>;
/// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
/// # }
/// # struct Raw;
/// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
/// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
/// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let p = persistence.projection("count", Count::default, Raw).spawn(&system)?;
/// // What `ProjectionAddr::query` sends; from an actor, send it with `ctx.send`.
/// let (tx, rx) = crossbeam_channel::bounded(1);
/// let run: Query<Count> = Box::new(move |model| drop(tx.send(model.map(|m| m.0))));
/// p.tell(ProjectionMsg::Query { after: ReadAfter::Now, timeout: Duration::from_secs(1), run })?;
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, Ok(0));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Query<P> = Box<dyn FnOnce(Result<&P, PersistError>) + Send>;

/// The messages of a [`ProjectionActor`]; [`crate::persist::ProjectionAddr`]
/// wraps them.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemoryJournal, Persistence, ProjectionMsg};
/// use playhouse::System;
/// use std::sync::Arc;
/// # #[derive(Default)]
/// # struct Count(u64);
/// # impl playhouse::persist::Projection for Count {
/// #     type Event = Vec<u8>;
/// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
/// # }
/// # struct Raw;
/// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
/// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
/// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let p = persistence.projection("count", Count::default, Raw).spawn(&system)?;
/// p.tell(ProjectionMsg::Wake)?; // "look at the journal": harmless at any time
/// system.await_quiescent(std::time::Duration::from_secs(5))?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum ProjectionMsg<P: Projection> {
    /// New events may be in the journal.
    Wake,
    /// Run `run` on the model once it has seen `after`, or with
    /// [`PersistError::Timeout`] after `timeout`.
    Query {
        /// What the model must have seen.
        after: ReadAfter,
        /// How long to wait for it.
        timeout: Duration,
        /// The query.
        run: Query<P>,
    },
}

impl<P: Projection> fmt::Debug for ProjectionMsg<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectionMsg::Wake => f.write_str("Wake"),
            ProjectionMsg::Query { after, .. } => write!(f, "Query({after:?})"),
        }
    }
}

struct Settings<P: Projection> {
    persistence: Persistence,
    name: String,
    events: Arc<dyn Codec<P::Event>>,
    models: Option<Arc<dyn Codec<P>>>,
    snapshot_every: Option<u64>,
}

impl<P: Projection> Settings<P> {
    /// Where snapshots of this projection are kept in the snapshot store.
    fn snapshot_stream(&self) -> String {
        format!("projection:{}", self.name)
    }
}

/// A query waiting for the model to see something.
struct Waiter<P> {
    id: u64,
    after: ReadAfter,
    /// The global offset `after` stands for, once known.
    offset: Option<u64>,
    run: Query<P>,
}

/// Runs a [`Projection`] as an actor; made by [`ProjectionBuilder`].
///
/// It starts from the newest snapshot of its model and offset (saved
/// together, so they always agree) or from a fresh model at offset 0,
/// catches up with the journal in batches (answering queries between them),
/// then follows live appends through a journal listener. Every N events (see
/// [`ProjectionBuilder::snapshot_every`]) it saves the model with its
/// offset, so a restart neither re-applies nor skips an event. An event
/// that does not decode fails it, with [`PersistError::Codec`]; it is never
/// skipped.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Journal, MemoryJournal, Persistence, ProjectionActor, ProjectionAddr, ReadAfter};
/// use playhouse::{Addr, System};
/// use std::sync::Arc;
/// use std::time::Duration;
/// # #[derive(Default)]
/// # struct Count(u64);
/// # impl playhouse::persist::Projection for Count {
/// #     type Event = Vec<u8>;
/// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
/// # }
/// # struct Raw;
/// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
/// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
/// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
/// # }
///
/// let system = System::new();
/// let journal = Arc::new(MemoryJournal::new());
/// let persistence = Persistence::new(journal.clone());
/// let p: Addr<ProjectionActor<Count>> = persistence.projection("count", Count::default, Raw).spawn(&system)?;
/// journal.append("s", 0, vec![vec![1], vec![2]])?; // live appends reach it
/// assert_eq!(p.query(ReadAfter::Now, |m| m.0, Duration::from_secs(5))?, 2);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ProjectionActor<P: Projection> {
    settings: Arc<Settings<P>>,
    factory: Arc<dyn Fn() -> P + Send + Sync>,
    model: P,
    /// Every event up to this global offset has been applied (or skipped
    /// as not accepted).
    offset: u64,
    last_snapshot: u64,
    waiters: Vec<Waiter<P>>,
    next_waiter: u64,
    port: Option<Addr<Port>>,
    listener: Option<Listener<P>>,
}

impl<P: Projection> fmt::Debug for ProjectionActor<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectionActor")
            .field("name", &self.settings.name)
            .field("offset", &self.offset)
            .finish()
    }
}

impl<P: Projection> Drop for ProjectionActor<P> {
    fn drop(&mut self) {
        // Unhooks this instance's journal listener (see `Listener`).
        if let Some(listener) = &self.listener {
            listener.lock().take();
        }
        if let Some(port) = &self.port {
            port.stop();
        }
    }
}

/// The address an instance's journal listener wakes, until the instance is
/// dropped. The listener must not own the address for good: the address
/// keeps the actor's factory, which keeps the journal, which keeps its
/// listeners, and that cycle would keep a file journal (and its lock) alive
/// after the projection is gone. Each instance registers its own listener
/// in `started` and empties it when dropped; an emptied listener removes
/// itself on the next append.
type Listener<P> = Arc<Mutex<Option<Addr<ProjectionActor<P>>>>>;

impl<P: Projection> ProjectionActor<P> {
    fn restore(&mut self) -> Result<(), PersistError> {
        let s = &*self.settings;
        let (Some(store), Some(codec)) = (s.persistence.snapshots(), &s.models) else {
            return Ok(());
        };
        let owner = format_args!("projection {:?}", s.name);
        if let Some((model, offset)) =
            snapshot::newest_decodable(&**store, &s.snapshot_stream(), &**codec, &owner)?
        {
            self.model = model;
            self.offset = offset;
            self.last_snapshot = offset;
            return Ok(());
        }
        self.model = (self.factory)();
        Ok(())
    }

    /// Applies one batch; returns whether more may be waiting.
    fn catch_up(&mut self) -> Result<bool, PersistError> {
        let journal = Arc::clone(self.settings.persistence.journal());
        let highest = journal.highest_offset();
        if highest <= self.offset {
            return Ok(false);
        }
        // Events are decoded straight from the journal's read buffer; a
        // decode error stops the read and is returned typed.
        let mut failed = None;
        let (model, events, offset) = (&mut self.model, &self.settings.events, &mut self.offset);
        let seen = journal.read_all_with(*offset + 1, BATCH, &mut |e| {
            if model.accepts(e.stream) {
                match events.decode(e.payload) {
                    Ok(event) => model.apply(e.stream, e.seq, event),
                    Err(error) => {
                        failed = Some(PersistError::Codec {
                            stream: e.stream.to_owned(),
                            seq: e.seq,
                            error,
                        });
                        return ControlFlow::Break(());
                    }
                }
            }
            *offset = e.offset;
            ControlFlow::Continue(())
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        let full = seen == BATCH;
        if !full {
            // Deleted events are not read; the offsets they held are passed.
            self.offset = self.offset.max(highest);
        }
        Ok(full)
    }

    /// Catches up one batch, answers the waiters it satisfied, snapshots if
    /// due, and schedules the next batch if there is one.
    fn advance(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let more = self.catch_up()?;
        self.answer_waiters()?;
        if let Some(every) = self.settings.snapshot_every
            && self.offset - self.last_snapshot >= every
        {
            self.snapshot(ctx);
        }
        if more {
            ctx.send(&ctx.addr(), ProjectionMsg::Wake)
                .map_err(|_| "projection cannot wake itself")?;
        }
        Ok(())
    }

    /// Resolves `after` to a global offset, if the journal knows it yet.
    fn resolve(&self, after: &ReadAfter) -> Result<Option<u64>, PersistError> {
        Ok(match after {
            ReadAfter::Now => Some(self.settings.persistence.journal().highest_offset()),
            ReadAfter::Offset(o) => Some(*o),
            ReadAfter::Event { stream, seq } => {
                let journal = self.settings.persistence.journal();
                match journal.read(stream, *seq, *seq, 1)?.first() {
                    Some(e) => Some(e.offset),
                    // Written but deleted: nothing to wait for.
                    None if journal.highest_seq(stream)? >= *seq => Some(0),
                    None => None,
                }
            }
        })
    }

    fn answer_waiters(&mut self) -> Result<(), PersistError> {
        let mut i = 0;
        while i < self.waiters.len() {
            if self.waiters[i].offset.is_none() {
                self.waiters[i].offset = self.resolve(&self.waiters[i].after)?;
            }
            if self.waiters[i].offset.is_some_and(|o| o <= self.offset) {
                let w = self.waiters.swap_remove(i);
                (w.run)(Ok(&self.model));
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    fn query(
        &mut self,
        ctx: &mut Context<Self>,
        after: ReadAfter,
        timeout: Duration,
        run: Query<P>,
    ) -> Result<(), ActorError> {
        self.next_waiter += 1;
        let id = self.next_waiter;
        self.waiters.push(Waiter {
            id,
            after,
            offset: None,
            run,
        });
        self.advance(ctx)?;
        if self.waiters.iter().any(|w| w.id == id) {
            ctx.run_after(timeout, move |me: &mut Self, _| {
                if let Some(i) = me.waiters.iter().position(|w| w.id == id) {
                    let w = me.waiters.swap_remove(i);
                    (w.run)(Err(PersistError::Timeout));
                }
                Ok(())
            });
        }
        Ok(())
    }

    fn snapshot(&mut self, ctx: &mut Context<Self>) {
        let (Some(codec), Some(port)) = (&self.settings.models, &self.port) else {
            return;
        };
        match codec.encode(&self.model) {
            Ok(state) => {
                self.last_snapshot = self.offset;
                let _ = ctx.send(
                    port,
                    PortMsg::Snapshot {
                        stream: self.settings.snapshot_stream(),
                        seq: self.offset,
                        state,
                        reply: None,
                    },
                );
            }
            Err(e) => log::warn!(
                "projection {:?}: model does not encode: {e}",
                self.settings.name
            ),
        }
    }
}

impl<P: Projection> Actor for ProjectionActor<P> {
    type Msg = ProjectionMsg<P>;

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        self.restore()?;
        let persistence = self.settings.persistence.clone();
        self.port = Some(ctx.spawn_with(persistence.port(), move || Port {
            journal: Arc::clone(persistence.journal()),
            snapshots: persistence.snapshots().cloned(),
        })?);
        let listener: Listener<P> = Arc::new(Mutex::new(Some(ctx.addr())));
        self.listener = Some(Arc::clone(&listener));
        self.settings
            .persistence
            .journal()
            .subscribe(Box::new(move |_| {
                let Some(addr) = listener.lock().clone() else {
                    return false;
                };
                match addr.try_tell(ProjectionMsg::Wake) {
                    Ok(()) => true,
                    // Full: the projection catches up before its next query.
                    Err(crate::TrySendError::Full(_)) => true,
                    Err(_) => false,
                }
            }));
        // Catch up with what was appended before the listener was in place.
        ctx.send(&ctx.addr(), ProjectionMsg::Wake)
            .map_err(|_| "projection cannot wake itself")?;
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: Self::Msg) -> Result<(), ActorError> {
        match msg {
            ProjectionMsg::Wake => self.advance(ctx),
            ProjectionMsg::Query {
                after,
                timeout,
                run,
            } => self.query(ctx, after, timeout, run),
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        for w in self.waiters.drain(..) {
            (w.run)(Err(PersistError::Timeout));
        }
    }
}

/// Settings for a [`ProjectionActor`]; from [`Persistence::projection`].
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemoryJournal, Persistence, ProjectionAddr, ReadAfter};
/// use playhouse::{SpawnOptions, System};
/// use std::sync::Arc;
/// use std::time::Duration;
/// # #[derive(Default)]
/// # struct Count(u64);
/// # impl playhouse::persist::Projection for Count {
/// #     type Event = Vec<u8>;
/// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
/// # }
/// # struct Raw;
/// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
/// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
/// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let p = persistence
///     .projection("count", Count::default, Raw)
///     .spawn_options(SpawnOptions::new().name("count"))
///     .spawn(&system)?;
/// assert_eq!(p.query(ReadAfter::Now, |m| m.0, Duration::from_secs(5))?, 0);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ProjectionBuilder<P: Projection> {
    persistence: Persistence,
    name: String,
    factory: Arc<dyn Fn() -> P + Send + Sync>,
    events: Arc<dyn Codec<P::Event>>,
    models: Option<Arc<dyn Codec<P>>>,
    snapshot_every: Option<u64>,
    options: SpawnOptions,
}

impl<P: Projection> fmt::Debug for ProjectionBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectionBuilder")
            .field("name", &self.name)
            .finish()
    }
}

impl Persistence {
    /// Settings for a projection called `name` (unique per snapshot store),
    /// its model made by `factory`, events decoded by `events`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal, Persistence, ProjectionAddr, ReadAfter};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # #[derive(Default)]
    /// # struct Count(u64);
    /// # impl playhouse::persist::Projection for Count {
    /// #     type Event = Vec<u8>;
    /// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
    /// # }
    /// # struct Raw;
    /// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
    /// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
    /// # }
    ///
    /// let system = System::new();
    /// let journal = Arc::new(MemoryJournal::new());
    /// journal.append("s", 0, vec![vec![1]; 3])?; // before the projection exists
    /// let persistence = Persistence::new(journal);
    /// let p = persistence.projection("count", Count::default, Raw).spawn(&system)?;
    /// // It catches up from the start of the journal.
    /// assert_eq!(p.query(ReadAfter::Offset(3), |m| m.0, Duration::from_secs(5))?, 3);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn projection<P: Projection>(
        &self,
        name: impl Into<String>,
        factory: impl Fn() -> P + Send + Sync + 'static,
        events: impl Codec<P::Event>,
    ) -> ProjectionBuilder<P> {
        ProjectionBuilder {
            persistence: self.clone(),
            name: name.into(),
            factory: Arc::new(factory),
            events: Arc::new(events),
            models: None,
            snapshot_every: None,
            options: SpawnOptions::new(),
        }
    }
}

impl<P: Projection> ProjectionBuilder<P> {
    /// Saves the model with its offset every `n` events (at least 1), encoded
    /// by `models`, in the persistence's snapshot store under the stream
    /// `projection:<name>`; a restart resumes from the newest one.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{
    ///     Codec, CodecError, Journal, MemoryJournal, MemorySnapshotStore, Persistence, ProjectionAddr,
    ///     ReadAfter, SnapshotStore,
    /// };
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # #[derive(Default)]
    /// # struct Count(u64);
    /// # impl playhouse::persist::Projection for Count {
    /// #     type Event = Vec<u8>;
    /// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
    /// # }
    /// # struct Raw;
    /// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
    /// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
    /// # }
    /// struct CountCodec;
    /// impl Codec<Count> for CountCodec {
    ///     fn encode(&self, c: &Count) -> Result<Vec<u8>, CodecError> { Ok(c.0.to_le_bytes().to_vec()) }
    ///     fn decode(&self, b: &[u8]) -> Result<Count, CodecError> {
    ///         Ok(Count(u64::from_le_bytes(b.try_into().map_err(CodecError::new)?)))
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let journal = Arc::new(MemoryJournal::new());
    /// let store = Arc::new(MemorySnapshotStore::new());
    /// let persistence = Persistence::new(journal.clone()).with_snapshots(store.clone());
    /// let p = persistence
    ///     .projection("count", Count::default, Raw)
    ///     .snapshot_every(2, CountCodec)
    ///     .spawn(&system)?;
    /// journal.append("s", 0, vec![vec![1]; 2])?;
    /// assert_eq!(p.query(ReadAfter::Offset(2), |m| m.0, Duration::from_secs(5))?, 2);
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert!(!store.load("projection:count")?.is_empty());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot_every(mut self, n: u64, models: impl Codec<P>) -> Self {
        self.snapshot_every = Some(n);
        self.models = Some(Arc::new(models));
        self
    }

    /// Spawn options.
    pub fn spawn_options(mut self, options: SpawnOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks the settings and returns the actor's factory, for a
    /// supervisor's [`crate::ChildSpec`]: every instance resumes from the
    /// newest snapshot and subscribes to the journal itself.
    ///
    /// # Errors
    /// [`PersistError::Config`] for an empty name, a zero snapshot interval
    /// or snapshots without a store.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal, Persistence, ProjectionActor, ProjectionAddr, ReadAfter};
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # #[derive(Default)]
    /// # struct Count(u64);
    /// # impl playhouse::persist::Projection for Count {
    /// #     type Event = Vec<u8>;
    /// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
    /// # }
    /// # struct Raw;
    /// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
    /// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
    /// # }
    ///
    /// let system = System::new();
    /// let journal = Arc::new(MemoryJournal::new());
    /// let persistence = Persistence::new(journal.clone());
    /// let factory = persistence.projection("count", Count::default, Raw).factory()?;
    /// let sup = Supervisor::builder().child(ChildSpec::new("count", factory)).spawn(&system)?;
    /// let p = sup.child::<ProjectionActor<Count>>("count").expect("started");
    /// journal.append("s", 0, vec![vec![1]])?;
    /// assert_eq!(p.query(ReadAfter::Now, |m| m.0, Duration::from_secs(5))?, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn factory(
        &self,
    ) -> Result<impl Fn() -> ProjectionActor<P> + Send + Sync + Clone + 'static, PersistError> {
        if self.name.is_empty() {
            return Err(PersistError::Config {
                setting: "name",
                reason: "a projection needs a name",
            });
        }
        if self.snapshot_every == Some(0) {
            return Err(PersistError::Config {
                setting: "snapshot_every",
                reason: "must be at least 1",
            });
        }
        if self.snapshot_every.is_some() && self.persistence.snapshots().is_none() {
            return Err(PersistError::Config {
                setting: "snapshot_every",
                reason: "the persistence has no snapshot store",
            });
        }
        let settings = Arc::new(Settings {
            persistence: self.persistence.clone(),
            name: self.name.clone(),
            events: Arc::clone(&self.events),
            models: self.models.clone(),
            snapshot_every: self.snapshot_every,
        });
        let factory = Arc::clone(&self.factory);
        Ok(move || ProjectionActor {
            settings: Arc::clone(&settings),
            factory: Arc::clone(&factory),
            model: factory(),
            offset: 0,
            last_snapshot: 0,
            waiters: Vec::new(),
            next_waiter: 0,
            port: None,
            listener: None,
        })
    }

    /// Spawns the projection on `system`.
    ///
    /// # Errors
    /// As [`ProjectionBuilder::factory`]; [`PersistError::Spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, PersistError, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// # #[derive(Default)]
    /// # struct Count(u64);
    /// # impl playhouse::persist::Projection for Count {
    /// #     type Event = Vec<u8>;
    /// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
    /// # }
    /// # struct Raw;
    /// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
    /// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
    /// # }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let err = persistence.projection("", Count::default, Raw).spawn(&system).unwrap_err();
    /// assert!(matches!(err, PersistError::Config { .. }));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(self, system: &System) -> Result<Addr<ProjectionActor<P>>, PersistError> {
        let factory = self.factory()?;
        system
            .spawn_with(self.options, factory)
            .map_err(|e| PersistError::Spawn(e.to_string()))
    }
}
