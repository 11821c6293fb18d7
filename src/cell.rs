//! The runtime side of one actor: its mailbox, its state, and the turn a worker runs.
//!
//! # Invariants
//!
//! - `run` is locked only by the worker running the actor's turn, which the
//!   mailbox's scheduling state makes exclusive, so the lock is never contended;
//!   it stands in for an `UnsafeCell` without `unsafe`.
//! - Every item pushed into a mailbox (either lane, or parked) was counted in the
//!   system's in-flight count first, and is uncounted exactly once: after it is
//!   handled, or when it is dropped (refused push, dead letter, drained control).
//!
//! # Protocol (stopping)
//!
//! 1. A stop request (`Addr::stop`, `Context::stop`, a failure, the parent
//!    stopping, system shutdown) closes the user lane: queued and parked user
//!    messages go to dead letters, blocked senders get theirs back as `Closed`.
//! 2. Every live child is asked to stop; the actor keeps handling control items
//!    (continuations, resume notices, children's stop notices) meanwhile.
//! 3. When the last child has reported, the `stopped` hook runs, the mailbox closes
//!    completely, the actor leaves the registry and tells its parent.

use crate::actor::Actor;
use crate::context::{Context, CtxState};
use crate::error::{AskError, Failure};
use crate::mailbox::{Idle, Mailbox, Popped, Refused, Schedule, SendWaker, Sent};
use crate::pool::Runnable;
use crate::reply::AskState;
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::system::{DeadLetterReason, Shared};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

/// A user message with, for an ask, the asker's slot.
pub(crate) struct Envelope<M> {
    pub(crate) msg: M,
    pub(crate) ask: Option<Arc<dyn AskState>>,
}

/// Why an actor stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// `stop` was called on its address or context.
    Requested,
    /// Its parent is stopping.
    Parent,
    /// The system is shutting down.
    Shutdown,
    /// Its handler (or `started`) failed.
    Failed,
}

/// A continuation run with the actor's state (ask answers).
pub(crate) type Continuation<A> = Box<dyn FnOnce(&mut A, &mut Context<A>) + Send>;

/// Items of the control lane, handled before any user message.
pub(crate) enum Control<A: Actor> {
    Start,
    Stop(StopReason),
    /// One parked send left this actor's account (delivered, or dropped because
    /// its target stopped).
    Resumed,
    Run(Continuation<A>),
    ChildStopped(u64),
}

struct RunState<A: Actor> {
    actor: Option<A>,
    st: CtxState<A>,
}

/// One actor as the runtime sees it.
pub(crate) struct Cell<A: Actor> {
    pub(crate) mailbox: Mailbox<Envelope<A::Msg>, Control<A>>,
    run: Mutex<RunState<A>>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: u64,
    pub(crate) name: Option<Arc<str>>,
    throughput: usize,
    factory: Box<dyn Fn() -> A + Send + Sync>,
    is_root: bool,
    handled: AtomicU64,
    alive: AtomicBool,
    /// The index + 1 of the worker running the actor now, 0 when none.
    running_on: AtomicUsize,
}

/// A type-erased actor, for the registry, parents and shutdown.
pub(crate) trait AnyCell: Send + Sync {
    fn id(&self) -> u64;
    fn label(&self) -> String;
    fn is_root(&self) -> bool;
    /// The worker running the actor now, if one is.
    fn running_on(&self) -> Option<usize>;
    fn request_stop(self: Arc<Self>, reason: StopReason);
    fn child_stopped(self: Arc<Self>, child: u64);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<A: Actor> Cell<A> {
    /// Builds a cell whose `Start` item is already queued; the caller registers
    /// it and then submits it to the pool.
    pub(crate) fn new(
        shared: Arc<Shared>,
        id: u64,
        name: Option<Arc<str>>,
        capacity: usize,
        throughput: usize,
        factory: Box<dyn Fn() -> A + Send + Sync>,
        parent: Option<Arc<dyn AnyCell>>,
    ) -> Arc<Self> {
        let mailbox = Mailbox::new_scheduled(capacity);
        shared.work_added(1);
        if mailbox.push_control(Control::Start).is_err() {
            unreachable!("a new mailbox is open");
        }
        Arc::new(Cell {
            mailbox,
            run: Mutex::new(RunState {
                actor: None,
                st: CtxState::new(parent.clone()),
            }),
            shared,
            id,
            name,
            throughput,
            factory,
            is_root: parent.is_none(),
            handled: AtomicU64::new(0),
            alive: AtomicBool::new(true),
            running_on: AtomicUsize::new(0),
        })
    }

    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(n) => n.to_string(),
            None => format!("#{}", self.id),
        }
    }

    pub(crate) fn handled(&self) -> u64 {
        // ORDERING: Relaxed; a statistic, publishes nothing.
        self.handled.load(Ordering::Relaxed)
    }

    pub(crate) fn alive(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `finalize`, so a caller that
        // sees the actor dead also sees its mailbox closed.
        self.alive.load(Ordering::Acquire)
    }

    /// Queues the actor on the pool (the caller owns the run token).
    pub(crate) fn submit(self: Arc<Self>) {
        let shared = self.shared.clone();
        shared.pool.schedule(self);
    }

    fn after_push(self: &Arc<Self>, s: Schedule) {
        if s == Schedule::Submit {
            self.clone().submit();
        }
    }

    /// Pushes a control item, counting it in flight. Gives it back if the actor
    /// has stopped.
    pub(crate) fn push_control(self: &Arc<Self>, item: Control<A>) -> Result<(), Control<A>> {
        self.shared.work_added(1);
        match self.mailbox.push_control(item) {
            Ok(s) => {
                self.after_push(s);
                Ok(())
            }
            Err(item) => {
                self.shared.work_done(1);
                Err(item)
            }
        }
    }

    /// Pushes a user message without waiting.
    pub(crate) fn deliver_try<T>(
        self: &Arc<Self>,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Result<(), (T, Refused)> {
        self.shared.work_added(1);
        match self
            .mailbox
            .try_push_with(value, |v| Envelope { msg: map(v), ask })
        {
            Ok(s) => {
                self.after_push(s);
                Ok(())
            }
            Err(e) => {
                self.shared.work_done(1);
                Err(e)
            }
        }
    }

    /// Pushes a user message from a thread outside the pool, waiting for room.
    pub(crate) fn deliver_blocking<T>(
        self: &Arc<Self>,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        deadline: Option<Instant>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Result<(), (T, Refused)> {
        self.shared.work_added(1);
        match self
            .mailbox
            .push_blocking_with(value, deadline, |v| Envelope { msg: map(v), ask })
        {
            Ok(s) => {
                self.after_push(s);
                Ok(())
            }
            Err(e) => {
                self.shared.work_done(1);
                Err(e)
            }
        }
    }

    /// Pushes a user message from an actor's turn: parks it if there is no room.
    pub(crate) fn deliver_from_actor<T>(
        self: &Arc<Self>,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        sender_id: u64,
        waker: &dyn Fn() -> Arc<dyn SendWaker>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Result<Sent, T> {
        self.shared.work_added(1);
        let park = || {
            // Parking on ourselves, or on an actor that (through others) waits
            // for us, could never end: such a send goes in over capacity.
            if sender_id == self.id || !self.shared.waits.try_wait(sender_id, self.id) {
                return None;
            }
            Some(waker())
        };
        match self
            .mailbox
            .push_or_park(value, park, |v| Envelope { msg: map(v), ask })
        {
            Ok(sent) => {
                if let Sent::Pushed(s) = sent {
                    self.after_push(s);
                }
                Ok(sent)
            }
            Err(v) => {
                self.shared.work_done(1);
                Err(v)
            }
        }
    }

    /// Delivers a message the timer produced. The timer thread never waits: with
    /// no room the message goes to dead letters.
    pub(crate) fn deliver_from_timer(self: &Arc<Self>, msg: A::Msg) {
        if self.shared.is_closing() {
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::Shutdown);
            return;
        }
        match self.deliver_try(msg, None, |m| m) {
            Ok(()) => {}
            Err((_, Refused::Full)) => {
                log::warn!(
                    "timer message for actor {} dropped: mailbox full",
                    self.label()
                );
                self.shared
                    .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::MailboxFull);
            }
            Err(_) => self
                .shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::Stopped),
        }
    }

    /// One turn: up to `throughput` items, then requeue or go idle.
    fn turn(self: &Arc<Self>) {
        self.mailbox.transition_to_running();
        // ORDERING: Relaxed; only read for shutdown's stuck report.
        self.running_on.store(
            self.shared.pool.current_worker().map_or(0, |i| i + 1),
            Ordering::Relaxed,
        );
        let mut run = self.run.lock();
        let RunState { actor, st } = &mut *run;
        let mut ctx = Context::new(self.clone(), std::mem::take(st));
        let mut wakers = Vec::new();
        let mut items = 0;
        let mut user = 0;
        while items < self.throughput && !ctx.st.dead {
            let Some(item) = self.mailbox.pop(ctx.st.accepts_user(), &mut wakers) else {
                break;
            };
            for w in wakers.drain(..) {
                w.wake(self.id, true);
            }
            items += 1;
            match item {
                Popped::Control(c) => self.on_control(actor, &mut ctx, c),
                Popped::User(env) => {
                    user += 1;
                    self.on_message(actor, &mut ctx, env);
                }
            }
            // Uncount after handling, so the effects are counted first.
            self.shared.work_done(1);
        }
        let accept_user = ctx.st.accepts_user();
        *st = std::mem::take(&mut ctx.st);
        drop(ctx);
        drop(run);
        if user > 0 {
            // ORDERING: Relaxed; statistics.
            self.handled.fetch_add(user, Ordering::Relaxed);
            self.shared.count_handled(user);
        }
        // ORDERING: Relaxed, as above.
        self.running_on.store(0, Ordering::Relaxed);
        if self.mailbox.transition_to_idle(accept_user) == Idle::Reschedule {
            self.clone().submit();
        }
    }

    fn on_message(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        env: Envelope<A::Msg>,
    ) {
        if env.ask.as_ref().is_some_and(|a| a.is_abandoned()) {
            log::debug!(
                "actor {}: request skipped, its asker stopped waiting",
                self.label()
            );
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::AskerGone);
            return;
        }
        let Some(a) = actor.as_mut() else {
            // Only reachable if `Start` failed, and that closes the user lane.
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::Stopped);
            return;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| a.handle(ctx, env.msg)));
        if let Some(failure) = failure_of(outcome) {
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::HandlerFailed);
            self.fail(actor, ctx, failure);
        } else if ctx.st.stop_requested {
            self.begin_stop(actor, ctx, StopReason::Requested);
        }
    }

    fn on_control(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>, item: Control<A>) {
        match item {
            Control::Start => {
                let made = catch_unwind(AssertUnwindSafe(|| (self.factory)()));
                let mut a = match made {
                    Ok(a) => a,
                    Err(p) => return self.fail(actor, ctx, Failure::Panic(panic_message(&*p))),
                };
                let started = catch_unwind(AssertUnwindSafe(|| a.started(ctx)));
                *actor = Some(a);
                if let Some(failure) = failure_of(started) {
                    self.fail(actor, ctx, failure);
                } else if ctx.st.stop_requested {
                    self.begin_stop(actor, ctx, StopReason::Requested);
                }
            }
            Control::Stop(reason) => self.begin_stop(actor, ctx, reason),
            Control::Resumed => {
                debug_assert!(ctx.st.parked_sends > 0);
                ctx.st.parked_sends -= 1;
            }
            Control::Run(k) => {
                let Some(a) = actor.as_mut() else { return };
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    k(a, ctx);
                    Ok(())
                }));
                if let Some(failure) = failure_of(outcome) {
                    self.fail(actor, ctx, failure);
                } else if ctx.st.stop_requested {
                    self.begin_stop(actor, ctx, StopReason::Requested);
                }
            }
            Control::ChildStopped(id) => {
                ctx.st.children.retain(|c| c.id() != id);
                if ctx.st.stopping.is_some() && ctx.st.children.is_empty() {
                    self.finalize(actor, ctx);
                }
            }
        }
    }

    fn fail(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>, failure: Failure) {
        log::error!("actor {} {failure}; stopping it", self.label());
        self.begin_stop(actor, ctx, StopReason::Failed);
    }

    fn begin_stop(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        reason: StopReason,
    ) {
        if ctx.st.stopping.is_some() {
            return;
        }
        ctx.st.stopping = Some(reason);
        log::debug!("actor {} stopping ({reason:?})", self.label());
        let drained = self.mailbox.close_user();
        let label = self.label();
        let n = drained.user.len() + drained.parked.len();
        for env in drained.user {
            self.dead_letter_envelope(&label, env);
        }
        for p in drained.parked {
            p.waker.wake(self.id, false);
            self.dead_letter_envelope(&label, p.item);
        }
        self.shared.work_done(n);
        for child in &ctx.st.children {
            child.clone().request_stop(StopReason::Parent);
        }
        if ctx.st.children.is_empty() {
            self.finalize(actor, ctx);
        }
    }

    fn dead_letter_envelope(&self, label: &str, env: Envelope<A::Msg>) {
        if let Some(ask) = &env.ask {
            ask.fail(AskError::Closed);
        }
        self.shared
            .dead_letter::<A::Msg>(label, DeadLetterReason::Stopped);
    }

    fn finalize(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>) {
        if let Some(a) = actor.as_mut()
            && let Err(p) = catch_unwind(AssertUnwindSafe(|| a.stopped(ctx)))
        {
            log::error!(
                "actor {}: stopped hook panicked: {}",
                self.label(),
                panic_message(&*p)
            );
        }
        *actor = None;
        for t in ctx.st.timers.drain(..) {
            t.cancel();
        }
        let drained = self.mailbox.close();
        let label = self.label();
        let n = drained.user.len() + drained.parked.len() + drained.control.len();
        for env in drained.user {
            self.dead_letter_envelope(&label, env);
        }
        for p in drained.parked {
            p.waker.wake(self.id, false);
            self.dead_letter_envelope(&label, p.item);
        }
        drop(drained.control);
        self.shared.work_done(n);
        ctx.st.dead = true;
        // ORDERING: Release pairs with the Acquire in `alive`: the closed mailbox
        // is visible to whoever sees the actor dead.
        self.alive.store(false, Ordering::Release);
        self.shared.unregister(self.id, self.name.as_deref());
        if let Some(parent) = ctx.st.parent.take() {
            parent.child_stopped(self.id);
        }
        log::debug!("actor {label} stopped");
        self.shared.actor_stopped();
    }
}

impl<A: Actor> Runnable for Cell<A> {
    fn run(self: Arc<Self>) {
        self.turn();
    }
}

impl<A: Actor> SendWaker for Cell<A> {
    fn wake(self: Arc<Self>, target: u64, _delivered: bool) {
        self.shared.waits.done(self.id, target);
        // A stopped sender needs no notice; the push is refused and uncounted.
        let _ = self.push_control(Control::Resumed);
    }
}

impl<A: Actor> AnyCell for Cell<A> {
    fn id(&self) -> u64 {
        self.id
    }
    fn label(&self) -> String {
        Cell::label(self)
    }
    fn is_root(&self) -> bool {
        self.is_root
    }
    fn running_on(&self) -> Option<usize> {
        if !self.mailbox.is_running() {
            return None;
        }
        // ORDERING: Relaxed; a diagnostic read.
        self.running_on.load(Ordering::Relaxed).checked_sub(1)
    }
    fn request_stop(self: Arc<Self>, reason: StopReason) {
        let _ = self.push_control(Control::Stop(reason));
    }
    fn child_stopped(self: Arc<Self>, child: u64) {
        let _ = self.push_control(Control::ChildStopped(child));
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// Turns a caught handler outcome into a failure, if it is one.
fn failure_of(
    outcome: Result<Result<(), crate::error::ActorError>, Box<dyn Any + Send>>,
) -> Option<Failure> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure::Error(e)),
        Err(p) => Some(Failure::Panic(panic_message(&*p))),
    }
}

/// The message of a caught panic payload.
pub(crate) fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
