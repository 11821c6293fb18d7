//! Event-sourced actors: [`EventSourced`] aggregates run by
//! [`EventSourcedActor`], which persists before it applies or replies.
//!
//! # Protocol of one command
//! 1. `decide` on the current state: a rejection is answered at once and
//!    changes nothing; no events are answered at once.
//! 2. The events are encoded and handed as **one** append (expecting the
//!    actor's current seq) to the journal (`Journal::append_with`, through
//!    the journal port if `Persistence::port_options` put it on a thread of
//!    its choosing); the actor suspends, so the
//!    commands that arrive meanwhile wait in its bounded mailbox, in order,
//!    and their senders feel backpressure.
//! 3. When the journal acknowledges (after its fsync), the continuation
//!    applies the events, answers the command with the new seq, maybe
//!    snapshots, and resumes the actor.
//! 4. If the write fails, times out or conflicts, nothing is applied, the
//!    command is answered with the failure, and the actor fails: its
//!    supervisor restarts it (it replays what the journal really holds) or,
//!    unsupervised, it stops.
//!
//! # Start and restart
//! `started` takes the stream's lease (one live writer per stream), loads
//! the newest snapshot that decodes, spawns its journal port and replays
//! the events after the snapshot, one batch per turn: the actor stays
//! suspended (commands wait) until the last batch, and each batch after the
//! first runs as a `run_after` continuation, so a long stream never holds a
//! worker for one long turn.

use super::codec::Codec;
use super::error::{CommandError, PersistError};
use super::journal::JournalError;
use super::persistence::Persistence;
use super::port::{Port, PortMsg};
use super::snapshot;
use crate::sync::Arc;
use crate::{Actor, ActorError, Addr, AskError, Context, Reply, SpawnOptions, System};
use std::fmt;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// How many events replay reads per journal call.
const REPLAY_BATCH: usize = 1024;

/// The default time a write may take before its outcome counts as unknown.
///
/// # Examples
///
/// ```
/// use playhouse::persist::DEFAULT_WRITE_TIMEOUT;
/// use std::time::Duration;
///
/// assert_eq!(DEFAULT_WRITE_TIMEOUT, Duration::from_secs(30));
/// ```
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// An aggregate whose state is the fold of its events.
///
/// `decide` turns a command into events (or a rejection) without changing
/// anything; `apply` folds one event into the state and must not fail: an
/// event is a fact that has happened. Both run on the actor, one command at
/// a time, so they need no locks.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{
///     Codec, CodecError, EventSourced, EventSourcedAddr, MemoryJournal, Persistence,
/// };
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// struct Counter;
/// impl EventSourced for Counter {
///     type Command = u64;
///     type Event = u64;
///     type State = u64;
///     type Rejection = String;
///     fn decide(&self, total: &u64, add: u64) -> Result<Vec<u64>, String> {
///         if total + add > 100 { Err(format!("{add} would pass 100")) } else { Ok(vec![add]) }
///     }
///     fn apply(&self, total: &mut u64, add: &u64) {
///         *total += add;
///     }
/// }
///
/// struct U64Codec;
/// impl Codec<u64> for U64Codec {
///     fn encode(&self, n: &u64) -> Result<Vec<u8>, CodecError> { Ok(n.to_le_bytes().to_vec()) }
///     fn decode(&self, b: &[u8]) -> Result<u64, CodecError> {
///         Ok(u64::from_le_bytes(b.try_into().map_err(CodecError::new)?))
///     }
/// }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let t = Duration::from_secs(5);
/// let counter = persistence.event_sourced("counter-1", || Counter, U64Codec).spawn(&system)?;
/// assert_eq!(counter.execute(40, t), Ok(1));
/// assert_eq!(counter.execute(50, t), Ok(2));
/// assert!(counter.execute(20, t).is_err()); // rejected: nothing persisted
/// assert_eq!(counter.inspect(|total, seq| (*total, seq), t), Ok((90, 2)));
///
/// // Stop it and start it again: the state comes back from the journal.
/// counter.stop();
/// # while counter.is_alive() { std::thread::yield_now(); }
/// # while persistence.is_leased("counter-1") { std::thread::yield_now(); }
/// let again = persistence.event_sourced("counter-1", || Counter, U64Codec).spawn(&system)?;
/// assert_eq!(again.inspect(|total, _| *total, t), Ok(90));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait EventSourced: Send + 'static {
    /// What callers ask for.
    type Command: Send + 'static;
    /// What happened; stored in the journal.
    type Event: Send + 'static;
    /// The fold of the events; `Default` is the state before the first.
    type State: Default + Send + 'static;
    /// Why a command was refused.
    type Rejection: Send + 'static;

    /// The events that carry out `command` on `state`, or why it is refused.
    ///
    /// # Errors
    /// The rejection, which is answered to the caller; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::EventSourced;
    ///
    /// /// A seat booking: a command may produce several events, or none.
    /// struct Seats;
    /// impl EventSourced for Seats {
    ///     type Command = u32; // how many seats to book
    ///     type Event = u32; // one seat booked, by number
    ///     type State = Vec<u32>;
    ///     type Rejection = String;
    ///     fn decide(&self, booked: &Vec<u32>, n: u32) -> Result<Vec<u32>, String> {
    ///         let free = 10 - booked.len() as u32;
    ///         if n > free {
    ///             return Err(format!("only {free} left"));
    ///         }
    ///         let next = booked.len() as u32 + 1;
    ///         Ok((next..next + n).collect())
    ///     }
    ///     fn apply(&self, booked: &mut Vec<u32>, seat: &u32) {
    ///         booked.push(*seat);
    ///     }
    /// }
    /// assert_eq!(Seats.decide(&vec![1, 2], 2), Ok(vec![3, 4]));
    /// assert!(Seats.decide(&vec![], 11).is_err());
    /// ```
    fn decide(
        &self,
        state: &Self::State,
        command: Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Rejection>;

    /// Folds one event into the state.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::EventSourced;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// // apply folds facts; replay is this fold over the stored events.
    /// let mut total = 0;
    /// for e in [5, 7] {
    ///     Counter.apply(&mut total, &e);
    /// }
    /// assert_eq!(total, 12);
    /// ```
    fn apply(&self, state: &mut Self::State, event: &Self::Event);
}

/// A function run on an event-sourced actor's state and seq.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{EventSourcedMsg, MemoryJournal, Persistence};
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # struct Counter;
/// # impl playhouse::persist::EventSourced for Counter {
/// #     type Command = u64;
/// #     type Event = u64;
/// #     type State = u64;
/// #     type Rejection = String;
/// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
/// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
/// #     }
/// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
/// # }
/// # struct U64;
/// # impl playhouse::persist::Codec<u64> for U64 {
/// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
/// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
/// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
/// #     }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let counter = persistence.event_sourced("c", || Counter, U64).spawn(&system)?;
/// // What `EventSourcedAddr::inspect` sends: a function run on the actor.
/// let (tx, rx) = crossbeam_channel::bounded(1);
/// counter.tell(EventSourcedMsg::<Counter>::Inspect(Box::new(move |total, seq| {
///     let _ = tx.send((*total, seq));
/// })))?;
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, (0, 0));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Inspection<S> = Box<dyn FnOnce(&S, u64) + Send>;

/// The messages of an [`EventSourcedActor`]. [`EventSourcedAddr`] wraps
/// the usual asks.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{CommandError, EventSourcedMsg, MemoryJournal, Persistence};
/// use playhouse::{Actor, ActorError, Addr, Context, System};
/// use std::sync::Arc;
/// use std::time::Duration;
/// # struct Counter;
/// # impl playhouse::persist::EventSourced for Counter {
/// #     type Command = u64;
/// #     type Event = u64;
/// #     type State = u64;
/// #     type Rejection = String;
/// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
/// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
/// #     }
/// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
/// # }
/// # struct U64;
/// # impl playhouse::persist::Codec<u64> for U64 {
/// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
/// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
/// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
/// #     }
/// # }
///
/// /// Sends commands from inside an actor; the answer comes as a continuation.
/// struct Client {
///     counter: Addr<playhouse::persist::EventSourcedActor<Counter>>,
///     last: Option<Result<u64, CommandError<String>>>,
/// }
/// impl Actor for Client {
///     type Msg = u64;
///     fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
///         ctx.ask(
///             &self.counter,
///             |r| EventSourcedMsg::Command(n, r),
///             Duration::from_secs(5),
///             |me: &mut Client, _, answer| {
///                 me.last = Some(answer.unwrap_or_else(|e| Err(CommandError::Ask(e))));
///             },
///         )?;
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let counter = persistence.event_sourced("c", || Counter, U64).spawn(&system)?;
/// let c = counter.clone();
/// let client = system.spawn(move || Client { counter: c.clone(), last: None })?;
/// client.tell(3)?;
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert_eq!(persistence.journal().highest_seq("c")?, 1);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum EventSourcedMsg<E: EventSourced> {
    /// Carry out a command; answered with the stream's seq after its events
    /// are persisted and applied.
    Command(E::Command, Reply<Result<u64, CommandError<E::Rejection>>>),
    /// Run a function on the current state and seq (a query on the write
    /// side; prefer a projection for anything heavier).
    Inspect(Inspection<E::State>),
    /// Snapshot the current state now; answered with its seq once saved.
    Snapshot(Reply<Result<u64, PersistError>>),
}

impl<E: EventSourced> fmt::Debug for EventSourcedMsg<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventSourcedMsg::Command(..) => "Command(..)",
            EventSourcedMsg::Inspect(_) => "Inspect(..)",
            EventSourcedMsg::Snapshot(_) => "Snapshot(..)",
        })
    }
}

/// What every instance of one event-sourced actor shares.
struct Settings<E: EventSourced> {
    persistence: Persistence,
    stream: String,
    events: Arc<dyn Codec<E::Event>>,
    states: Option<Arc<dyn Codec<E::State>>>,
    snapshot_every: Option<u64>,
    write_timeout: Duration,
}

/// Runs an [`EventSourced`] aggregate as an actor on one journal stream;
/// made by [`EventSourcedBuilder`].
///
/// One command:
/// 1. `decide` on the current state: a rejection is answered at once and
///    changes nothing; no events are answered at once.
/// 2. The events are encoded and sent as **one** append, expecting the
///    actor's current seq. The actor suspends: commands that arrive
///    meanwhile wait in its bounded mailbox, in order, and their senders
///    feel backpressure. No pool worker waits for the disk.
/// 3. Once the journal acknowledges (after its fsync), the events are
///    applied, the command is answered with the new seq, a snapshot may be
///    taken, and the actor resumes.
/// 4. If the write fails, times out or conflicts, nothing is applied, the
///    command is answered with [`CommandError::Failed`], and the actor
///    fails: its supervisor restarts it, and it replays what the journal
///    really holds; unsupervised, it stops.
///
/// On start and on every restart it takes the stream's lease (one live
/// writer per stream), loads the newest snapshot that decodes and replays
/// the events after it, a batch per turn, before its first command.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{EventSourcedActor, EventSourcedAddr, MemoryJournal, Persistence};
/// use playhouse::{Addr, System};
/// use std::sync::Arc;
/// use std::time::Duration;
/// # struct Counter;
/// # impl playhouse::persist::EventSourced for Counter {
/// #     type Command = u64;
/// #     type Event = u64;
/// #     type State = u64;
/// #     type Rejection = String;
/// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
/// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
/// #     }
/// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
/// # }
/// # struct U64;
/// # impl playhouse::persist::Codec<u64> for U64 {
/// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
/// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
/// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
/// #     }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let counter: Addr<EventSourcedActor<Counter>> =
///     persistence.event_sourced("counter-7", || Counter, U64).spawn(&system)?;
/// assert_eq!(counter.execute(4, Duration::from_secs(5)), Ok(1));
/// // One live writer per stream.
/// assert!(persistence.event_sourced("counter-7", || Counter, U64).spawn(&system).is_err());
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EventSourcedActor<E: EventSourced> {
    settings: Arc<Settings<E>>,
    aggregate: E,
    state: E::State,
    /// The highest seq of the stream, all of it applied to `state`.
    seq: u64,
    last_snapshot: u64,
    port: Option<Addr<Port>>,
    /// This instance's lease token; 0 before `started` took the lease.
    token: u64,
    /// The write in flight, if any (at most one: commands wait meanwhile).
    writing: Option<Writing<E>>,
    /// Writes started by this instance; numbers them.
    writes: u64,
    /// A deadline check is queued on the timer (see [`Self::check_write`]).
    watching: bool,
}

/// A command whose events are being written: applied and answered when the
/// journal acknowledges write `n`.
struct Writing<E: EventSourced> {
    n: u64,
    started: Instant,
    events: Vec<E::Event>,
    reply: Reply<Result<u64, CommandError<E::Rejection>>>,
}

impl<E: EventSourced> fmt::Debug for EventSourcedActor<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSourcedActor")
            .field("stream", &self.settings.stream)
            .field("seq", &self.seq)
            .finish()
    }
}

impl<E: EventSourced> Drop for EventSourcedActor<E> {
    fn drop(&mut self) {
        if self.token != 0 {
            self.settings
                .persistence
                .release(&self.settings.stream, self.token);
        }
        if let Some(port) = &self.port {
            port.stop();
        }
    }
}

impl<E: EventSourced> EventSourcedActor<E> {
    /// Loads the newest snapshot that decodes, if snapshots are on.
    fn load_snapshot(&mut self) -> Result<(), PersistError> {
        let s = &*self.settings;
        let (Some(store), Some(codec)) = (s.persistence.snapshots(), &s.states) else {
            return Ok(());
        };
        let owner = format_args!("event-sourced actor {:?}", s.stream);
        if let Some((state, seq)) =
            snapshot::newest_decodable(&**store, &s.stream, &**codec, &owner)?
        {
            self.state = state;
            self.seq = seq;
            self.last_snapshot = seq;
        }
        Ok(())
    }

    /// Replays the next batch of events; whether replay is complete.
    fn replay_batch(&mut self) -> Result<bool, PersistError> {
        let s = &*self.settings;
        let journal = s.persistence.journal();
        // Events are decoded straight from the journal's read buffer; a
        // decode error stops the read and is returned typed.
        let mut last = None;
        let mut failed = None;
        let (state, aggregate) = (&mut self.state, &self.aggregate);
        journal.read_with(
            &s.stream,
            self.seq + 1,
            u64::MAX,
            REPLAY_BATCH,
            &mut |e| match s.events.decode(e.payload) {
                Ok(event) => {
                    aggregate.apply(state, &event);
                    last = Some(e.seq);
                    ControlFlow::Continue(())
                }
                Err(error) => {
                    failed = Some(PersistError::Codec {
                        stream: s.stream.clone(),
                        seq: e.seq,
                        error,
                    });
                    ControlFlow::Break(())
                }
            },
        )?;
        if let Some(e) = failed {
            return Err(e);
        }
        let Some(last) = last else {
            // Events deleted without a snapshot leave nothing to replay, but
            // their numbers stay taken.
            self.seq = self.seq.max(journal.highest_seq(&s.stream)?);
            log::debug!(
                "event-sourced actor {:?} recovered at seq {}",
                s.stream,
                self.seq
            );
            return Ok(true);
        };
        self.seq = last;
        Ok(false)
    }

    /// Replays one more batch per turn, suspended (so commands wait) until
    /// the stream is replayed; a long stream does not hold a worker for one
    /// long turn.
    fn replay_more(me: &mut Self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        if me.replay_batch()? {
            ctx.resume();
        } else {
            ctx.run_after(Duration::ZERO, Self::replay_more);
        }
        Ok(())
    }

    fn command(
        &mut self,
        ctx: &mut Context<Self>,
        command: E::Command,
        reply: Reply<Result<u64, CommandError<E::Rejection>>>,
    ) -> Result<(), ActorError> {
        let events = match self.aggregate.decide(&self.state, command) {
            Ok(events) => events,
            Err(rejection) => {
                let _ = reply.send(Err(CommandError::Rejected(rejection)));
                return Ok(());
            }
        };
        if events.is_empty() {
            let _ = reply.send(Ok(self.seq));
            return Ok(());
        }
        let mut payloads = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            match self.settings.events.encode(e) {
                Ok(p) => payloads.push(p),
                Err(error) => {
                    let _ = reply.send(Err(CommandError::Failed(PersistError::Codec {
                        stream: self.settings.stream.clone(),
                        seq: self.seq + 1 + i as u64,
                        error,
                    })));
                    return Ok(());
                }
            }
        }
        let (expected, token) = (self.seq, self.token);
        self.writes += 1;
        let n = self.writes;
        self.writing = Some(Writing {
            n,
            started: ctx.now(),
            events,
            reply,
        });
        ctx.suspend();
        if !self.watching {
            self.watching = true;
            let timeout = self.settings.write_timeout;
            ctx.run_after(timeout, move |me: &mut Self, ctx| {
                me.check_write(ctx, token)
            });
        }
        let then = move |me: &mut Self, ctx: &mut Context<Self>, outcome| {
            me.persisted(ctx, token, n, outcome)
        };
        if self.settings.persistence.appends_in_place() {
            // The journal's answer comes back as a continuation, like the
            // port's would: its callback only sends the reply. The deadline
            // is `check_write`'s, so a write costs no timer entry.
            let done = ctx.reply_to_self(None, then);
            self.settings.persistence.journal().append_with(
                &self.settings.stream,
                expected,
                payloads,
                Box::new(move |r| {
                    let _ = done.send(r);
                }),
            );
            return Ok(());
        }
        let port = self
            .port
            .clone()
            .ok_or("event-sourced actor has no journal port")?;
        let stream = self.settings.stream.clone();
        ctx.ask(
            &port,
            move |r| PortMsg::Append {
                stream,
                expected,
                events: payloads,
                reply: r,
            },
            self.settings.write_timeout,
            then,
        )?;
        Ok(())
    }

    /// The write deadline: one timer entry per write timeout, not per write.
    /// Armed when a write starts and none is armed; when it fires, the write
    /// in flight (if any) has failed if it started a write timeout ago or
    /// more, else the check is re-armed for that write's deadline. So a
    /// write unanswered for the write timeout fails the actor, as a timed
    /// ask would, while a stream of quick writes arms about one entry per
    /// timeout.
    fn check_write(&mut self, ctx: &mut Context<Self>, token: u64) -> Result<(), ActorError> {
        if token != self.token {
            // Armed by an instance that has since been replaced.
            return Ok(());
        }
        self.watching = false;
        let Some(started) = self.writing.as_ref().map(|w| w.started) else {
            return Ok(());
        };
        let deadline = started + self.settings.write_timeout;
        let now = ctx.now();
        if now < deadline {
            self.watching = true;
            ctx.run_after(deadline - now, move |me: &mut Self, ctx| {
                me.check_write(ctx, token)
            });
            return Ok(());
        }
        let n = self.writing.as_ref().map_or(0, |w| w.n);
        self.persisted(ctx, token, n, Err(AskError::Timeout));
        Ok(())
    }

    /// The continuation of a write: apply and answer, or fail the actor.
    fn persisted(
        &mut self,
        ctx: &mut Context<Self>,
        token: u64,
        n: u64,
        outcome: Result<Result<u64, JournalError>, AskError>,
    ) {
        if token != self.token {
            // Meant for an instance that has since been replaced; the replay
            // of the new one has seen whatever the write stored.
            return;
        }
        let Some(Writing { events, reply, .. }) = self.writing.take_if(|w| w.n == n) else {
            // Write `n` was settled already (it timed out, and this is its
            // late answer, or the other way round).
            return;
        };
        let error = match outcome {
            Ok(Ok(highest)) if highest == self.seq + events.len() as u64 => {
                for e in &events {
                    self.aggregate.apply(&mut self.state, e);
                }
                self.seq = highest;
                let _ = reply.send(Ok(highest));
                ctx.resume();
                if let Some(every) = self.settings.snapshot_every
                    && self.seq - self.last_snapshot >= every
                {
                    self.snapshot(ctx, None);
                }
                return;
            }
            Ok(Ok(highest)) => PersistError::Journal(JournalError::Conflict {
                stream: self.settings.stream.clone(),
                expected: self.seq,
                actual: highest,
            }),
            Ok(Err(e)) => PersistError::Journal(e),
            Err(e) => PersistError::Unanswered(e),
        };
        log::error!(
            "event-sourced actor {:?}: persisting failed ({error}); failing so it replays",
            self.settings.stream
        );
        let _ = reply.send(Err(CommandError::Failed(error.clone())));
        // A continuation cannot fail the actor itself; one queued in the
        // control lane can, and runs before any waiting command.
        ctx.run_after(Duration::ZERO, move |_, _| Err(Box::new(error)));
    }

    fn snapshot(
        &mut self,
        ctx: &mut Context<Self>,
        reply: Option<Reply<Result<u64, PersistError>>>,
    ) {
        let fail = |reply: Option<Reply<Result<u64, PersistError>>>, e: PersistError| {
            if let Some(r) = reply {
                let _ = r.send(Err(e));
            }
        };
        let (Some(codec), Some(port)) = (&self.settings.states, &self.port) else {
            return fail(
                reply,
                PersistError::Config {
                    setting: "snapshots",
                    reason: "no snapshot store or state codec",
                },
            );
        };
        let state = match codec.encode(&self.state) {
            Ok(s) => s,
            Err(error) => {
                log::warn!(
                    "state of {:?} does not encode: {error}",
                    self.settings.stream
                );
                return fail(
                    reply,
                    PersistError::Codec {
                        stream: self.settings.stream.clone(),
                        seq: self.seq,
                        error,
                    },
                );
            }
        };
        self.last_snapshot = self.seq;
        let msg = PortMsg::Snapshot {
            stream: self.settings.stream.clone(),
            seq: self.seq,
            state,
            reply,
        };
        if let Err(e) = ctx.send(port, msg)
            && let PortMsg::Snapshot { reply, .. } = e.into_inner()
        {
            fail(reply, PersistError::Spawn("journal port stopped".into()));
        }
    }
}

impl<E: EventSourced> Actor for EventSourcedActor<E> {
    type Msg = EventSourcedMsg<E>;

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let s = Arc::clone(&self.settings);
        // A restarted instance starts with no write in flight, whatever its
        // failed predecessor was waiting for: the suspension is not its own.
        ctx.resume();
        self.token = s.persistence.acquire(&s.stream, ctx.id())?;
        self.load_snapshot()?;
        let (journal, snapshots) = (
            Arc::clone(s.persistence.journal()),
            s.persistence.snapshots().cloned(),
        );
        self.port = Some(ctx.spawn_with(s.persistence.port(), move || Port {
            journal: Arc::clone(&journal),
            snapshots: snapshots.clone(),
        })?);
        if !self.replay_batch()? {
            ctx.suspend();
            ctx.run_after(Duration::ZERO, Self::replay_more);
        }
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: Self::Msg) -> Result<(), ActorError> {
        match msg {
            EventSourcedMsg::Command(command, reply) => self.command(ctx, command, reply)?,
            EventSourcedMsg::Inspect(f) => f(&self.state, self.seq),
            EventSourcedMsg::Snapshot(reply) => self.snapshot(ctx, Some(reply)),
        }
        Ok(())
    }
}

/// Settings for an [`EventSourcedActor`]; from [`Persistence::event_sourced`].
///
/// # Examples
///
/// ```
/// use playhouse::persist::{EventSourcedAddr, MemoryJournal, MemorySnapshotStore, Persistence};
/// use playhouse::{SpawnOptions, System};
/// use std::sync::Arc;
/// use std::time::Duration;
/// # struct Counter;
/// # impl playhouse::persist::EventSourced for Counter {
/// #     type Command = u64;
/// #     type Event = u64;
/// #     type State = u64;
/// #     type Rejection = String;
/// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
/// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
/// #     }
/// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
/// # }
/// # struct U64;
/// # impl playhouse::persist::Codec<u64> for U64 {
/// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
/// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
/// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
/// #     }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()))
///     .with_snapshots(Arc::new(MemorySnapshotStore::new()));
/// let counter = persistence
///     .event_sourced("counter-1", || Counter, U64)
///     .snapshots(U64)
///     .snapshot_every(100)
///     .write_timeout(Duration::from_secs(10))
///     .spawn_options(SpawnOptions::new().name("counter-1").mailbox_capacity(64))
///     .spawn(&system)?;
/// assert_eq!(counter.execute(1, Duration::from_secs(5)), Ok(1));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EventSourcedBuilder<E: EventSourced> {
    persistence: Persistence,
    stream: String,
    factory: Arc<dyn Fn() -> E + Send + Sync>,
    events: Arc<dyn Codec<E::Event>>,
    states: Option<Arc<dyn Codec<E::State>>>,
    snapshot_every: Option<u64>,
    write_timeout: Duration,
    options: SpawnOptions,
}

impl<E: EventSourced> fmt::Debug for EventSourcedBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSourcedBuilder")
            .field("stream", &self.stream)
            .field("snapshot_every", &self.snapshot_every)
            .finish()
    }
}

impl Persistence {
    /// Settings for an event-sourced actor writing `stream`, built by
    /// `factory` (again on every restart), its events encoded by `events`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{EventSourcedAddr, MemoryJournal, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// // One actor per aggregate instance, each on its own stream.
    /// let a = persistence.event_sourced("counter-a", || Counter, U64).spawn(&system)?;
    /// let b = persistence.event_sourced("counter-b", || Counter, U64).spawn(&system)?;
    /// a.execute(1, Duration::from_secs(5))?;
    /// assert_eq!(b.execute(1, Duration::from_secs(5))?, 1); // seqs count per stream
    /// assert_eq!(persistence.journal().highest_offset(), 2); // offsets are global
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_sourced<E: EventSourced>(
        &self,
        stream: impl Into<String>,
        factory: impl Fn() -> E + Send + Sync + 'static,
        events: impl Codec<E::Event>,
    ) -> EventSourcedBuilder<E> {
        EventSourcedBuilder {
            persistence: self.clone(),
            stream: stream.into(),
            factory: Arc::new(factory),
            events: Arc::new(events),
            states: None,
            snapshot_every: None,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            options: SpawnOptions::new(),
        }
    }
}

impl<E: EventSourced> EventSourcedBuilder<E> {
    /// Enables snapshots (needs a store in the [`Persistence`]), with the
    /// state encoded by `states`: on demand, and every
    /// [`EventSourcedBuilder::snapshot_every`] events if set.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{EventSourcedAddr, MemoryJournal, MemorySnapshotStore, Persistence, SnapshotStore};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let store = Arc::new(MemorySnapshotStore::new());
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new())).with_snapshots(store.clone());
    /// let counter = persistence.event_sourced("c", || Counter, U64).snapshots(U64).spawn(&system)?;
    /// counter.execute(5, T)?;
    /// assert_eq!(counter.snapshot(T)?, 1); // on demand
    /// assert_eq!(store.load("c")?[0].seq, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshots(mut self, states: impl Codec<E::State>) -> Self {
        self.states = Some(Arc::new(states));
        self
    }

    /// Snapshots once `n` events (at least 1) have been persisted since the
    /// last snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{EventSourcedAddr, MemoryJournal, MemorySnapshotStore, Persistence, SnapshotStore};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let store = Arc::new(MemorySnapshotStore::new());
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new())).with_snapshots(store.clone());
    /// let counter = persistence
    ///     .event_sourced("c", || Counter, U64)
    ///     .snapshots(U64)
    ///     .snapshot_every(2)
    ///     .spawn(&system)?;
    /// for n in 1..=3 {
    ///     counter.execute(n, T)?;
    /// }
    /// system.await_quiescent(T)?; // the save runs after the answer
    /// assert_eq!(store.load("c")?[0].seq, 2);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot_every(mut self, n: u64) -> Self {
        self.snapshot_every = Some(n);
        self
    }

    /// How long a write may go unanswered before the actor treats its
    /// outcome as unknown and fails (default [`DEFAULT_WRITE_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, PersistError, Persistence};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let builder = persistence.event_sourced("c", || Counter, U64).write_timeout(Duration::from_secs(2));
    /// assert!(builder.factory().is_ok());
    /// // Snapshots need a store: checked when built.
    /// let no_store = persistence.event_sourced("c", || Counter, U64).snapshots(U64);
    /// assert!(matches!(no_store.factory(), Err(PersistError::Config { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Spawn options (name, mailbox capacity: the bound on commands waiting
    /// behind a write).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{EventSourcedActor, MemoryJournal, Persistence};
    /// use playhouse::{SpawnOptions, System};
    /// use std::sync::Arc;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// persistence
    ///     .event_sourced("order-1", || Counter, U64)
    ///     .spawn_options(SpawnOptions::new().name("order-1"))
    ///     .spawn(&system)?;
    /// assert!(system.lookup::<EventSourcedActor<Counter>>("order-1").is_some());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_options(mut self, options: SpawnOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks the settings and returns the actor's factory, for a
    /// supervisor's [`crate::ChildSpec`]; every instance replays on start.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{
    ///     Codec, CodecError, EventSourced, EventSourcedActor, EventSourcedAddr, MemoryJournal,
    ///     Persistence,
    /// };
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// struct Tally;
    /// impl EventSourced for Tally {
    ///     type Command = ();
    ///     type Event = ();
    ///     type State = u32;
    ///     type Rejection = ();
    ///     fn decide(&self, _: &u32, _: ()) -> Result<Vec<()>, ()> { Ok(vec![()]) }
    ///     fn apply(&self, n: &mut u32, _: &()) { *n += 1; }
    /// }
    /// struct Unit;
    /// impl Codec<()> for Unit {
    ///     fn encode(&self, _: &()) -> Result<Vec<u8>, CodecError> { Ok(vec![0]) }
    ///     fn decode(&self, _: &[u8]) -> Result<(), CodecError> { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let factory = persistence.event_sourced("tally", || Tally, Unit).factory()?;
    /// let sup = Supervisor::builder()
    ///     .child(ChildSpec::new("tally", factory))
    ///     .name("tallies")
    ///     .spawn(&system)?;
    /// // The supervisor's static children have started when spawn returns.
    /// let tally = sup.child::<EventSourcedActor<Tally>>("tally").expect("started");
    /// assert_eq!(tally.execute((), Duration::from_secs(5)), Ok(1));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`PersistError::EmptyStreamId`]; [`PersistError::Config`] for a zero
    /// snapshot interval, or snapshots without a store or state codec.
    pub fn factory(
        &self,
    ) -> Result<impl Fn() -> EventSourcedActor<E> + Send + Sync + Clone + 'static, PersistError>
    {
        if self.stream.is_empty() {
            return Err(PersistError::EmptyStreamId);
        }
        if self.snapshot_every == Some(0) {
            return Err(PersistError::Config {
                setting: "snapshot_every",
                reason: "must be at least 1",
            });
        }
        if self.snapshot_every.is_some() && self.states.is_none() {
            return Err(PersistError::Config {
                setting: "snapshot_every",
                reason: "needs a state codec (EventSourcedBuilder::snapshots)",
            });
        }
        if self.states.is_some() && self.persistence.snapshots().is_none() {
            return Err(PersistError::Config {
                setting: "snapshots",
                reason: "the persistence has no snapshot store",
            });
        }
        let settings = Arc::new(Settings {
            persistence: self.persistence.clone(),
            stream: self.stream.clone(),
            events: Arc::clone(&self.events),
            states: self.states.clone(),
            snapshot_every: self.snapshot_every,
            write_timeout: self.write_timeout,
        });
        let factory = Arc::clone(&self.factory);
        Ok(move || EventSourcedActor {
            settings: Arc::clone(&settings),
            aggregate: factory(),
            state: E::State::default(),
            seq: 0,
            last_snapshot: 0,
            port: None,
            token: 0,
            writing: None,
            writes: 0,
            watching: false,
        })
    }

    /// Spawns the actor on `system`. It replays before its first command.
    ///
    /// # Errors
    /// As [`EventSourcedBuilder::factory`]; [`PersistError::StreamInUse`] if
    /// a live actor writes the stream; [`PersistError::Spawn`]. (Two spawns
    /// racing for one stream both pass this check; the loser fails in
    /// `started` with `StreamInUse`.)
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, PersistError, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let err = persistence.event_sourced("", || Counter, U64).spawn(&system).unwrap_err();
    /// assert_eq!(err, PersistError::EmptyStreamId);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(self, system: &System) -> Result<Addr<EventSourcedActor<E>>, PersistError> {
        let factory = self.factory()?;
        if self.persistence.is_leased(&self.stream) {
            return Err(PersistError::StreamInUse {
                stream: self.stream,
            });
        }
        system
            .spawn_with(self.options, factory)
            .map_err(|e| PersistError::Spawn(e.to_string()))
    }
}

/// Asks for an [`EventSourcedActor`]'s address, from outside the pool.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{EventSourcedAddr, MemoryJournal, Persistence};
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # struct Counter;
/// # impl playhouse::persist::EventSourced for Counter {
/// #     type Command = u64;
/// #     type Event = u64;
/// #     type State = u64;
/// #     type Rejection = String;
/// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
/// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
/// #     }
/// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
/// # }
/// # struct U64;
/// # impl playhouse::persist::Codec<u64> for U64 {
/// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
/// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
/// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
/// #     }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let counter = persistence.event_sourced("c", || Counter, U64).spawn(&system)?;
/// let worker = std::thread::spawn(move || counter.execute(2, Duration::from_secs(5)));
/// assert_eq!(worker.join().unwrap(), Ok(1));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait EventSourcedAddr<E: EventSourced> {
    /// Carries out `command`; the stream's seq after its events.
    ///
    /// # Errors
    /// The rejection, a persistence failure, or an unanswered ask.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{CommandError, EventSourcedAddr, MemoryJournal, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let counter = persistence.event_sourced("c", || Counter, U64).spawn(&system)?;
    /// assert_eq!(counter.execute(10, T), Ok(1));
    /// assert_eq!(counter.execute(0, T), Err(CommandError::Rejected("nothing to add".to_string())));
    /// assert_eq!(counter.execute(5, T), Ok(2)); // a rejection persisted nothing
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn execute(
        &self,
        command: E::Command,
        timeout: Duration,
    ) -> Result<u64, CommandError<E::Rejection>>;

    /// Runs `f` on the current state and seq.
    ///
    /// # Errors
    /// An unanswered ask.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{EventSourcedAddr, MemoryJournal, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let counter = persistence.event_sourced("c", || Counter, U64).spawn(&system)?;
    /// counter.execute(3, T)?;
    /// counter.execute(4, T)?;
    /// assert_eq!(counter.inspect(|total, seq| (*total, seq), T)?, (7, 2));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn inspect<T: Send + 'static>(
        &self,
        f: impl FnOnce(&E::State, u64) -> T + Send + 'static,
        timeout: Duration,
    ) -> Result<T, AskError>;

    /// Snapshots now; the seq of the snapshot once saved.
    ///
    /// # Errors
    /// No snapshot store, a failed save, or an unanswered ask.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{EventSourcedAddr, MemoryJournal, PersistError, Persistence};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # struct Counter;
    /// # impl playhouse::persist::EventSourced for Counter {
    /// #     type Command = u64;
    /// #     type Event = u64;
    /// #     type State = u64;
    /// #     type Rejection = String;
    /// #     fn decide(&self, _: &u64, add: u64) -> Result<Vec<u64>, String> {
    /// #         if add == 0 { Err("nothing to add".into()) } else { Ok(vec![add]) }
    /// #     }
    /// #     fn apply(&self, total: &mut u64, add: &u64) { *total += add; }
    /// # }
    /// # struct U64;
    /// # impl playhouse::persist::Codec<u64> for U64 {
    /// #     fn encode(&self, n: &u64) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(n.to_le_bytes().to_vec()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<u64, playhouse::persist::CodecError> {
    /// #         Ok(u64::from_le_bytes(b.try_into().map_err(playhouse::persist::CodecError::new)?))
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let counter = persistence.event_sourced("c", || Counter, U64).spawn(&system)?;
    /// // No snapshot store in this persistence: refused.
    /// assert!(matches!(counter.snapshot(Duration::from_secs(5)), Err(PersistError::Config { .. })));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn snapshot(&self, timeout: Duration) -> Result<u64, PersistError>;
}

impl<E: EventSourced> EventSourcedAddr<E> for Addr<EventSourcedActor<E>> {
    fn execute(
        &self,
        command: E::Command,
        timeout: Duration,
    ) -> Result<u64, CommandError<E::Rejection>> {
        self.ask(|r| EventSourcedMsg::Command(command, r), timeout)
            .map_err(CommandError::Ask)?
    }

    fn inspect<T: Send + 'static>(
        &self,
        f: impl FnOnce(&E::State, u64) -> T + Send + 'static,
        timeout: Duration,
    ) -> Result<T, AskError> {
        self.ask(
            |r: Reply<T>| {
                EventSourcedMsg::Inspect(Box::new(move |s, seq| {
                    let _ = r.send(f(s, seq));
                }))
            },
            timeout,
        )
    }

    fn snapshot(&self, timeout: Duration) -> Result<u64, PersistError> {
        self.ask(EventSourcedMsg::Snapshot, timeout)
            .map_err(PersistError::Unanswered)?
    }
}
