//! [`Context`]: what a running actor can do besides changing its own state.

use crate::actor::Actor;
use crate::actor::addr::{Addr, Target};
use crate::actor::cell::{Cell, CellConfig, Continuation, Control, SendFrom, Start};
use crate::actor::spawn::SpawnOptions;
use crate::error::{ActorError, AskError, BuildError, SendError, SpawnError};
use crate::exit::{ExitReason, Terminated};
use crate::mailbox::{SendWaker, Sent};
use crate::quiet::Credit;
use crate::reply::{Reply, Slot};
use crate::runtime::{AnyCell, Command, DeadLetterReason, Exit, StopReason};
use crate::sync::Arc;
use crate::timer::TimerHandle;
use std::any::Any;
use std::fmt;
use std::mem::ManuallyDrop;
use std::time::Duration;

/// The state of a context that lives across turns (only the running worker
/// touches it). It is moved into the turn's [`Context`] and back every turn, so
/// what only stopping, supervision, watching and timers need lives in a box
/// allocated on first use.
pub(crate) struct CtxState<A: Actor> {
    /// Sends parked on full mailboxes; while non-zero the actor takes no user
    /// messages (it is suspended).
    pub(crate) parked_sends: usize,
    /// Suspended by `Context::suspend` until `Context::resume`.
    pub(crate) suspended: bool,
    pub(crate) stop_requested: bool,
    /// An instance has started and has not ended.
    pub(crate) live: bool,
    pub(crate) dead: bool,
    /// The first instance has not been started yet (the first turn does it,
    /// without a control item, so spawning allocates no control lane).
    pub(crate) unstarted: bool,
    /// A send of the running handler through this context parked: its
    /// later sends look for the turn's held sends (`actor/cell/stage.rs`).
    /// Only a turn's context sets it, and the turn clears it after each
    /// handler, so it is false whenever the state is put back.
    pub(crate) holding: bool,
    rel: Option<Box<Relations>>,
    _actor: std::marker::PhantomData<fn() -> A>,
}

/// The registry slot of an actor not registered yet.
pub(crate) const UNREGISTERED: u32 = u32::MAX;

/// What builds an actor's instances.
pub(crate) type Factory<A> = Arc<dyn Fn() -> A + Send + Sync>;

/// The rarely used part of a context's state.
#[derive(Default)]
pub(crate) struct Relations {
    /// Stopping for good, waiting for the children.
    pub(crate) stopping: Option<StopReason>,
    /// Halting for a restart, waiting for the children.
    pub(crate) halting: Option<Exit>,
    /// Halted: the instance is gone, the supervisor has not decided yet.
    pub(crate) halted: Option<Exit>,
    /// Live children, in spawn order.
    pub(crate) children: Vec<Arc<dyn AnyCell>>,
    /// The child asked to stop in an ordered stop, if one is.
    pub(crate) stopping_child: Option<u64>,
    /// Actors this one watches (so it can unregister when it stops).
    pub(crate) watching: Vec<Arc<dyn AnyCell>>,
    /// Periodic timers, cancelled when the instance ends.
    pub(crate) timers: Vec<TimerHandle>,
    /// The panic message of a factory the spawner ran, for the first turn to
    /// fail the actor with.
    pub(crate) build_failed: Option<String>,
    /// What the actor keeps across restarts (`Context::kept_mut`), one value
    /// per type: kept by failures and halts, dropped when the actor stops
    /// for good.
    pub(crate) carry: Vec<Box<dyn Any + Send>>,
    /// The reason given to `Context::exit`, for the end of the handler.
    pub(crate) exit: Option<ExitReason>,
}

impl<A: Actor> CtxState<A> {
    pub(crate) fn new() -> Self {
        CtxState {
            unstarted: true,
            ..CtxState::default()
        }
    }

    /// Forgets the watched actors that have stopped for good. Their notices
    /// came, or will come, as continuations, which only a live instance runs:
    /// one that came while no instance was live was dropped, and without this
    /// its entry would make every later `watch` of that actor a no-op. Called
    /// as an instance starts, so a new instance's `watch` of an actor that
    /// stopped while it was down gets its notice at once.
    pub(crate) fn forget_dead_watched(&mut self) {
        if let Some(rel) = self.rel.as_mut() {
            rel.watching.retain(|w| w.is_alive());
        }
    }

    /// The rarely used state, allocated on first use.
    pub(crate) fn rel(&mut self) -> &mut Relations {
        self.rel.get_or_insert_with(Box::default)
    }

    pub(crate) fn stopping(&self) -> Option<&StopReason> {
        self.rel.as_ref().and_then(|r| r.stopping.as_ref())
    }

    pub(crate) fn halted(&self) -> Option<&Exit> {
        self.rel.as_ref().and_then(|r| r.halted.as_ref())
    }

    /// Stopping or halting: waiting for the children before going on.
    pub(crate) fn winding_down(&self) -> bool {
        self.rel
            .as_ref()
            .is_some_and(|r| r.stopping.is_some() || r.halting.is_some())
    }

    pub(crate) fn children(&self) -> &[Arc<dyn AnyCell>] {
        self.rel.as_ref().map_or(&[], |r| &r.children)
    }

    pub(crate) fn watching(&self) -> &[Arc<dyn AnyCell>] {
        self.rel.as_ref().map_or(&[], |r| &r.watching)
    }

    /// The reason given to `Context::exit`, if one was.
    pub(crate) fn take_exit(&mut self) -> Option<ExitReason> {
        self.rel.as_mut()?.exit.take()
    }

    /// Nothing here needs a drop: no relations (what `CtxState::default`
    /// holds).
    pub(crate) fn holds_nothing(&self) -> bool {
        self.rel.is_none()
    }

    /// Moves the state out (for a turn's context), leaving behind what
    /// needs no drop: the relations are taken, the plain fields copied
    /// (their stale values left in `self` are never read: the context holds
    /// the state until `put_back`). Field by field: `std::mem::take` may
    /// build a whole default on the stack and copy it over, with wide loads
    /// across the narrow stores just made, which the processor cannot
    /// forward: a stall on every turn.
    #[inline]
    pub(crate) fn take_out(&mut self) -> Self {
        CtxState {
            parked_sends: self.parked_sends,
            suspended: self.suspended,
            stop_requested: self.stop_requested,
            live: self.live,
            dead: self.dead,
            unstarted: self.unstarted,
            holding: false,
            rel: self.rel.take(),
            _actor: std::marker::PhantomData,
        }
    }

    /// Moves a turn's state back into `self`, which holds what `take_out`
    /// left, leaving no relations in `from`: field by field, as `take_out`,
    /// and without a drop (the relations are swapped with the empty ones).
    #[inline]
    pub(crate) fn put_back(&mut self, from: &mut Self) {
        debug_assert!(self.holds_nothing(), "put back over a live state");
        debug_assert!(!from.holding, "a handler's held sends were not pushed");
        self.parked_sends = from.parked_sends;
        self.suspended = from.suspended;
        self.stop_requested = from.stop_requested;
        self.live = from.live;
        self.dead = from.dead;
        self.unstarted = from.unstarted;
        std::mem::swap(&mut self.rel, &mut from.rel);
    }

    /// Whether the actor takes user messages now.
    pub(crate) fn accepts_user(&self) -> bool {
        self.live && self.parked_sends == 0 && !self.suspended && !self.winding_down()
    }
}

impl<A: Actor> Default for CtxState<A> {
    fn default() -> Self {
        CtxState {
            parked_sends: 0,
            suspended: false,
            stop_requested: false,
            live: false,
            dead: false,
            unstarted: false,
            holding: false,
            rel: None,
            _actor: std::marker::PhantomData,
        }
    }
}

/// Whether an actor may go on producing, from [`Context::send_flow`].
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Addr, Context, Flow, SpawnOptions, System};
/// use std::time::Duration;
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// /// Sends `0..100`, stopping whenever the sink is full and going on later.
/// struct Producer { sink: Addr<Sink>, next: u32, yields: u32 }
/// impl Actor for Producer {
///     type Msg = ();
///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         while self.next < 100 {
///             let flow = ctx.send_flow(&self.sink, self.next)?;
///             self.next += 1;
///             if flow == Flow::Suspended {
///                 self.yields += 1;
///                 ctx.send(&ctx.addr(), ())?; // resumes once the sink has drained
///                 break;
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let sink = system.spawn_with(SpawnOptions::new().mailbox_capacity(4), || Sink)?;
/// let producer = system.spawn(move || Producer { sink: sink.clone(), next: 0, yields: 0 })?;
/// producer.tell(())?;
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert!(system.metrics().messages_handled >= 101); // 100 numbers and the producer's turns
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The message is in the target's mailbox and nothing this actor sent is
    /// parked: go on.
    Continue,
    /// A send of this actor is parked on a full mailbox and the actor is
    /// suspended: stop producing and go on in a later turn.
    Suspended,
}

/// What a running actor can do besides changing its own state: send without
/// blocking its worker, ask with a continuation, schedule messages to itself,
/// spawn children, and stop.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// enum Msg { Countdown(u32), Ticks(Reply<u32>) }
///
/// /// Counts down by sending itself the next step.
/// struct Countdown { ticks: u32 }
/// impl Actor for Countdown {
///     type Msg = Msg;
///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Countdown(0) => {}
///             Msg::Countdown(n) => {
///                 self.ticks += 1;
///                 let me = ctx.addr();
///                 if ctx.send(&me, Msg::Countdown(n - 1)).is_err() {
///                     ctx.stop(); // only when stopping
///                 }
///             }
///             Msg::Ticks(r) => { let _ = r.send(self.ticks); }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let countdown = system.spawn(|| Countdown { ticks: 0 })?;
/// countdown.tell(Msg::Countdown(5))?;
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert_eq!(countdown.ask(Msg::Ticks, Duration::from_secs(5))?, 5);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Context<A: Actor> {
    /// The running actor's cell, borrowed from the turn without a reference
    /// count of its own (see [`Context::borrowing`]): never dropped.
    cell: ManuallyDrop<Arc<Cell<A>>>,
    pub(crate) st: CtxState<A>,
    /// In-flight units counted ahead for this turn's sends; the turn gives
    /// back what is left.
    pub(crate) credit: Credit,
}

impl<A: Actor> Context<A> {
    /// Whether this actor was spawned [`SpawnOptions::supervised`]: its
    /// exits go to its parent, which may restart it (only such an actor ever
    /// needs what it keeps across restarts).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Probe;
    /// impl Actor for Probe {
    ///     type Msg = Reply<bool>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, reply: Reply<bool>) -> Result<(), ActorError> {
    ///         let _ = reply.send(ctx.is_supervised());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let top = system.spawn(|| Probe)?;
    /// // No supervisor restarts a top-level actor.
    /// assert!(!top.ask(|r| r, Duration::from_secs(5))?);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_supervised(&self) -> bool {
        self.cell.supervised
    }

    /// The value of type `T` this actor keeps across restarts, made with
    /// `T::default()` on first use.
    ///
    /// A supervised actor's instance is dropped when it fails or is halted,
    /// and its parent may build a fresh one; what the old instance put here
    /// is what the new one finds (an event bus keeps its subscriptions so,
    /// since its subscribers would never make them again). It is dropped
    /// when the actor stops for good. An actor keeps one value per type.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// /// How many messages this actor saw over all its instances.
    /// #[derive(Default)]
    /// struct Seen(u64);
    ///
    /// enum Msg { Fail, Count(Reply<u64>) }
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         ctx.kept_mut::<Seen>().0 += 1;
    ///         match msg {
    ///             Msg::Fail => Err("restart me".into()),
    ///             Msg::Count(r) => { let _ = r.send(ctx.kept::<Seen>().map_or(0, |s| s.0)); Ok(()) }
    ///         }
    ///     }
    /// }
    ///
    /// # use playhouse::{ChildEvent};
    /// struct Parent;
    /// impl Actor for Parent {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.spawn_with(SpawnOptions::new().name("worker").supervised(), || Worker)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    ///     fn on_child(&mut self, ctx: &mut Context<Self>, e: ChildEvent) -> Result<(), ActorError> {
    ///         if let ChildEvent::Exited { id, .. } = e { ctx.restart_child(id); }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// system.spawn(|| Parent)?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let worker = system.lookup::<Worker>("worker").unwrap();
    /// worker.tell(Msg::Fail)?;
    /// assert_eq!(worker.ask(Msg::Count, Duration::from_secs(5))?, 2);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kept_mut<T: Default + Send + 'static>(&mut self) -> &mut T {
        let carry = &mut self.st.rel().carry;
        let i = match carry.iter().position(|b| b.is::<T>()) {
            Some(i) => i,
            None => {
                carry.push(Box::new(T::default()));
                carry.len() - 1
            }
        };
        carry[i].downcast_mut::<T>().expect("found by its type")
    }

    /// The value of type `T` this actor keeps across restarts, if it made one
    /// (see [`Context::kept_mut`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// #[derive(Default)]
    /// struct Seen(u32);
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = Option<Reply<u32>>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Option<Reply<u32>>) -> Result<(), ActorError> {
    ///         match msg {
    ///             None => ctx.kept_mut::<Seen>().0 += 1,
    ///             Some(r) => { let _ = r.send(ctx.kept::<Seen>().map_or(0, |s| s.0)); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let worker = system.spawn(|| Worker)?;
    /// let t = Duration::from_secs(5);
    /// assert_eq!(worker.ask(Some, t)?, 0); // nothing kept yet
    /// worker.tell(None)?;
    /// worker.tell(None)?;
    /// assert_eq!(worker.ask(Some, t)?, 2);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kept<T: Send + 'static>(&self) -> Option<&T> {
        self.st
            .rel
            .as_ref()?
            .carry
            .iter()
            .find_map(|b| b.downcast_ref::<T>())
    }

    /// Ends this instance once the current handler returns, with `reason`.
    ///
    /// [`ExitReason::Normal`] and [`ExitReason::Shutdown`] are
    /// [`Context::stop`]. A failing reason ([`ExitReason::Failed`],
    /// [`ExitReason::GaveUp`]) is a failure the actor chose: it ends as a
    /// failed handler would (a supervised actor reports the reason to its
    /// parent, any other stops and its watchers see the reason), logged at
    /// debug only, since the actor has said why. A supervisor gives up so.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, ExitReason, System};
    /// use std::time::Duration;
    ///
    /// /// Gives up after three bad inputs in a row.
    /// struct Patient(u32);
    /// impl Actor for Patient {
    ///     type Msg = bool;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, good: bool) -> Result<(), ActorError> {
    ///         self.0 = if good { 0 } else { self.0 + 1 };
    ///         if self.0 == 3 {
    ///             ctx.exit(ExitReason::GaveUp);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let p = system.spawn(|| Patient(0))?;
    /// for _ in 0..3 {
    ///     p.tell(false)?;
    /// }
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert!(!p.is_alive());
    /// assert_eq!(system.metrics().failures, 0, "a chosen exit is not a handler failure");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exit(&mut self, reason: ExitReason) {
        self.st.stop_requested = true;
        self.st.rel().exit = Some(reason);
    }

    /// The live child with id `id`, if this actor has one.
    fn child(&self, id: u64) -> Option<Arc<dyn AnyCell>> {
        self.st.children().iter().find(|c| c.id() == id).cloned()
    }

    /// Starts a fresh instance of the supervised child `id` that has exited
    /// (see [`crate::ChildEvent::Exited`]), built by the factory it was
    /// spawned with. It keeps its mailbox and address. Returns whether `id`
    /// is a supervised child of this actor that has not stopped for good; a
    /// child that is not waiting for a start ignores it.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, ChildEvent, Context, Reply, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Flaky;
    /// impl Actor for Flaky {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         Err("flaky".into())
    ///     }
    /// }
    ///
    /// /// Restarts its child twice, then stops it for good.
    /// struct Parent { restarts: u32 }
    /// impl Actor for Parent {
    ///     type Msg = Reply<u32>;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.spawn_with(SpawnOptions::new().name("flaky").supervised(), || Flaky)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, r: Reply<u32>) -> Result<(), ActorError> {
    ///         let _ = r.send(self.restarts);
    ///         Ok(())
    ///     }
    ///     fn on_child(&mut self, ctx: &mut Context<Self>, event: ChildEvent) -> Result<(), ActorError> {
    ///         if let ChildEvent::Exited { id, .. } = event {
    ///             if self.restarts < 2 {
    ///                 self.restarts += 1;
    ///                 assert!(ctx.restart_child(id));
    ///             } else {
    ///                 ctx.stop_child(id);
    ///             }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let parent = system.spawn(|| Parent { restarts: 0 })?;
    /// system.await_quiescent(t)?;
    /// let flaky = system.lookup::<Flaky>("flaky").expect("spawned by its parent");
    /// for _ in 0..3 {
    ///     flaky.tell(())?; // each fails; the messages wait while it restarts
    /// }
    /// system.await_quiescent(t)?;
    /// assert_eq!(parent.ask(|r| r, t)?, 2);
    /// assert_eq!(system.metrics().restarts, 2);
    /// assert!(!flaky.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restart_child(&mut self, id: u64) -> bool {
        self.command_supervised(id, Command::Start)
    }

    /// Ends the running instance of the supervised child `id` gracefully
    /// (its children stop, its `stopped` hook runs) without stopping it for
    /// good: it then reports [`crate::ChildEvent::Exited`] with
    /// [`ExitReason::Shutdown`] and waits for [`Context::restart_child`] or
    /// [`Context::stop_child`], as after a failure. Returns whether `id` is a
    /// supervised child of this actor that has not stopped for good (only
    /// such a child can be halted).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, ChildEvent, Context, ExitReason, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Child;
    /// impl Actor for Child {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// /// Halts its child on request and starts a fresh instance of it.
    /// struct Parent { child: u64 }
    /// impl Actor for Parent {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         self.child = ctx.spawn_with(SpawnOptions::new().supervised(), || Child)?.id();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.halt_child(self.child);
    ///         Ok(())
    ///     }
    ///     fn on_child(&mut self, ctx: &mut Context<Self>, event: ChildEvent) -> Result<(), ActorError> {
    ///         if let ChildEvent::Exited { id, reason: ExitReason::Shutdown } = event {
    ///             ctx.restart_child(id);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let parent = system.spawn(|| Parent { child: 0 })?;
    /// parent.tell(())?;
    /// system.await_quiescent(t)?;
    /// assert_eq!(system.metrics().restarts, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn halt_child(&mut self, id: u64) -> bool {
        self.command_supervised(id, Command::Halt)
    }

    /// Stops the child `id` for good: its queued messages go to dead
    /// letters, its children stop, and this actor gets
    /// [`crate::ChildEvent::Stopped`]. A child waiting after an exit stops
    /// with that exit as its reason. Returns whether `id` is a child of this
    /// actor that has not stopped for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// struct Parent { worker: Option<Addr<Worker>> }
    /// impl Actor for Parent {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         self.worker = Some(ctx.spawn_with(SpawnOptions::new().name("worker"), || Worker)?);
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         if let Some(worker) = self.worker.take() {
    ///             ctx.stop_child(worker.id());
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let parent = system.spawn(|| Parent { worker: None })?;
    /// system.await_quiescent(t)?;
    /// let worker = system.lookup::<Worker>("worker").expect("spawned by its parent");
    /// parent.tell(())?;
    /// system.await_quiescent(t)?;
    /// assert!(!worker.is_alive());
    /// assert!(parent.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop_child(&mut self, id: u64) -> bool {
        self.command_child(id, Command::Stop(StopReason::Decided))
    }

    fn command_supervised(&mut self, id: u64, command: Command) -> bool {
        match self.child(id) {
            Some(child) if child.is_supervised() => {
                child.command(command);
                true
            }
            _ => false,
        }
    }

    fn command_child(&mut self, id: u64, command: Command) -> bool {
        match self.child(id) {
            Some(child) => {
                child.command(command);
                true
            }
            None => false,
        }
    }

    /// A context for a turn of `cell`, sharing the turn's reference to it
    /// instead of taking one (two atomic operations per turn saved).
    ///
    /// # Safety
    ///
    /// The context must be dropped while `cell` is still alive. The turn that
    /// creates it drops it before returning; users only ever get `&mut
    /// Context` and cannot make another to swap it out.
    #[allow(unsafe_code)]
    pub(crate) unsafe fn borrowing(cell: &Arc<Cell<A>>, st: CtxState<A>) -> Self {
        // SAFETY: the pointer comes from a live `Arc`, so `from_raw` rebuilds
        // an `Arc` to the same allocation; `ManuallyDrop` never runs its drop,
        // so the count it did not take is never given back, and the caller
        // keeps `cell` (and with it the allocation) alive for as long as the
        // context lives.
        let cell = ManuallyDrop::new(unsafe { Arc::from_raw(Arc::as_ptr(cell)) });
        Context {
            cell,
            st,
            credit: Credit::default(),
        }
    }

    /// Counts a send of this context that parked: the actor is suspended,
    /// and the handler's later sends to the same target are held.
    #[inline]
    fn count(&mut self, sent: &Sent) {
        if let Sent::Parked = sent {
            self.st.parked_sends += 1;
            self.st.holding = true;
        }
    }

    /// This actor as the sender of a message from this turn.
    fn from<'a>(&'a self, waker: &'a dyn Fn() -> Arc<dyn SendWaker>) -> SendFrom<'a> {
        SendFrom {
            id: self.cell.id,
            waker,
            quiet: self.cell.shared.quiet(),
            credit: &self.credit,
            // Only once a send of this handler parked: until then no send
            // of it can be held, and none pays for the lookup.
            stage: if self.st.holding {
                crate::actor::cell::current::stage_of(self.cell.id)
            } else {
                None
            },
            begins: true,
        }
    }

    /// This actor's own address.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Me;
    /// impl Actor for Me {
    ///     type Msg = Reply<Addr<Me>>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, reply: Reply<Addr<Me>>) -> Result<(), ActorError> {
    ///         let _ = reply.send(ctx.addr());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let me = system.spawn(|| Me)?;
    /// assert_eq!(me.ask(|r| r, Duration::from_secs(5))?, me);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn addr(&self) -> Addr<A> {
        Addr::from_cell(Arc::clone(&self.cell))
    }

    /// This actor's name, if it was given one.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Named;
    /// impl Actor for Named {
    ///     type Msg = Reply<Option<String>>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, reply: Self::Msg) -> Result<(), ActorError> {
    ///         let _ = reply.send(ctx.name().map(String::from));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let db = system.spawn_with(SpawnOptions::new().name("db"), || Named)?;
    /// assert_eq!(db.ask(|r| r, Duration::from_secs(5))?.as_deref(), Some("db"));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.cell.name()
    }

    /// This actor's id, unique within its system.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Who;
    /// impl Actor for Who {
    ///     type Msg = Reply<u64>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, reply: Reply<u64>) -> Result<(), ActorError> {
    ///         let _ = reply.send(ctx.id());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let who = system.spawn(|| Who)?;
    /// assert_eq!(who.ask(|r| r, Duration::from_secs(5))?, who.id());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.cell.id
    }

    /// The current time on the system's clock: the operating system's, or the
    /// [`ManualClock`](crate::testkit::ManualClock) the system was built with.
    /// Timed decisions (windows, rate limits, deadlines such as
    /// [`Reply::deadline`]) read it, so they follow manual time in tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::{Duration, Instant};
    ///
    /// struct Stopwatch(Option<Instant>);
    /// impl Actor for Stopwatch {
    ///     type Msg = Reply<Duration>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, r: Reply<Duration>) -> Result<(), ActorError> {
    ///         let start = *self.0.get_or_insert(ctx.now());
    ///         let _ = r.send(ctx.now() - start);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let watch = system.spawn(|| Stopwatch(None))?;
    /// assert_eq!(watch.ask(|r| r, Duration::from_secs(5))?, Duration::ZERO);
    /// clock.advance(Duration::from_secs(90));
    /// assert_eq!(watch.ask(|r| r, Duration::from_secs(5))?, Duration::from_secs(90));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn now(&self) -> std::time::Instant {
        self.cell.shared.timer.now()
    }

    /// Stops this actor once the current message is handled: its children stop
    /// first, queued messages go to dead letters, then `stopped` runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, System};
    /// use std::time::Duration;
    ///
    /// /// Handles one message, then stops.
    /// struct Once;
    /// impl Actor for Once {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.stop();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let once = system.spawn(|| Once)?;
    /// once.tell(())?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert!(!once.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop(&mut self) {
        self.st.stop_requested = true;
    }

    /// Whether this actor is suspended: a send it made is waiting for room in a
    /// full mailbox (see [`Context::send`]), or it called [`Context::suspend`].
    /// A suspended actor takes no user messages; they wait in its mailbox, so
    /// its senders feel backpressure.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Takes no messages: whatever is sent stays queued.
    /// struct Paused;
    /// impl Actor for Paused {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.suspend();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    /// use playhouse::Addr;
    /// use std::sync::mpsc;
    ///
    /// /// Sends two numbers to a target that holds one, and reports whether it is suspended.
    /// struct Producer { to: Addr<Paused>, report: mpsc::Sender<bool> }
    /// impl Actor for Producer {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.send(&self.to, 1)?;
    ///         ctx.send(&self.to, 2)?; // parked: the mailbox is full
    ///         let _ = self.report.send(ctx.is_suspended());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let paused = system.spawn_with(SpawnOptions::new().mailbox_capacity(1), || Paused)?;
    /// let (report, suspended) = mpsc::channel();
    /// let to = paused.clone();
    /// let producer = system.spawn(move || Producer { to: to.clone(), report: report.clone() })?;
    /// producer.tell(())?;
    /// assert!(suspended.recv()?);
    /// paused.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_suspended(&self) -> bool {
        self.st.parked_sends > 0 || self.st.suspended
    }

    /// Reports a message this actor chose not to deliver to `to` as a dead
    /// letter: counted in [`crate::SystemMetrics::dead_letters`], logged at
    /// debug, and passed to the system's dead-letter hook. For patterns that
    /// shed load by policy; the message itself is the caller's to drop.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, DeadLetterReason, Recipient, System};
    /// use std::time::Duration;
    ///
    /// struct Sink;
    /// impl Actor for Sink {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// /// Forwards the first two numbers and sheds the rest.
    /// struct Limiter { out: Recipient<u32>, sent: u32 }
    /// impl Actor for Limiter {
    ///     type Msg = u32;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    ///         if self.sent < 2 {
    ///             self.sent += 1;
    ///             ctx.send(&self.out, n)?;
    ///         } else {
    ///             ctx.dead_letter::<u32, _>(&self.out, DeadLetterReason::Shed);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let sink = system.spawn(|| Sink)?.recipient();
    /// let limiter = system.spawn(move || Limiter { out: sink.clone(), sent: 0 })?;
    /// for n in 0..3 {
    ///     limiter.tell(n)?;
    /// }
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert_eq!(system.metrics().dead_letters, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dead_letter<M: 'static, T: Target<M>>(&self, to: &T, reason: DeadLetterReason) {
        self.cell
            .shared
            .dead_letter::<M>(&to.cell().label(), reason);
    }

    /// Takes no more user messages until [`Context::resume`]; control items
    /// (stop requests, ask answers, watch notices, [`Context::run_after`]
    /// continuations) still run. For an actor that must wait for something
    /// outside the pool (a full channel, a slow device) without blocking its
    /// worker: suspend, then retry from a `run_after` continuation. The
    /// suspension ends with the instance: a restarted instance starts taking
    /// messages.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Msg { Pause, Work, Done(Reply<u32>) }
    ///
    /// /// Pauses on request and resumes from a continuation.
    /// struct Worker { done: u32 }
    /// impl Actor for Worker {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Pause => {
    ///                 ctx.suspend(); // user messages wait in the mailbox from now on
    ///                 ctx.run_after(Duration::ZERO, |_, ctx| {
    ///                     ctx.resume();
    ///                     Ok(())
    ///                 });
    ///             }
    ///             Msg::Work => self.done += 1,
    ///             Msg::Done(r) => { let _ = r.send(self.done); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let worker = system.spawn(|| Worker { done: 0 })?;
    /// worker.tell(Msg::Pause)?;
    /// worker.tell(Msg::Work)?;
    /// // Handled after the continuation has resumed the worker.
    /// assert_eq!(worker.ask(Msg::Done, Duration::from_secs(5))?, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn suspend(&mut self) {
        self.st.suspended = true;
    }

    /// Takes user messages again after [`Context::suspend`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Msg { Wait, Count(Reply<u32>) }
    ///
    /// /// Waits for an outside resource by retrying from continuations,
    /// /// suspended meanwhile so its senders feel backpressure.
    /// struct Poller { tries: u32 }
    /// impl Poller {
    ///     fn retry(&mut self, ctx: &mut Context<Self>) {
    ///         self.tries += 1;
    ///         if self.tries < 3 {
    ///             ctx.run_after(Duration::ZERO, |me: &mut Poller, ctx| {
    ///                 me.retry(ctx);
    ///                 Ok(())
    ///             });
    ///         } else {
    ///             ctx.resume(); // the resource is ready: take messages again
    ///         }
    ///     }
    /// }
    /// impl Actor for Poller {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Wait => {
    ///                 ctx.suspend();
    ///                 self.retry(ctx);
    ///             }
    ///             Msg::Count(r) => { let _ = r.send(self.tries); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let poller = system.spawn(|| Poller { tries: 0 })?;
    /// poller.tell(Msg::Wait)?;
    /// assert_eq!(poller.ask(Msg::Count, Duration::from_secs(5))?, 3);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resume(&mut self) {
        self.st.suspended = false;
    }

    /// Runs `k` on this actor, with its state, after `delay`. It travels in
    /// the control lane, so it runs even while the actor is suspended or its
    /// mailbox is full. Dropped if the actor stops (or is restarted) first.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Msg { Later(u32), Value(Reply<u32>) }
    ///
    /// struct Deferred(u32);
    /// impl Actor for Deferred {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             // The continuation gets the actor's state when it runs.
    ///             Msg::Later(n) => {
    ///                 ctx.run_after(Duration::from_secs(1), move |me: &mut Deferred, _| {
    ///                     me.0 = n;
    ///                     Ok(())
    ///                 });
    ///             }
    ///             Msg::Value(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let deferred = system.spawn(|| Deferred(0))?;
    /// deferred.tell(Msg::Later(7))?;
    /// system.await_quiescent(t)?;
    /// assert_eq!(deferred.ask(Msg::Value, t)?, 0); // not yet
    /// clock.advance(Duration::from_secs(1));
    /// system.await_quiescent(t)?;
    /// assert_eq!(deferred.ask(Msg::Value, t)?, 7);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_after(
        &mut self,
        delay: Duration,
        k: impl FnOnce(&mut A, &mut Context<A>) -> Result<(), ActorError> + Send + 'static,
    ) -> TimerHandle {
        self.after(delay, Box::new(k))
    }

    /// Sends `msg` to an actor (an [`Addr`] or a [`crate::Recipient`]) without
    /// ever blocking the worker.
    ///
    /// If the target's mailbox is full the message is parked with the target and
    /// this actor is *suspended*: it finishes the current handler but takes no
    /// more messages until the target has drained to its low watermark (half
    /// its capacity unless [`crate::SpawnOptions::low_watermark`] says
    /// otherwise) and the message is in. Further sends from the same handler
    /// to that target wait behind it (the turn holds them and puts them in
    /// together when the handler returns); to produce a large amount, use
    /// [`Context::send_flow`] and yield when it says so. Pressure thus travels upstream to whoever feeds this actor,
    /// and order from this actor to the target is kept.
    ///
    /// Two kinds of send go in over capacity instead of parking, because parking
    /// could never end: a message an actor sends itself, and a send to an actor
    /// that is itself suspended, directly or through others, on this one (a
    /// cycle of suspended actors would otherwise stall for good).
    ///
    /// # Errors
    /// [`SendError::Closed`] with the message if the target has stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Recipient, Reply, System};
    /// use std::time::Duration;
    ///
    /// /// Forwards each word in upper case; never blocks its worker, however full the target.
    /// struct Shout(Recipient<String>);
    /// impl Actor for Shout {
    ///     type Msg = String;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, word: String) -> Result<(), ActorError> {
    ///         ctx.send(&self.0, word.to_uppercase())?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// enum Msg { Word(String), Words(Reply<Vec<String>>) }
    /// struct Collect(Vec<String>);
    /// impl Actor for Collect {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Word(w) => self.0.push(w),
    ///             Msg::Words(r) => { let _ = r.send(self.0.clone()); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let collect = system.spawn(|| Collect(Vec::new()))?;
    /// let out = collect.recipient_with(Msg::Word);
    /// let shout = system.spawn(move || Shout(out.clone()))?;
    /// for w in ["a", "b", "c"] {
    ///     shout.tell(w.to_string())?;
    /// }
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert_eq!(collect.ask(Msg::Words, Duration::from_secs(5))?, ["A", "B", "C"]); // order kept
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send<M, T: Target<M>>(&mut self, to: &T, msg: M) -> Result<(), SendError<M>> {
        self.send_as(to, msg).map(|_| ())
    }

    /// [`Context::send`], saying what became of the message.
    fn send_as<M, T: Target<M>>(&mut self, to: &T, msg: M) -> Result<Sent, SendError<M>> {
        // Borrows only the cell: the Arc is cloned only if the send parks.
        let cell: &Arc<Cell<A>> = &self.cell;
        let waker = || cell.clone() as Arc<dyn SendWaker>;
        match to.deliver_from_actor(msg, None, &self.from(&waker)) {
            Ok(sent) => {
                self.count(&sent);
                Ok(sent)
            }
            Err(m) => Err(SendError::Closed(m)),
        }
    }

    /// Sends as [`Context::send`] and says whether this actor may go on
    /// producing: [`Flow::Suspended`] once a send of its own is parked (this
    /// one or an earlier one), and every further send would park as well.
    ///
    /// # The producer's rule
    ///
    /// A handler that sends many messages in one call stops at
    /// [`Flow::Suspended`], remembers where it was, and sends itself a
    /// message to go on (a message to oneself always goes in, and a
    /// suspended actor takes it only once its parked send is in). Memory then
    /// stays bounded by the target's capacity plus one parked message, instead
    /// of growing with everything produced in the call.
    ///
    /// # Errors
    /// [`SendError::Closed`] with the message if the target has stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, Flow, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Sink;
    /// impl Actor for Sink {
    ///     type Msg = u64;
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u64) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// /// Produces `left` numbers, a mailbox's worth at a time.
    /// struct Producer { to: Addr<Sink>, left: u64 }
    /// impl Actor for Producer {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         while self.left > 0 {
    ///             self.left -= 1;
    ///             if ctx.send_flow(&self.to, self.left)? == Flow::Suspended {
    ///                 // Go on in a later turn, once the sink has drained.
    ///                 ctx.send(&ctx.addr(), ())?;
    ///                 break;
    ///             }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let sink = system.spawn_with(SpawnOptions::new().mailbox_capacity(8), || Sink)?;
    /// let producer = system.spawn(move || Producer { to: sink.clone(), left: 1000 })?;
    /// producer.tell(())?;
    /// system.await_quiescent(Duration::from_secs(10))?;
    /// assert!(system.metrics().messages_handled > 1000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_flow<M, T: Target<M>>(&mut self, to: &T, msg: M) -> Result<Flow, SendError<M>> {
        let sent = self.send_as(to, msg)?;
        // A held send waits behind one of this handler's that parked (by
        // `send` or a `tell`, which the turn counts only once it returns).
        Ok(if self.st.parked_sends > 0 || matches!(sent, Sent::Held) {
            Flow::Suspended
        } else {
            Flow::Continue
        })
    }

    /// Asks an actor without blocking: the answer (or [`AskError::Timeout`],
    /// [`AskError::Closed`], [`AskError::ReplyDropped`]) is handed to `then`,
    /// which runs later on this actor, like a message, with its state.
    ///
    /// The request obeys the same backpressure as [`Context::send`]; the
    /// continuation travels in the control lane, so a full mailbox cannot hold
    /// it up.
    ///
    /// # Errors
    /// [`AskError::SelfAsk`] if the target is this actor (`then` is not run).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Oracle;
    /// impl Actor for Oracle {
    ///     type Msg = Reply<u32>;
    ///     fn handle(&mut self, _: &mut Context<Self>, r: Reply<u32>) -> Result<(), ActorError> {
    ///         let _ = r.send(42);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// enum Msg { Consult(Addr<Oracle>), Get(Reply<Option<u32>>) }
    /// struct Seeker(Option<u32>);
    /// impl Actor for Seeker {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Consult(oracle) => {
    ///                 ctx.ask(&oracle, |r| r, Duration::from_secs(5), |me: &mut Seeker, _, answer| {
    ///                     me.0 = answer.ok();
    ///                 })?;
    ///             }
    ///             Msg::Get(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let oracle = system.spawn(|| Oracle).unwrap();
    /// let seeker = system.spawn(|| Seeker(None)).unwrap();
    /// seeker.tell(Msg::Consult(oracle)).unwrap();
    /// system.await_quiescent(Duration::from_secs(5)).unwrap();
    /// assert_eq!(seeker.ask(Msg::Get, Duration::from_secs(5)), Ok(Some(42)));
    /// ```
    pub fn ask<M, T, R, F, K>(
        &mut self,
        to: &T,
        make: F,
        timeout: Duration,
        then: K,
    ) -> Result<(), AskError>
    where
        T: Target<M>,
        R: Send + 'static,
        F: FnOnce(Reply<R>) -> M,
        K: FnOnce(&mut A, &mut Context<A>, Result<R, AskError>) + Send + 'static,
    {
        if to.target_id() == self.cell.id {
            return Err(AskError::SelfAsk);
        }
        let slot = self.continuation_slot(Some(timeout), then);
        let request = make(Reply::new(slot.clone()));
        // Borrows only the cell: the Arc is cloned only if the send parks.
        let cell: &Arc<Cell<A>> = &self.cell;
        let waker = || cell.clone() as Arc<dyn SendWaker>;
        match to.deliver_from_actor(request, Some(slot.clone()), &self.from(&waker)) {
            Ok(sent) => self.count(&sent),
            Err(request) => {
                let _ = slot.complete(Err(AskError::Closed));
                drop(request);
            }
        }
        Ok(())
    }

    /// A [`Reply`] whose answer comes back to this actor: `then` runs on it,
    /// like a message, with the value once someone sends it, or with
    /// [`AskError::Timeout`] after `timeout` (`None`: no deadline, and no
    /// timer entry: for an actor that keeps its own), or
    /// [`AskError::ReplyDropped`] if the reply is dropped unanswered. The reply may travel anywhere: to
    /// another thread, into a callback of a library. It is how an actor hears
    /// back from work that is not an actor (an ask of one without the
    /// request), and runs like an ask's continuation: through the control
    /// lane, so a full mailbox cannot hold it up.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Summer;
    /// impl Actor for Summer {
    ///     type Msg = Reply<u64>;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, asker: Reply<u64>) -> Result<(), ActorError> {
    ///         let reply = ctx.reply_to_self(Some(Duration::from_secs(5)), |_: &mut Summer, _, sum| {
    ///             // Back on the actor, with its state at hand.
    ///             if let Ok(sum) = sum {
    ///                 let _ = asker.send(sum);
    ///             }
    ///         });
    ///         // Work off the pool answers through the reply.
    ///         std::thread::spawn(move || reply.send((1..=10).sum::<u64>()));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let summer = system.spawn(|| Summer)?;
    /// assert_eq!(summer.ask(|r| r, Duration::from_secs(5))?, 55);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reply_to_self<R, K>(&mut self, timeout: Option<Duration>, then: K) -> Reply<R>
    where
        R: Send + 'static,
        K: FnOnce(&mut A, &mut Context<A>, Result<R, AskError>) + Send + 'static,
    {
        Reply::new(self.continuation_slot(timeout, then))
    }

    /// A slot decided by an answer or, after `timeout` if there is one, by
    /// the timer; either way `then` runs on this actor through the control
    /// lane.
    fn continuation_slot<R, K>(&mut self, timeout: Option<Duration>, then: K) -> Arc<Slot<R>>
    where
        R: Send + 'static,
        K: FnOnce(&mut A, &mut Context<A>, Result<R, AskError>) + Send + 'static,
    {
        let deadline = timeout.map(|t| self.cell.shared.timer.deadline_after(t));
        let me = Arc::clone(&self.cell);
        let slot = Slot::for_callback(deadline, move |outcome: Result<R, AskError>| {
            let k: Continuation<A> = Box::new(move |a, ctx| {
                then(a, ctx, outcome);
                Ok(())
            });
            if me.push_control(Control::Run(k)).is_err() {
                // The asker stopped: its answer is a dead letter.
                me.shared
                    .dead_letter::<R>(&me.label(), DeadLetterReason::Stopped);
            }
        });
        if let Some(deadline) = deadline {
            let timer_slot = slot.clone();
            let handle = self.cell.shared.timer.once(deadline, move || {
                let _ = timer_slot.complete(Err(AskError::Timeout));
            });
            slot.set_timer(handle);
        }
        slot
    }

    /// Sends `msg` to this actor after `delay`. If the mailbox is full then, the
    /// message goes to dead letters (the timer never waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Msg { Arm, Ring, Rang(Reply<bool>) }
    /// struct Alarm(bool);
    /// impl Actor for Alarm {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Arm => { ctx.schedule_once(Duration::from_secs(60), Msg::Ring); }
    ///             Msg::Ring => self.0 = true,
    ///             Msg::Rang(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let clock = ManualClock::new(); // time moves only when the test says so
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let alarm = system.spawn(|| Alarm(false))?;
    /// alarm.tell(Msg::Arm)?;
    /// system.await_quiescent(t)?;
    /// assert!(!alarm.ask(Msg::Rang, t)?);
    /// clock.advance(Duration::from_secs(60));
    /// system.await_quiescent(t)?;
    /// assert!(alarm.ask(Msg::Rang, t)?);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_once(&mut self, delay: Duration, msg: A::Msg) -> TimerHandle {
        let cell = Arc::clone(&self.cell);
        self.cell
            .shared
            .timer
            .once(self.cell.shared.timer.deadline_after(delay), move || {
                cell.deliver_from_timer(msg)
            })
    }

    /// Sends `make()` to this actor every `period`, starting one period from now,
    /// until the handle is cancelled or the actor stops. Ticks that find the
    /// mailbox full go to dead letters; late ticks are skipped, not bunched.
    ///
    /// # Errors
    /// A zero `period` ([`BuildError`] naming `"period"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Msg { Tick, Ticks(Reply<u32>) }
    /// struct Heartbeat(u32);
    /// impl Actor for Heartbeat {
    ///     type Msg = Msg;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.schedule_every(Duration::from_secs(1), || Msg::Tick)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Tick => self.0 += 1,
    ///             Msg::Ticks(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let heartbeat = system.spawn(|| Heartbeat(0))?;
    /// system.await_quiescent(t)?;
    /// for _ in 0..3 {
    ///     clock.advance(Duration::from_secs(1));
    ///     system.await_quiescent(t)?;
    /// }
    /// assert_eq!(heartbeat.ask(Msg::Ticks, t)?, 3);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_every(
        &mut self,
        period: Duration,
        mut make: impl FnMut() -> A::Msg + Send + 'static,
    ) -> Result<TimerHandle, BuildError> {
        if period.is_zero() {
            return Err(BuildError::zero("period"));
        }
        let cell = Arc::clone(&self.cell);
        let handle = self.cell.shared.timer.every(
            self.cell.shared.timer.deadline_after(period),
            period,
            move || cell.deliver_from_timer(make()),
        );
        self.st.rel().timers.retain(|t| !t.is_cancelled());
        self.st.rel().timers.push(handle.clone());
        Ok(handle)
    }

    /// Watches an actor: when it stops for good, this actor gets a
    /// [`Terminated`] message, exactly once (at once if it has already
    /// stopped). The notice travels in the control lane, so a full mailbox
    /// cannot hold it up; a restart by a supervisor is not a stop. Watching an
    /// actor already watched (whose notice has not arrived) does nothing.
    ///
    /// A watch outlives a restart of the watching actor: the notice goes to
    /// the instance that is live when it arrives. One that arrives while no
    /// instance is live (the watcher halted for a sibling's restart, or
    /// waiting out a restart backoff) is dropped; watching that actor again,
    /// from `started` say, brings the notice at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, ExitReason, Reply, System, Terminated};
    /// use std::time::Duration;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.stop();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// enum Msg { Watch(Addr<Worker>), Down(Terminated), Seen(Reply<Option<ExitReason>>) }
    /// impl From<Terminated> for Msg {
    ///     fn from(t: Terminated) -> Self { Msg::Down(t) }
    /// }
    ///
    /// struct Monitor(Option<ExitReason>);
    /// impl Actor for Monitor {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Watch(w) => ctx.watch(&w),
    ///             Msg::Down(t) => self.0 = Some(t.reason),
    ///             Msg::Seen(r) => { let _ = r.send(self.0.clone()); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let worker = system.spawn(|| Worker).unwrap();
    /// let monitor = system.spawn(|| Monitor(None)).unwrap();
    /// monitor.tell(Msg::Watch(worker.clone())).unwrap();
    /// worker.tell(()).unwrap();
    /// system.await_quiescent(Duration::from_secs(5)).unwrap();
    /// assert_eq!(monitor.ask(Msg::Seen, Duration::from_secs(5)), Ok(Some(ExitReason::Normal)));
    /// ```
    pub fn watch<M, T>(&mut self, target: &T)
    where
        T: Target<M>,
        A::Msg: From<Terminated>,
    {
        self.watch_with(target, A::Msg::from);
    }

    /// Watches an actor, turning the [`Terminated`] notice into a message with
    /// `map` (see [`Context::watch`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, ExitReason, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         Err("disk full".into())
    ///     }
    /// }
    ///
    /// enum Msg { Watch(Addr<Worker>), Down(ExitReason), Seen(Reply<Option<ExitReason>>) }
    /// struct Monitor(Option<ExitReason>);
    /// impl Actor for Monitor {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Watch(w) => ctx.watch_with(&w, |t| Msg::Down(t.reason)),
    ///             Msg::Down(reason) => self.0 = Some(reason),
    ///             Msg::Seen(r) => { let _ = r.send(self.0.clone()); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let worker = system.spawn(|| Worker)?;
    /// let monitor = system.spawn(|| Monitor(None))?;
    /// monitor.tell(Msg::Watch(worker.clone()))?;
    /// worker.tell(())?;
    /// system.await_quiescent(t)?;
    /// let seen = monitor.ask(Msg::Seen, t)?;
    /// assert_eq!(seen, Some(ExitReason::Failed("failed: disk full".into())));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch_with<M, T>(
        &mut self,
        target: &T,
        map: impl FnOnce(Terminated) -> A::Msg + Send + 'static,
    ) where
        T: Target<M>,
    {
        let watched = target.cell();
        let id = watched.id();
        if id == self.cell.id || self.st.watching().iter().any(|w| w.id() == id) {
            return;
        }
        let me = Arc::clone(&self.cell);
        watched.add_watcher(
            self.cell.id,
            Box::new(move |t| {
                let k: Continuation<A> = Box::new(move |a, ctx| {
                    ctx.st.rel().watching.retain(|w| w.id() != id);
                    a.handle(ctx, map(t))
                });
                let _ = me.push_control(Control::Run(k));
            }),
        );
        self.st.rel().watching.push(watched);
    }

    /// Stops watching an actor; a notice already on its way may still arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, Reply, System, Terminated};
    /// use std::time::Duration;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// enum Msg { Watch(Addr<Worker>), Unwatch(Addr<Worker>), Down(Terminated), Notices(Reply<u32>) }
    /// struct Monitor(u32);
    /// impl Actor for Monitor {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Watch(w) => ctx.watch_with(&w, Msg::Down),
    ///             Msg::Unwatch(w) => ctx.unwatch(&w),
    ///             Msg::Down(_) => self.0 += 1,
    ///             Msg::Notices(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let worker = system.spawn(|| Worker)?;
    /// let monitor = system.spawn(|| Monitor(0))?;
    /// monitor.tell(Msg::Watch(worker.clone()))?;
    /// monitor.tell(Msg::Unwatch(worker.clone()))?;
    /// system.await_quiescent(t)?;
    /// worker.stop();
    /// system.await_quiescent(t)?;
    /// assert_eq!(monitor.ask(Msg::Notices, t)?, 0);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unwatch<M, T: Target<M>>(&mut self, target: &T) {
        let watched = target.cell();
        watched.remove_watcher(self.cell.id);
        self.st.rel().watching.retain(|w| w.id() != watched.id());
    }

    /// Runs `k` on this actor after `delay`, through the control lane (so a
    /// full mailbox cannot delay or refuse it).
    pub(crate) fn after(&mut self, delay: Duration, k: Continuation<A>) -> TimerHandle {
        let me = Arc::clone(&self.cell);
        self.cell
            .shared
            .timer
            .once(self.cell.shared.timer.deadline_after(delay), move || {
                let _ = me.push_control(Control::Run(k));
            })
    }

    /// Spawns a child with a checked cell configuration.
    fn spawn_configured<B: Actor>(
        &mut self,
        name: Option<String>,
        config: CellConfig,
        start: impl FnOnce() -> Start<B>,
    ) -> Result<Arc<Cell<B>>, SpawnError> {
        if self.st.winding_down() {
            return Err(SpawnError::ParentStopping);
        }
        let parent: Arc<dyn AnyCell> = Arc::<Cell<A>>::clone(&self.cell);
        let child = self
            .cell
            .shared
            .spawn_cell(name, config, start, Some(parent))?;
        self.st.rel().children.push(child.clone());
        child.submit_first();
        Ok(child)
    }

    /// Spawns a child actor with default options. Children stop before their
    /// parent. The factory runs as for [`crate::System::spawn`] (on this
    /// worker, before this returns, for an unnamed child).
    ///
    /// # Errors
    /// As [`Context::spawn_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Job { Square(u64, Reply<u64>) }
    /// struct Squarer;
    /// impl Actor for Squarer {
    ///     type Msg = Job;
    ///     fn handle(&mut self, _: &mut Context<Self>, Job::Square(n, r): Job) -> Result<(), ActorError> {
    ///         let _ = r.send(n * n);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// /// Hands out its child's address; the child stops before it does.
    /// struct Boss(Option<Addr<Squarer>>);
    /// impl Actor for Boss {
    ///     type Msg = Reply<Addr<Squarer>>;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         self.0 = Some(ctx.spawn(|| Squarer)?);
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, r: Self::Msg) -> Result<(), ActorError> {
    ///         let _ = r.send(self.0.clone().expect("spawned in started"));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let boss = system.spawn(|| Boss(None))?;
    /// let squarer = boss.ask(|r| r, t)?;
    /// assert_eq!(squarer.ask(|r| Job::Square(12, r), t)?, 144);
    /// boss.stop();
    /// system.await_quiescent(t)?;
    /// assert!(!squarer.is_alive()); // children stop with their parent
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn<B: Actor>(
        &mut self,
        factory: impl Fn() -> B + Send + Sync + 'static,
    ) -> Result<Addr<B>, SpawnError> {
        // As `spawn_with(SpawnOptions::new(), factory)`, with nothing to check.
        let config = self.cell.shared.default_config();
        let child = self.spawn_configured(None, config, || Start::first(false, factory))?;
        Ok(Addr::from_cell(child))
    }

    /// Spawns a child actor.
    ///
    /// # Errors
    /// [`SpawnError::ParentStopping`] if this actor is stopping; otherwise as
    /// [`crate::System::spawn_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Cache;
    /// impl Actor for Cache {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// struct App;
    /// impl Actor for App {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.spawn_with(SpawnOptions::new().name("cache").mailbox_capacity(64), || Cache)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// system.spawn(|| App)?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let cache = system.lookup::<Cache>("cache").expect("spawned by the app");
    /// assert_eq!(cache.metrics().mailbox_capacity, 64);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_with<B: Actor>(
        &mut self,
        options: SpawnOptions,
        factory: impl Fn() -> B + Send + Sync + 'static,
    ) -> Result<Addr<B>, SpawnError> {
        let (name, config) = self.cell.shared.cell_config(options)?;
        let child = if config.supervised {
            // Every start builds a fresh instance with the factory.
            self.spawn_configured(name, config, || Start::Factory(Arc::new(factory)))?
        } else {
            let named = name.is_some();
            self.spawn_configured(name, config, || Start::first(named, factory))?
        };
        Ok(Addr::from_cell(child))
    }
}

impl<A: Actor> fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("actor", &self.cell.label())
            .field("suspended", &self.is_suspended())
            .field("children", &self.st.children().len())
            .finish()
    }
}
