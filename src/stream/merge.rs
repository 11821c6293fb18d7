//! Merge of several sources by priority, strict or weighted so that low priorities are not starved.

use super::demand::{Credit, CreditWindow};
use super::handle::StageCounters;
use super::link::{Down, Up};
use crate::sync::Arc;
use crate::{Actor, ActorError, Context, Recipient};
use std::collections::VecDeque;

/// How [`crate::stream::Source::merge`] chooses among inputs that all have
/// an element ready.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Fairness, Sink, Source};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// let urgent = Source::from_iter(vec!['U'; 4]);
/// let normal = Source::from_iter(vec!['n'; 4]);
/// // Strict: while the urgent input has elements ready, it goes first.
/// let out = Source::merge(vec![(2, urgent), (1, normal)], Fairness::Strict)
///     .to(Sink::collect())
///     .run(&system)?.wait(Duration::from_secs(5))?;
/// assert_eq!(out.iter().filter(|c| **c == 'U').count(), 4);
/// assert_eq!(out.len(), 8);
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fairness {
    /// Always the highest priority (ties: the earlier input). A busy high
    /// priority input can starve the others.
    #[default]
    Strict,
    /// Smooth weighted round robin with the priorities as weights: over any
    /// stretch where inputs stay ready, each gets a share of the output in
    /// proportion to its priority, evenly spread (priorities 3 and 1 give
    /// `H H L H`, repeating). Priorities must be at least 1.
    Weighted,
}

pub(super) enum MergeMsg<T> {
    In(usize, Down<T>),
    Wire(usize, Recipient<Up>),
    Up(Up),
}

struct Port<T> {
    priority: u32,
    input: VecDeque<T>,
    window: CreditWindow,
    up: Option<Recipient<Up>>,
    ended: bool,
    /// The smooth round robin's running weight.
    current: i64,
}

pub(super) struct MergeActor<T: Send + 'static> {
    alive: Option<super::link::Alive>,
    ports: Vec<Port<T>>,
    fairness: Fairness,
    down: Recipient<Down<T>>,
    credit: Credit,
    counters: Arc<StageCounters>,
    done: bool,
}

impl<T: Send + 'static> MergeActor<T> {
    pub(super) fn new(
        priorities: &[u32],
        fairness: Fairness,
        capacity: usize,
        down: Recipient<Down<T>>,
        counters: Arc<StageCounters>,
    ) -> Self {
        let ports = priorities
            .iter()
            .map(|&priority| Port {
                priority,
                input: VecDeque::new(),
                window: CreditWindow::new(capacity as u64, capacity as u64 / 2),
                up: None,
                ended: false,
                current: 0,
            })
            .collect();
        MergeActor {
            alive: None,
            ports,
            fairness,
            down,
            credit: Credit::default(),
            counters,
            done: false,
        }
    }

    /// The port to take from next, among those with an element waiting.
    fn pick(&mut self) -> Option<usize> {
        let ready = self
            .ports
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.input.is_empty());
        match self.fairness {
            Fairness::Strict => ready
                .max_by_key(|(i, p)| (p.priority, std::cmp::Reverse(*i)))
                .map(|(i, _)| i),
            Fairness::Weighted => {
                let ready: Vec<usize> = ready.map(|(i, _)| i).collect();
                let total: i64 = ready
                    .iter()
                    .map(|&i| i64::from(self.ports[i].priority))
                    .sum();
                for &i in &ready {
                    self.ports[i].current += i64::from(self.ports[i].priority);
                }
                let best = ready
                    .iter()
                    .copied()
                    .max_by_key(|&i| (self.ports[i].current, std::cmp::Reverse(i)))?;
                self.ports[best].current -= total;
                Some(best)
            }
        }
    }

    fn cancel_all(&mut self, ctx: &mut Context<Self>) {
        for p in &mut self.ports {
            if let Some(up) = p.up.take() {
                let _ = ctx.send(&up, Up::Cancel);
            }
            p.input.clear();
        }
        self.done = true;
        ctx.stop();
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        while !self.done && self.credit.available() > 0 {
            let Some(i) = self.pick() else { break };
            let x = self.ports[i]
                .input
                .pop_front()
                .expect("picked a ready port");
            let _ = self.credit.take();
            if ctx.send(&self.down, Down::Elem(x)).is_err() {
                self.cancel_all(ctx);
                return;
            }
            self.counters.count_out();
        }
        if self.done {
            return;
        }
        if self.ports.iter().all(|p| p.ended && p.input.is_empty()) {
            let _ = ctx.send(&self.down, Down::End);
            self.done = true;
            ctx.stop();
            return;
        }
        for p in &mut self.ports {
            // No grant before the port is wired: a credit counted as
            // outstanding must have been sent.
            let Some(up) = p.up.clone().filter(|_| !p.ended) else {
                continue;
            };
            let n = p.window.grant(p.input.len() as u64);
            if n > 0 {
                let _ = ctx.send(&up, Up::Demand(n));
            }
        }
    }
}

impl<T: Send + 'static> Actor for MergeActor<T> {
    type Msg = MergeMsg<T>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.alive = None;
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: MergeMsg<T>) -> Result<(), ActorError> {
        if self.done {
            return Ok(());
        }
        match msg {
            MergeMsg::Wire(i, up) => self.ports[i].up = Some(up),
            MergeMsg::In(i, Down::Elem(x)) => {
                let p = &mut self.ports[i];
                if p.window.received().is_err() {
                    log::error!("stream merge got an element without credit");
                    debug_assert!(false, "stream credit overrun");
                }
                self.counters.count_in();
                p.input.push_back(x);
            }
            MergeMsg::In(i, Down::End) => {
                self.ports[i].ended = true;
                self.ports[i].up = None;
            }
            MergeMsg::In(_, Down::Fail(e)) => {
                let _ = ctx.send(&self.down, Down::Fail(e));
                self.cancel_all(ctx);
                return Ok(());
            }
            MergeMsg::Up(Up::Demand(n)) => self.credit.add(n),
            MergeMsg::Up(Up::Cancel) => {
                self.cancel_all(ctx);
                return Ok(());
            }
        }
        self.pump(ctx);
        Ok(())
    }
}

impl<T: Send + 'static> super::link::Tracked for MergeActor<T> {
    fn track(&mut self, alive: super::link::Alive) {
        self.alive = Some(alive);
    }
}
