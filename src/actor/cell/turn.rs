//! One turn of an actor on a worker: take up to `throughput` items, control first.

use super::current::Current;
use super::{
    Cell, ChildNotice, Command, Control, Envelope, Exit, RunState, StopReason, TurnEnd, failure_of,
};
use crate::actor::Actor;
use crate::actor::context::{Context, CtxState, UNREGISTERED};
use crate::mailbox::{Idle, Popped};
use crate::reply::Handling;
use crate::runtime::DeadLetterReason;
use crate::sync::{Arc, Ordering};
use std::panic::{AssertUnwindSafe, catch_unwind};

impl<A: Actor> Cell<A> {
    /// One turn on worker `worker`: up to `throughput` items (the actor's
    /// own setting on threads; a simulation draws it per turn), then go idle
    /// or return [`TurnEnd::Again`] (the caller queues the actor again).
    #[inline]
    pub(super) fn turn(self: &Arc<Self>, worker: usize, throughput: usize) -> TurnEnd {
        self.mailbox.transition_to_running();
        // ORDERING: Relaxed; only read for shutdown's stuck report.
        self.running_on
            .store(u32::try_from(worker + 1).unwrap_or(0), Ordering::Relaxed);
        let (items, credit, user, drained, accept_user, dead) = self.run.with_mut(|run| {
            // SAFETY: this worker holds the actor's run token from the pop
            // that gave it this task (checked by `transition_to_running`
            // above) until `transition_to_idle` below,
            // after this closure: no other thread touches the run state
            // meanwhile (see the `Sync` impl on `Cell`).
            #[allow(unsafe_code)]
            let RunState { actor, st } = unsafe { &mut *run };
            // SAFETY: `ctx` is dropped inside this closure, while `self` is
            // borrowed by it, so the cell outlives the context.
            #[allow(unsafe_code)]
            let mut ctx = unsafe { Context::borrowing(self, st.take_out()) };
            // The units this worker kept from its earlier turns are this
            // turn's credit for its sends (see `Shared::turn_done`).
            ctx.credit.add(self.shared.turn_credit(worker));
            let (items, credit, user, drained, accept_user) =
                self.turn_items(actor, st, &mut ctx, throughput);
            // Nothing in it needs a drop (see the end of `turn_items`).
            std::mem::forget(ctx);
            (items, credit, user, drained, accept_user, st.dead)
        });

        // ORDERING: Relaxed; statistics, published to `await_quiescent` by
        // the decrement that gives back this turn's units (on this worker,
        // later). Only this turn writes it.
        let before = self.handled.load(Ordering::Relaxed);
        if user > 0 {
            self.handled.store(before + user, Ordering::Relaxed);
            self.shared.count_messages(worker, user);
        }
        // The items taken are uncounted only after their effects (sends) and
        // the counters above, so whoever sees quiescence sees both. They stay
        // with the worker, with the credit the sends did not use, as credit
        // for its next turns; the worker gives them back when it runs out of
        // work, so a busy worker leaves the shared counter alone (see
        // `Shared::turn_done` and `quiet.rs`).
        self.shared.turn_done(worker, items + credit);
        // ORDERING: Relaxed, as above.
        self.running_on.store(0, Ordering::Relaxed);
        // An actor that already handled messages in an earlier turn is likely
        // to get more: it keeps its lane's block while idle (one block, about
        // half a kilobyte) rather than free and allocate one per wake-up. An
        // actor told once, like most of a large fan-out, frees it.
        let keep_block = before > 0;
        match self
            .mailbox
            .transition_to_idle(accept_user, drained, keep_block)
        {
            Idle::Reschedule => TurnEnd::Again,
            Idle::Done if dead => TurnEnd::Ended,
            Idle::Done => TurnEnd::Idle,
        }
    }

    /// Registers an unnamed actor, on its first turn (see `Shared::spawn_cell`).
    /// Returns whether shutdown had already taken its list of actors to stop.
    fn register_first(self: &Arc<Self>) -> bool {
        // ORDERING: Relaxed, see the field.
        if self.slot.load(Ordering::Relaxed) != UNREGISTERED {
            return false;
        }
        let (slot, sealed) = self.shared.register(self.clone());
        // ORDERING: Relaxed, see the field.
        self.slot.store(slot, Ordering::Relaxed);
        sealed
    }

    /// The items of one turn: returns (items taken, in-flight credit left,
    /// user messages among them, whether the lanes were drained, whether user
    /// messages are accepted).
    fn turn_items(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        st: &mut CtxState<A>,
        ctx: &mut Context<A>,
        throughput: usize,
    ) -> (usize, usize, u64, bool, bool) {
        let mut wakers = crate::mailbox::Resumes::new();
        let mut items = 0;
        let mut user = 0;
        // A `tell` made by this turn's code parks like `ctx.send` (see
        // `current.rs`); its parked sends are folded in after each item.
        let waker = || Arc::clone(self) as Arc<dyn crate::mailbox::SendWaker>;
        let current = Current::new(self.id, &self.shared, &waker);
        let _entered = current.enter();
        let fold = |ctx: &mut Context<A>| {
            let parked = current.take_parked();
            if parked != 0 {
                ctx.st.parked_sends += parked;
            }
            ctx.st.holding = false;
        };
        if ctx.st.unstarted {
            ctx.st.unstarted = false;
            // The spawn counted this start in flight.
            items += 1;
            let sealed = self.register_first();
            self.start_instance(actor, ctx);
            fold(ctx);
            if sealed && self.is_root && !ctx.st.dead {
                // Shutdown took its list of actors to stop before this one
                // was on it: stop as that list's actors are stopped.
                self.begin_stop(actor, ctx, StopReason::Shutdown);
                // Its `stopped` hook may have sent.
                fold(ctx);
            }
        }
        let mut drained = false;
        while items < throughput && !ctx.st.dead {
            let Some((item, more)) = self.mailbox.pop_hinted(ctx.st.accepts_user(), &mut wakers)
            else {
                drained = true;
                break;
            };
            if !wakers.is_empty() {
                wakers.wake_all(self.id);
            }
            items += 1;
            match item {
                Popped::Control(c) => {
                    self.on_control(actor, ctx, c);
                    fold(ctx);
                }
                Popped::User(env) => {
                    user += 1;
                    self.on_message(actor, ctx, env);
                    fold(ctx);
                    // Nothing was behind this message and nothing is now: the
                    // turn is drained without another, empty, pop (anything
                    // that arrives from now on fails the idle transition's
                    // CAS, as after an empty pop).
                    if !more && self.mailbox.looks_empty() {
                        drained = true;
                        break;
                    }
                }
            }
        }
        // Every item is folded after it; this covers any code of the turn
        // that ran without one, so nothing held outlives the turn.
        fold(ctx);
        let accept_user = ctx.st.accepts_user();
        if !accept_user {
            // A handler suspended the actor (or it is winding down) after
            // the last pop: it gives back the places it holds now, as a pop
            // would, since it may stay suspended for long.
            self.mailbox.give_back(&mut wakers);
        }
        // Every waker collected must be woken, also those of the pop that
        // ended the loop: a parked send it moved in suspends its sender
        // until then.
        if !wakers.is_empty() {
            wakers.wake_all(self.id);
        }
        // Back in place of the empty state left in `*st` at the start, which
        // needs no drop here. Nor does the context that takes it away: its
        // cell is borrowed, its credit a plain number, and that state holds
        // nothing (checked in debug builds), so the caller forgets it rather
        // than drop it field by field on every turn.
        st.put_back(&mut ctx.st);
        let credit = ctx.credit.take_left() + current.take_credit();
        debug_assert!(
            ctx.st.holds_nothing(),
            "the state left behind was not empty"
        );
        (items, credit, user, drained, accept_user)
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
            let label = self.label();
            self.shared
                .dead_letter::<A::Msg>(&label, DeadLetterReason::AskerGone);
            super::contain(|| label, "dropping a dead letter", || drop(env));
            return;
        }
        let Some(a) = actor.as_mut() else {
            // User messages are taken only while an instance is live.
            debug_assert!(false, "user message without an instance");
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::Stopped);
            return;
        };
        let handling = env.ask.map(Handling::begin);
        let outcome = catch_unwind(AssertUnwindSafe(|| a.handle(ctx, env.msg)));
        let failure = failure_of(outcome);
        if let Some(h) = handling {
            h.finish(failure.is_some());
        }
        if let Some(failure) = failure {
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::HandlerFailed);
            self.fail(actor, ctx, failure);
        } else {
            self.after_handler(actor, ctx);
        }
    }

    /// Acts on a `Context::stop` made by the code that just ran: a flag
    /// test on every handler's return, the stop itself out of line.
    #[inline(always)]
    pub(super) fn after_handler(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>) {
        if ctx.st.stop_requested {
            self.on_stop_request(actor, ctx);
        }
    }

    #[cold]
    #[inline(never)]
    fn on_stop_request(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>) {
        ctx.st.stop_requested = false;
        match ctx.st.take_exit() {
            Some(reason) if reason.is_failure() => self.exit_failed(actor, ctx, reason),
            _ => self.begin_stop(actor, ctx, super::StopReason::Requested),
        }
    }

    fn on_control(self: &Arc<Self>, actor: &mut Option<A>, ctx: &mut Context<A>, item: Control<A>) {
        match item {
            Control::Command(Command::Start) => self.start_instance(actor, ctx),
            Control::Command(Command::Halt) => self.begin_halt(actor, ctx, super::Exit::Halted),
            Control::Command(Command::Stop(StopReason::Decided)) if ctx.st.halted().is_none() => {
                // The parent stopped a child that had not exited: it ends
                // as any child its parent stops.
                self.begin_stop(actor, ctx, StopReason::Parent)
            }
            Control::Command(Command::Stop(reason)) => self.begin_stop(actor, ctx, reason),
            Control::Resumed(sends) => {
                debug_assert!(ctx.st.parked_sends >= sends);
                ctx.st.parked_sends -= sends;
            }
            Control::Run(k) => {
                // Continuations belong to a live instance; one that outlived its
                // instance (halted for a restart, or stopping) is dropped.
                let Some(a) = actor.as_mut().filter(|_| ctx.st.live) else {
                    log::debug!(
                        "actor {}: continuation after its instance ended",
                        self.label()
                    );
                    return;
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| k(a, ctx)));
                if let Some(failure) = failure_of(outcome) {
                    self.fail(actor, ctx, failure);
                } else {
                    self.after_handler(actor, ctx);
                }
            }
            Control::Child(notice) => self.on_child_notice(actor, ctx, *notice),
            Control::ChildStopTimeout(id) => self.child_stop_timeout(actor, ctx, id),
        }
    }

    fn on_child_notice(
        self: &Arc<Self>,
        actor: &mut Option<A>,
        ctx: &mut Context<A>,
        notice: ChildNotice,
    ) {
        if let ChildNotice::Stopped(id, _) = notice {
            self.child_gone(actor, ctx, id);
        }
        if !ctx.st.live || ctx.st.winding_down() {
            // No instance to tell: a stopping parent stops its children
            // anyway, and a halted one is restarted or stopped with them. A
            // failure no parent will log is logged here.
            if let ChildNotice::Exited(id, Exit::Failed(why)) = &notice {
                log::warn!(
                    "actor {}: child #{id} failed while no instance could decide: {why}",
                    self.label()
                );
            }
            return;
        }
        let Some(a) = actor.as_mut() else { return };
        let event = notice.event();
        let outcome = catch_unwind(AssertUnwindSafe(|| a.on_child(ctx, event)));
        if let Some(failure) = failure_of(outcome) {
            self.fail(actor, ctx, failure);
        } else {
            self.after_handler(actor, ctx);
        }
    }
}
