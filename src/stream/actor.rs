//! The stage actor: runs one [`Stage`] between an upstream and a downstream, granting credit and spending it.
//!
//! # Protocol
//!
//! Every message ends with [`StageActor::pump`], which, in order:
//! 1. sends queued output downstream while it has credit;
//! 2. feeds the next input to the stage if no output is waiting (a buffer
//!    with a dropping overflow strategy feeds regardless, and sheds);
//! 3. once the upstream has ended and the input is used up, finishes the
//!    stage, sends the rest, then sends `End` and stops;
//! 4. grants upstream what the [`CreditWindow`] allows, counting input and
//!    waiting output as held, so input + output + credit outstanding stays
//!    within the stage's buffer.
//!
//! Cancel (from downstream or the handle) stops the stage at once and passes
//! upstream; a failure under [`ErrorPolicy::Stop`] passes `Fail` downstream
//! (which ends the sink with the error) and `Cancel` upstream.

use super::buffer::Overflow;
use super::clock::Clock;
use super::demand::{Credit, CreditWindow};
use super::error::{StreamError, panic_message};
use super::handle::StageCounters;
use super::link::{Down, StageMsg, Up};
use super::stage::{Emitter, ErrorPolicy, MakeStage, Stage};
use crate::sync::Arc;
use crate::{Actor, ActorError, Context, DeadLetterReason, Recipient};
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The settings of one stage actor.
#[derive(Clone)]
pub(super) struct StageSpec {
    pub(super) capacity: usize,
    pub(super) low: usize,
    pub(super) policy: ErrorPolicy,
    pub(super) overflow: Overflow,
}

pub(super) struct StageActor<I: Send + 'static, O: Send + 'static> {
    alive: Option<super::link::Alive>,
    make: MakeStage<I, O>,
    stage: Box<dyn Stage<I, O>>,
    spec: StageSpec,
    clock: Clock,
    counters: Arc<StageCounters>,
    down: Recipient<Down<O>>,
    up: Option<Recipient<Up>>,
    window: CreditWindow,
    credit: Credit,
    input: VecDeque<I>,
    output: VecDeque<O>,
    upstream_done: bool,
    finished: bool,
    done: bool,
}

impl<I: Send + 'static, O: Send + 'static> StageActor<I, O> {
    pub(super) fn new(
        make: MakeStage<I, O>,
        spec: StageSpec,
        clock: Clock,
        counters: Arc<StageCounters>,
        down: Recipient<Down<O>>,
    ) -> Self {
        StageActor {
            alive: None,
            stage: make(),
            make,
            window: CreditWindow::new(spec.capacity as u64, spec.low as u64),
            spec,
            clock,
            counters,
            down,
            up: None,
            credit: Credit::default(),
            input: VecDeque::new(),
            output: VecDeque::new(),
            upstream_done: false,
            finished: false,
            done: false,
        }
    }

    fn sheds(&self) -> bool {
        self.spec.overflow != Overflow::Backpressure
    }

    /// Runs one call into the stage under the error policy, at `now` (or the
    /// clock's time). `element` says an element was consumed by the call (so
    /// a failure drops it).
    fn call(
        &mut self,
        ctx: &mut Context<Self>,
        element: bool,
        now: Option<std::time::Instant>,
        f: impl FnOnce(&mut dyn Stage<I, O>, &mut Emitter<'_, O>) -> Result<(), ActorError>,
    ) {
        let mut out = Emitter::new(&mut self.output, &self.clock, now);
        let stage = &mut *self.stage;
        let outcome = match catch_unwind(AssertUnwindSafe(|| f(stage, &mut out))) {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(p) => Some(format!("panicked: {}", panic_message(&*p))),
        };
        let completed = out.completed();
        if let Some(reason) = outcome {
            self.failed(ctx, element, reason);
        }
        if completed && !self.upstream_done {
            self.upstream_done = true;
            self.input.clear();
            if let Some(up) = self.up.take() {
                let _ = ctx.send(&up, Up::Cancel);
            }
        }
    }

    fn failed(&mut self, ctx: &mut Context<Self>, element: bool, reason: String) {
        let name = &self.counters.name;
        match self.spec.policy {
            ErrorPolicy::Resume | ErrorPolicy::Restart => {
                if element {
                    log::warn!("stream stage {name} dropped an element: {reason}");
                    ctx.dead_letter(&ctx.addr(), DeadLetterReason::HandlerFailed);
                    self.counters.count_dropped();
                } else {
                    log::warn!("stream stage {name} failed: {reason}");
                }
                if self.spec.policy == ErrorPolicy::Restart {
                    log::info!("stream stage {name} restarts with fresh state");
                    self.counters.count_restart();
                    self.stage = (self.make)();
                }
            }
            ErrorPolicy::Stop => {
                log::error!("stream stage {name} failed, stopping the stream: {reason}");
                if element {
                    ctx.dead_letter(&ctx.addr(), DeadLetterReason::HandlerFailed);
                    self.counters.count_dropped();
                }
                let stage = name.clone();
                self.fail(ctx, StreamError::Failed { stage, reason });
            }
        }
    }

    /// Ends the stream with `err`: downstream learns it, upstream is cancelled.
    fn fail(&mut self, ctx: &mut Context<Self>, err: StreamError) {
        let _ = ctx.send(&self.down, Down::Fail(err));
        self.cancel(ctx);
    }

    /// Stops this stage and everything upstream of it.
    fn cancel(&mut self, ctx: &mut Context<Self>) {
        if let Some(up) = self.up.take() {
            let _ = ctx.send(&up, Up::Cancel);
        }
        self.input.clear();
        self.output.clear();
        self.done = true;
        ctx.stop();
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        while !self.done {
            while !self.output.is_empty() && self.credit.take() {
                let x = self.output.pop_front().expect("checked non-empty");
                if ctx.send(&self.down, Down::Elem(x)).is_err() {
                    // Downstream is gone (cancelled): so is the stream.
                    self.cancel(ctx);
                    return;
                }
                self.counters.count_out();
            }
            if !self.output.is_empty() && !self.sheds() {
                break;
            }
            if self.stage.ready()
                && let Some(x) = self.input.pop_front()
            {
                self.call(ctx, true, None, |s, out| s.push(x, out));
                if self.sheds() && self.output.len() > self.spec.capacity {
                    self.overflowed(ctx);
                }
                continue;
            }
            if self.upstream_done && self.input.is_empty() {
                if !self.finished {
                    self.finished = true;
                    self.call(ctx, false, None, |s, out| s.finish(out));
                    continue;
                }
                if self.output.is_empty() {
                    let _ = ctx.send(&self.down, Down::End);
                    self.done = true;
                    ctx.stop();
                }
            }
            break;
        }
        self.grant(ctx);
    }

    /// A shedding buffer holds one more than its size.
    fn overflowed(&mut self, ctx: &mut Context<Self>) {
        match self.spec.overflow {
            Overflow::DropOldest => {
                self.output.pop_front();
            }
            Overflow::DropNewest => {
                self.output.pop_back();
            }
            Overflow::Fail => {
                let stage = self.counters.name.clone();
                log::error!("stream buffer {stage} overflowed");
                self.fail(ctx, StreamError::Overflow { stage });
                return;
            }
            Overflow::Backpressure => return,
        }
        ctx.dead_letter(&ctx.addr(), DeadLetterReason::Shed);
        self.counters.count_dropped();
    }

    fn grant(&mut self, ctx: &mut Context<Self>) {
        if self.done || self.upstream_done {
            return;
        }
        let Some(up) = &self.up else { return };
        let held = if self.sheds() {
            self.input.len()
        } else {
            self.input.len() + self.output.len()
        };
        let n = self.window.grant(held as u64);
        if n > 0 {
            let up = up.clone();
            let _ = ctx.send(&up, Up::Demand(n));
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Actor for StageActor<I, O> {
    type Msg = StageMsg<I>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.alive = None;
    }

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        if let Some(period) = self.stage.tick_every() {
            self.clock.every(ctx, period, StageMsg::Tick);
        }
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: StageMsg<I>) -> Result<(), ActorError> {
        if self.done {
            return Ok(());
        }
        match msg {
            StageMsg::Wire(up) => self.up = Some(up),
            StageMsg::Down(Down::Elem(x)) => {
                if self.window.received().is_err() {
                    log::error!(
                        "stream stage {} got an element without credit",
                        self.counters.name
                    );
                    debug_assert!(false, "stream credit overrun");
                }
                self.counters.count_in();
                if !self.upstream_done {
                    self.input.push_back(x);
                }
            }
            StageMsg::Down(Down::End) => self.upstream_done = true,
            StageMsg::Down(Down::Fail(e)) => {
                let _ = ctx.send(&self.down, Down::Fail(e));
                self.cancel(ctx);
            }
            StageMsg::Up(Up::Demand(n)) => self.credit.add(n),
            StageMsg::Up(Up::Cancel) => self.cancel(ctx),
            StageMsg::Tick(at) => {
                // Input that arrived before the tick belongs before it.
                while self.stage.ready()
                    && let Some(x) = self.input.pop_front()
                {
                    self.call(ctx, true, None, |s, out| s.push(x, out));
                }
                self.call(ctx, false, Some(at), |s, out| s.tick(out));
            }
        }
        self.pump(ctx);
        Ok(())
    }
}

impl<I: Send + 'static, O: Send + 'static> super::link::Tracked for StageActor<I, O> {
    fn track(&mut self, alive: super::link::Alive) {
        self.alive = Some(alive);
    }
}
