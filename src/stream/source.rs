//! The source actor: pulls elements from an iterator, a queue, a channel or a clock, only as downstream credit allows.

use super::clock::Clock;
use super::demand::Credit;
use super::error::{StreamError, panic_message};
use super::handle::StageCounters;
use super::link::{Down, Up};
use crate::sync::Arc;
use crate::{Actor, ActorError, Context, Recipient};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// What one pull gave.
pub(super) enum Pulled<T> {
    Item(T),
    /// Nothing now; a `Wake` or a tick will come when there is.
    Pending,
    Done,
}

/// Where a source actor's elements come from.
pub(super) trait Pull<T>: Send + 'static {
    /// The next element, if there is one now. Called only with credit.
    fn pull(&mut self) -> Pulled<T>;
    /// Runs when the source actor starts (starts a forwarding thread).
    fn start(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
        let _ = wake;
    }
    /// The tick period, for a ticker.
    fn tick_every(&self) -> Option<Duration> {
        None
    }
    /// A tick of the stream clock.
    fn tick(&mut self, at: Instant) {
        let _ = at;
    }
}

pub(super) enum SourceMsg<T: Send + 'static> {
    Up(Up),
    /// Where to send, once the downstream is spawned, and the counters and
    /// alive token (for a source spawned before the pipeline starts).
    Wire(
        Recipient<Down<T>>,
        Option<(Arc<StageCounters>, Option<super::link::Alive>)>,
    ),
    /// Elements may be ready (a queue push, a channel forward).
    Wake,
    Tick(Instant),
    /// Answered at once: lets a pusher learn (from the ask's refusal) that
    /// it is on a pool worker, where it must not block.
    Probe(crate::Reply<()>),
}

pub(super) struct SourceActor<T: Send + 'static> {
    alive: Option<super::link::Alive>,
    pull: Box<dyn Pull<T>>,
    clock: Clock,
    counters: Option<Arc<StageCounters>>,
    down: Option<Recipient<Down<T>>>,
    credit: Credit,
    done: bool,
}

impl<T: Send + 'static> SourceActor<T> {
    pub(super) fn new(pull: Box<dyn Pull<T>>) -> Self {
        SourceActor {
            alive: None,
            pull,
            clock: Clock::System,
            counters: None,
            down: None,
            credit: Credit::default(),
            done: false,
        }
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        let Some(down) = self.down.clone() else {
            return;
        };
        while !self.done && self.credit.available() > 0 {
            let pulled = match catch_unwind(AssertUnwindSafe(|| self.pull.pull())) {
                Ok(p) => p,
                Err(p) => {
                    let reason = format!("panicked: {}", panic_message(&*p));
                    let stage = self.name();
                    log::error!("stream source {stage} failed: {reason}");
                    let _ = ctx.send(&down, Down::Fail(StreamError::Failed { stage, reason }));
                    self.stop(ctx);
                    return;
                }
            };
            match pulled {
                Pulled::Item(x) => {
                    let _ = self.credit.take();
                    if let Some(c) = &self.counters {
                        c.count_in();
                        c.count_out();
                    }
                    if ctx.send(&down, Down::Elem(x)).is_err() {
                        self.stop(ctx);
                    }
                }
                Pulled::Pending => return,
                Pulled::Done => {
                    let _ = ctx.send(&down, Down::End);
                    self.stop(ctx);
                }
            }
        }
    }

    fn name(&self) -> String {
        self.counters
            .as_ref()
            .map_or_else(|| "source".to_string(), |c| c.name.clone())
    }

    fn stop(&mut self, ctx: &mut Context<Self>) {
        self.done = true;
        ctx.stop();
    }

    pub(super) fn configure(&mut self, clock: Clock, counters: Arc<StageCounters>) {
        self.clock = clock;
        self.counters = Some(counters);
    }
}

impl<T: Send + 'static> Actor for SourceActor<T> {
    type Msg = SourceMsg<T>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.alive = None;
    }

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let addr = ctx.addr();
        self.pull.start(Box::new(move || {
            let _ = addr.try_tell(SourceMsg::Wake);
        }));
        if let Some(period) = self.pull.tick_every() {
            self.clock.every(ctx, period, SourceMsg::Tick);
        }
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: SourceMsg<T>) -> Result<(), ActorError> {
        if self.done {
            return Ok(());
        }
        match msg {
            SourceMsg::Up(Up::Demand(n)) => self.credit.add(n),
            SourceMsg::Up(Up::Cancel) => {
                self.stop(ctx);
                return Ok(());
            }
            SourceMsg::Wire(down, early) => {
                self.down = Some(down);
                if let Some((counters, alive)) = early {
                    self.counters = Some(counters);
                    self.alive = alive;
                }
            }
            SourceMsg::Wake => {}
            SourceMsg::Tick(at) => self.pull.tick(at),
            SourceMsg::Probe(r) => {
                let _ = r.send(());
            }
        }
        self.pump(ctx);
        Ok(())
    }
}

/// An iterator, pulled one element per credit.
pub(super) struct IterPull<I>(pub(super) I);

impl<I: Iterator + Send + 'static> Pull<I::Item> for IterPull<I> {
    fn pull(&mut self) -> Pulled<I::Item> {
        match self.0.next() {
            Some(x) => Pulled::Item(x),
            None => Pulled::Done,
        }
    }
}

/// Ticks of the stream clock: the tick's instant, while there is demand;
/// ticks without demand are skipped, not queued.
pub(super) struct TickPull {
    pub(super) period: Duration,
    pub(super) pending: Option<Instant>,
}

impl Pull<Instant> for TickPull {
    fn pull(&mut self) -> Pulled<Instant> {
        self.pending.take().map_or(Pulled::Pending, Pulled::Item)
    }
    fn tick_every(&self) -> Option<Duration> {
        Some(self.period)
    }
    fn tick(&mut self, at: Instant) {
        self.pending = Some(at);
    }
}

impl<T: Send + 'static> super::link::Tracked for SourceActor<T> {
    fn track(&mut self, alive: super::link::Alive) {
        self.alive = Some(alive);
    }
}
