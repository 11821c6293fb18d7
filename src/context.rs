//! [`Context`]: what a running actor can do besides changing its own state.

use crate::actor::Actor;
use crate::actor::Terminated;
use crate::addr::{Addr, Target};
use crate::cell::{
    AnyCell, Cell, CellConfig, Continuation, Control, Exit, SendFrom, Start, StopReason,
};
use crate::error::{ActorError, AskError, BuildError, SendError, SpawnError};
use crate::mailbox::{SendWaker, Sent};
use crate::quiet::Credit;
use crate::reply::{Reply, Slot};
use crate::sync::Arc;
use crate::system::{DeadLetterReason, SpawnOptions};
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
    pub(crate) parent: Option<Arc<dyn AnyCell>>,
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
    /// What the runtime's own actors keep across restarts (an event bus's
    /// subscriptions, which its subscribers would never make again): kept by
    /// failures and halts, dropped when the actor stops for good.
    pub(crate) carry: Option<Box<dyn Any + Send>>,
}

impl<A: Actor> CtxState<A> {
    pub(crate) fn new(parent: Option<Arc<dyn AnyCell>>) -> Self {
        CtxState {
            parent,
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

    /// Whether the actor takes user messages now.
    /// Nothing here needs a drop: no parent, no relations (what
    /// `CtxState::default` holds).
    pub(crate) fn holds_nothing(&self) -> bool {
        self.parent.is_none() && self.rel.is_none()
    }

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
            parent: None,
            rel: None,
            _actor: std::marker::PhantomData,
        }
    }
}

/// Whether an actor may go on producing, from [`Context::send_flow`].
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
    /// Whether a supervisor restarts this actor (only such an actor ever
    /// needs what it keeps across restarts).
    pub(crate) fn is_supervised(&self) -> bool {
        self.cell.supervised
    }

    /// The state of type `T` this actor keeps across restarts (see
    /// `Relations::carry`), made with `T::default()` on first use.
    pub(crate) fn carried_mut<T: Default + Send + 'static>(&mut self) -> &mut T {
        let carry = self
            .st
            .rel()
            .carry
            .get_or_insert_with(|| Box::new(T::default()));
        if !carry.is::<T>() {
            debug_assert!(false, "an actor carries one type of state");
            *carry = Box::new(T::default());
        }
        carry.downcast_mut::<T>().expect("checked just above")
    }

    /// The state of type `T` this actor keeps across restarts, if any.
    pub(crate) fn carried<T: Send + 'static>(&self) -> Option<&T> {
        self.st.rel.as_ref()?.carry.as_ref()?.downcast_ref::<T>()
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

    /// This actor as the sender of a message from this turn.
    fn from<'a>(&'a self, waker: &'a dyn Fn() -> Arc<dyn SendWaker>) -> SendFrom<'a> {
        SendFrom {
            id: self.cell.id,
            waker,
            quiet: self.cell.shared.quiet(),
            credit: &self.credit,
        }
    }

    /// This actor's own address.
    pub fn addr(&self) -> Addr<A> {
        Addr::from_cell(Arc::clone(&self.cell))
    }

    /// This actor's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.cell.name()
    }

    /// This actor's id, unique within its system.
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
    pub fn stop(&mut self) {
        self.st.stop_requested = true;
    }

    /// Whether this actor is suspended: a send it made is waiting for room in a
    /// full mailbox (see [`Context::send`]), or it called [`Context::suspend`].
    /// A suspended actor takes no user messages; they wait in its mailbox, so
    /// its senders feel backpressure.
    pub fn is_suspended(&self) -> bool {
        self.st.parked_sends > 0 || self.st.suspended
    }

    /// Reports a message this actor chose not to deliver to `to` as a dead
    /// letter: counted in [`crate::SystemMetrics::dead_letters`], logged at
    /// debug, and passed to the system's dead-letter hook. For patterns that
    /// shed load by policy; the message itself is the caller's to drop.
    pub fn dead_letter<M: 'static, T: Target<M>>(&self, to: &T, reason: DeadLetterReason) {
        self.cell
            .shared
            .dead_letter::<M>(&to.cell().label(), reason);
    }

    /// Takes no more user messages until [`Context::resume`]; control items
    /// (stop requests, ask answers, watch notices, [`Context::run_after`]
    /// continuations) still run. For an actor that must wait for something
    /// outside the pool (a full channel, a slow device) without blocking its
    /// worker: suspend, then retry from a `run_after` continuation.
    pub fn suspend(&mut self) {
        self.st.suspended = true;
    }

    /// Takes user messages again after [`Context::suspend`].
    pub fn resume(&mut self) {
        self.st.suspended = false;
    }

    /// Runs `k` on this actor, with its state, after `delay`. It travels in
    /// the control lane, so it runs even while the actor is suspended or its
    /// mailbox is full. Dropped if the actor stops (or is restarted) first.
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
    /// park too: to produce a large amount, use [`Context::send_flow`] and
    /// yield when it says so. Pressure thus travels upstream to whoever feeds this actor,
    /// and order from this actor to the target is kept.
    ///
    /// Two kinds of send go in over capacity instead of parking, because parking
    /// could never end: a message an actor sends itself, and a send to an actor
    /// that is itself suspended, directly or through others, on this one (a
    /// cycle of suspended actors would otherwise stall for good).
    ///
    /// # Errors
    /// [`SendError::Closed`] with the message if the target has stopped.
    pub fn send<M, T: Target<M>>(&mut self, to: &T, msg: M) -> Result<(), SendError<M>> {
        // Borrows only the cell: the Arc is cloned only if the send parks.
        let cell: &Arc<Cell<A>> = &self.cell;
        let waker = || cell.clone() as Arc<dyn SendWaker>;
        match to.deliver_from_actor(msg, None, &self.from(&waker)) {
            Ok(Sent::Pushed(_)) => Ok(()),
            Ok(Sent::Parked) => {
                self.st.parked_sends += 1;
                Ok(())
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
        self.send(to, msg)?;
        Ok(if self.st.parked_sends > 0 {
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
        let deadline = self.cell.shared.timer.deadline_after(timeout);
        let me = Arc::clone(&self.cell);
        let slot = Slot::for_callback(Some(deadline), move |outcome: Result<R, AskError>| {
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
        let timer_slot = slot.clone();
        let handle = self.cell.shared.timer.once(deadline, move || {
            let _ = timer_slot.complete(Err(AskError::Timeout));
        });
        slot.set_timer(handle);
        let request = make(Reply::new(slot.clone()));
        // Borrows only the cell: the Arc is cloned only if the send parks.
        let cell: &Arc<Cell<A>> = &self.cell;
        let waker = || cell.clone() as Arc<dyn SendWaker>;
        match to.deliver_from_actor(request, Some(slot.clone()), &self.from(&waker)) {
            Ok(Sent::Pushed(_)) => {}
            Ok(Sent::Parked) => self.st.parked_sends += 1,
            Err(request) => {
                let _ = slot.complete(Err(AskError::Closed));
                drop(request);
            }
        }
        Ok(())
    }

    /// Sends `msg` to this actor after `delay`. If the mailbox is full then, the
    /// message goes to dead letters (the timer never waits).
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

    /// Fills a configuration's capacity and throughput from `capacity` and
    /// `throughput`, or the system's defaults, and checks them.
    pub(crate) fn defaults(
        &self,
        capacity: Option<usize>,
        throughput: Option<usize>,
        config: CellConfig,
    ) -> Result<CellConfig, SpawnError> {
        let mut options = SpawnOptions::new();
        if let Some(c) = capacity {
            options = options.mailbox_capacity(c);
        }
        if let Some(t) = throughput {
            options = options.throughput(t);
        }
        let (_, base) = self.cell.shared.cell_config(options)?;
        Ok(CellConfig {
            capacity: base.capacity,
            throughput: base.throughput,
            ..config
        })
    }

    /// Spawns a child with an explicit cell configuration (supervisors).
    pub(crate) fn spawn_configured<B: Actor>(
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
    pub fn spawn<B: Actor>(
        &mut self,
        factory: impl Fn() -> B + Send + Sync + 'static,
    ) -> Result<Addr<B>, SpawnError> {
        self.spawn_with(SpawnOptions::new(), factory)
    }

    /// Spawns a child actor.
    ///
    /// # Errors
    /// [`SpawnError::ParentStopping`] if this actor is stopping; otherwise as
    /// [`crate::System::spawn_with`].
    pub fn spawn_with<B: Actor>(
        &mut self,
        options: SpawnOptions,
        factory: impl Fn() -> B + Send + Sync + 'static,
    ) -> Result<Addr<B>, SpawnError> {
        let (name, config) = self.cell.shared.cell_config(options)?;
        let named = name.is_some();
        let child = self.spawn_configured(name, config, || Start::first(named, factory))?;
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
