//! Starting, failing, halting for a restart, stopping for good, and watch notices.
//!
//! # Protocol
//!
//! 1. **Start.** A fresh instance is taken: from the factory (a supervised
//!    actor at every start, a named one at its only start), or as the spawner
//!    built it (see `Start`); then `started` runs. A factory's panic is a
//!    failure. A supervised actor then reports `Started` to its supervisor.
//! 2. **Failure** (a panic or `Err` from a handler, `started` or a
//!    continuation): the instance is dropped as it is (its `stopped` hook does
//!    not run). A supervised actor *halts*; any other actor *stops*.
//! 3. **Halt** (supervised actors only: after a failure, a `stop`, or a
//!    supervisor's `Halt`): the actor takes no user messages, which stay queued
//!    (senders feel backpressure, nothing is lost); its children stop; then its
//!    `stopped` hook runs (unless it failed), the instance is dropped, and it
//!    reports `Exited` to its supervisor, which answers `Start` or `Stop`. The
//!    mailbox and every address survive.
//! 4. **Stop** (for good): the user lane closes (queued and parked messages go to
//!    dead letters, blocked senders get theirs back); children stop, newest
//!    first for supervisors, each within its shutdown timeout or abandoned; then
//!    `stopped` runs, the mailbox closes, watchers get `Terminated`, and the
//!    parent gets `Stopped`.

use super::{Cell, ChildNotice, Command, Control, Envelope, Exit, StopReason};
use crate::actor::Actor;
use crate::actor::context::Context;
use crate::error::{AskError, Failure};
use crate::exit::{ExitReason, Terminated};
use crate::panic::panic_message;
use crate::runtime::DeadLetterReason;
use crate::sync::{Arc, Ordering};
use std::panic::{AssertUnwindSafe, catch_unwind};

impl<A: Actor> Cell<A> {
    /// Step 1: builds and starts a fresh instance.
    pub(super) fn start_instance(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>) {
        if ctx.st.live || ctx.st.winding_down() {
            // A parent's `restart_child` of a child that is not waiting for
            // one: nothing to do.
            log::debug!("actor {}: start while not waiting to start", self.label());
            return;
        }
        let made = if let Some(factory) = self.factory_for_start() {
            let made = catch_unwind(AssertUnwindSafe(&*factory)).map_err(|p| panic_message(&*p));
            // For an actor that starts only once this is the factory's last
            // reference, so its drop is user code.
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| drop(factory))) {
                let p = panic_message(&*p);
                log::error!("actor {}: dropping the factory panicked: {p}", self.label());
            }
            made
        } else if let Some(built) = actor.take() {
            // Built by the spawner.
            Ok(built)
        } else {
            let failed = ctx.st.rel().build_failed.take();
            debug_assert!(failed.is_some(), "an actor started twice without a factory");
            Err(failed.unwrap_or_else(|| "the actor has no instance to start".into()))
        };
        let mut fresh = match made {
            Ok(a) => a,
            Err(p) => return self.fail(actor, ctx, Failure::Panic(p)),
        };
        let restarted = ctx.st.halted().is_some();
        if restarted {
            ctx.st.rel().halted = None;
            self.shared.count_restart();
        }
        ctx.st.forget_dead_watched();
        // A suspension by `Context::suspend` belongs to the instance that
        // asked for it; a fresh instance starts taking messages. (Parked
        // sends stay counted: they are messages already on their way.)
        ctx.st.suspended = false;
        let started = catch_unwind(AssertUnwindSafe(|| fresh.started(ctx)));
        *actor = Some(fresh);
        ctx.st.live = true;
        if let Some(failure) = super::failure_of(started) {
            return self.fail(actor, ctx, failure);
        }
        if self.supervised
            && let Some(parent) = self.parent()
        {
            parent.notice(ChildNotice::Started(self.id, restarted));
        }
        self.after_handler(actor, ctx);
    }

    /// Step 2.
    pub(super) fn fail(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        failure: Failure,
    ) {
        self.shared.count_failure();
        if self.supervised {
            // Its parent decides what the failure calls for, and logs it with
            // that decision: one line per failure.
            log::debug!("actor {} {failure}; reporting to its parent", self.label());
        } else {
            log::error!("actor {} {failure}; stopping it", self.label());
        }
        self.end_failed(actor, ctx, ExitReason::Failed(failure.to_string()));
    }

    /// Step 2, for an instance that ended itself with a failing reason
    /// (`Context::exit`): it said why, so nothing is logged above debug.
    pub(super) fn exit_failed(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        reason: ExitReason,
    ) {
        log::debug!("actor {} exits: {reason:?}", self.label());
        self.end_failed(actor, ctx, reason);
    }

    fn end_failed(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        reason: ExitReason,
    ) {
        self.drop_instance(actor);
        ctx.st.live = false;
        let gave_up = reason == ExitReason::GaveUp;
        let desc = match reason {
            ExitReason::Failed(s) => s,
            other => format!("{other:?}"),
        };
        match (self.supervised, gave_up) {
            (true, true) => self.begin_halt(actor, ctx, Exit::GaveUp),
            (true, false) => self.begin_halt(actor, ctx, Exit::Failed(desc)),
            (false, true) => self.begin_stop(actor, ctx, StopReason::GaveUp),
            (false, false) => self.begin_stop(actor, ctx, StopReason::Failed(desc)),
        }
    }

    /// Step 3, first half.
    pub(super) fn begin_halt(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        exit: Exit,
    ) {
        if ctx.st.winding_down() || ctx.st.halted().is_some() {
            return;
        }
        if !ctx.st.live && exit == Exit::Halted {
            // Already down (it failed while the halt was on its way): its own
            // exit notice answers the supervisor.
            return;
        }
        log::debug!("actor {} halting ({exit:?})", self.label());
        ctx.st.live = false;
        for t in ctx.st.rel().timers.drain(..) {
            t.cancel();
        }
        ctx.st.rel().halting = Some(exit);
        self.stop_children(ctx);
        if ctx.st.rel().children.is_empty() {
            self.children_gone(actor, ctx);
        }
    }

    /// Step 3, second half: the children are gone.
    fn complete_halt(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>, exit: Exit) {
        self.run_stopped_hook(actor, ctx);
        self.drop_instance(actor);
        ctx.st.rel().halted = Some(exit.clone());
        if let Some(parent) = self.parent() {
            parent.notice(ChildNotice::Exited(self.id, exit));
        }
    }

    /// Step 4, first half.
    pub(super) fn begin_stop(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        reason: StopReason,
    ) {
        if reason == StopReason::Requested && self.supervised {
            // A supervised actor's exit is its supervisor's to judge (OTP: a
            // permanent child is restarted even after a normal exit).
            return self.begin_halt(actor, ctx, Exit::Normal);
        }
        if ctx.st.stopping().is_some() {
            return;
        }
        log::debug!("actor {} stopping ({reason:?})", self.label());
        ctx.st.rel().stopping = Some(reason);
        self.drop_user_lane();
        // A halt in progress becomes this stop: its children are already going.
        ctx.st.rel().halting = None;
        self.stop_children(ctx);
        if ctx.st.rel().children.is_empty() {
            self.children_gone(actor, ctx);
        }
    }

    /// Closes the user lane: queued and parked messages go to dead letters,
    /// their senders are released, blocked senders get theirs back.
    pub(super) fn drop_user_lane(&self) {
        let drained = self.mailbox.close_user();
        self.dead_letter_drained(drained.user, drained.parked, drained.resumes);
    }

    fn dead_letter_drained(
        &self,
        user: Vec<Envelope<A::Msg>>,
        parked: Vec<Envelope<A::Msg>>,
        mut resumes: crate::mailbox::Resumes,
    ) {
        let n = user.len() + parked.len();
        if n == 0 {
            return;
        }
        resumes.wake_all_dropped(self.id);
        let label = self.label();
        for env in user.into_iter().chain(parked) {
            self.dead_letter_envelope(&label, env);
        }
        self.shared.work_done(n);
    }

    pub(super) fn dead_letter_envelope(&self, label: &str, env: Envelope<A::Msg>) {
        if let Some(ask) = &env.ask {
            ask.fail(AskError::Closed);
        }
        self.shared
            .dead_letter::<A::Msg>(label, DeadLetterReason::Stopped);
        super::contain(|| label.to_string(), "dropping a dead letter", || drop(env));
    }

    /// Drops the instance (its `Drop` is user code).
    pub(super) fn drop_instance(&self, actor: &mut Option<A>) {
        if let Some(old) = actor.take() {
            super::contain(|| self.label(), "dropping the actor", || drop(old));
        }
    }

    /// Asks the children to stop: all at once, or one at a time, newest first.
    fn stop_children(self: &Arc<Self>, ctx: &mut Context<A>) {
        if self.ordered_stop {
            if ctx.st.rel().stopping_child.is_none() {
                self.stop_next_child(ctx);
            }
            return;
        }
        for child in ctx.st.rel().children.clone() {
            self.stop_child(child);
        }
    }

    fn stop_next_child(self: &Arc<Self>, ctx: &mut Context<A>) {
        if let Some(child) = ctx.st.rel().children.last().cloned() {
            ctx.st.rel().stopping_child = Some(child.id());
            self.stop_child(child);
        }
    }

    fn stop_child(self: &Arc<Self>, child: Arc<dyn super::AnyCell>) {
        let id = child.id();
        if let Some(timeout) = child.shutdown_timeout() {
            let me = self.clone();
            self.shared
                .timer
                .once(self.shared.timer.deadline_after(timeout), move || {
                    let _ = me.push_control(Control::ChildStopTimeout(id));
                });
        }
        child.command(Command::Stop(StopReason::Parent));
    }

    /// A child stopped for good.
    pub(super) fn child_gone(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        id: u64,
    ) {
        let before = ctx.st.rel().children.len();
        ctx.st.rel().children.retain(|c| c.id() != id);
        if ctx.st.rel().children.len() == before {
            return;
        }
        let winding_down = ctx.st.winding_down();
        if ctx.st.rel().stopping_child == Some(id) {
            ctx.st.rel().stopping_child = None;
            if winding_down {
                self.stop_next_child(ctx);
            }
        }
        if winding_down && ctx.st.rel().children.is_empty() {
            self.children_gone(actor, ctx);
        }
    }

    pub(super) fn child_stop_timeout(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        id: u64,
    ) {
        if let Some(child) = ctx.st.rel().children.iter().find(|c| c.id() == id) {
            log::error!(
                "actor {}: child {} did not stop within its shutdown timeout; abandoned",
                self.label(),
                child.label()
            );
            self.child_gone(actor, ctx, id);
        }
    }

    fn children_gone(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>) {
        if let Some(reason) = ctx.st.rel().stopping.clone() {
            self.finalize(actor, ctx, reason);
        } else if let Some(exit) = ctx.st.rel().halting.take() {
            self.complete_halt(actor, ctx, exit);
        }
    }

    fn run_stopped_hook(&self, actor: &mut Option<A>, ctx: &mut Context<A>) {
        if let Some(a) = actor.as_mut()
            && let Err(p) = catch_unwind(AssertUnwindSafe(|| a.stopped(ctx)))
        {
            log::error!(
                "actor {}: stopped hook panicked: {}",
                self.label(),
                panic_message(&*p)
            );
        }
    }

    /// Step 4, second half: the children are gone.
    fn finalize(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>, reason: StopReason) {
        self.run_stopped_hook(actor, ctx);
        self.drop_instance(actor);
        // What it kept for a restart that will not come (`Relations::carry`);
        // recipients in it may hold user closures, whose drops are user code.
        let carry = std::mem::take(&mut ctx.st.rel().carry);
        super::contain(
            || self.label(),
            "dropping what it kept for a restart",
            || drop(carry),
        );
        // The factory kept for restarts that will not come: what it captured
        // (a journal, a connection, a lock) goes now, not with the last
        // address, which a late reply or a caller may hold for long after.
        if let Some(extra) = self.extra.get() {
            let factory = extra.factory.lock().take();
            super::contain(|| self.label(), "dropping the factory", || drop(factory));
        }
        ctx.st.live = false;
        for t in ctx.st.rel().timers.drain(..) {
            t.cancel();
        }
        let drained = self.mailbox.close();
        let controls = drained.control.len();
        self.dead_letter_drained(drained.user, drained.parked, drained.resumes);
        // Continuations hold user closures: their drops are user code too.
        super::contain(
            || self.label(),
            "dropping a control item",
            || drop(drained.control),
        );
        self.shared.work_done(controls);
        ctx.st.dead = true;
        // ORDERING: Release pairs with the Acquire in `alive`: the closed mailbox
        // is visible to whoever sees the actor dead.
        self.alive.store(false, Ordering::Release);
        // ORDERING: Relaxed, see the field.
        self.shared
            .unregister(self.slot.load(Ordering::Relaxed), self.name());
        for watched in ctx.st.rel().watching.drain(..) {
            watched.remove_watcher(self.id);
        }
        let notice = Terminated {
            id: self.id,
            name: self.name().map(str::to_string),
            reason: exit_reason(&reason, ctx.st.halted()),
        };
        log::debug!("actor {} stopped: {:?}", self.label(), notice.reason);
        let reason = notice.reason.clone();
        self.end_watchers(notice);
        if let Some(parent) = self.take_parent() {
            parent.notice(ChildNotice::Stopped(self.id, reason));
        }
        self.shared.actor_stopped();
    }
}

/// Why an actor ended, as its watchers see it.
fn exit_reason(reason: &StopReason, halted: Option<&Exit>) -> ExitReason {
    match reason {
        StopReason::Requested => ExitReason::Normal,
        StopReason::Parent | StopReason::Shutdown => ExitReason::Shutdown,
        StopReason::Failed(s) => ExitReason::Failed(s.clone()),
        StopReason::GaveUp => ExitReason::GaveUp,
        StopReason::Decided => match halted {
            Some(Exit::Failed(s)) => ExitReason::Failed(s.clone()),
            Some(Exit::GaveUp) => ExitReason::GaveUp,
            Some(Exit::Halted) => ExitReason::Shutdown,
            Some(Exit::Normal) | None => ExitReason::Normal,
        },
    }
}
