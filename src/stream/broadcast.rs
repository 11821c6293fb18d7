//! Broadcast: every element to each of several downstream branches, at the pace of the slowest.

use super::demand::{Credit, CreditWindow};
use super::handle::StageCounters;
use super::link::{Down, Up};
use crate::sync::Arc;
use crate::{Actor, ActorError, Context, Recipient};
use std::collections::VecDeque;

pub(super) enum BroadcastMsg<T> {
    Down(Down<T>),
    Wire(Recipient<Up>),
    Up(usize, Up),
}

/// One downstream branch; `None` once it cancelled (completed early or
/// failed), after which it is skipped.
struct Branch<T: Send + 'static> {
    down: Option<Recipient<Down<T>>>,
    credit: Credit,
}

pub(super) struct BroadcastActor<T: Send + 'static> {
    alive: Option<super::link::Alive>,
    branches: Vec<Branch<T>>,
    up: Option<Recipient<Up>>,
    window: CreditWindow,
    input: VecDeque<T>,
    counters: Arc<StageCounters>,
    upstream_done: bool,
    done: bool,
}

impl<T: Clone + Send + 'static> BroadcastActor<T> {
    pub(super) fn new(
        downs: Vec<Recipient<Down<T>>>,
        capacity: usize,
        counters: Arc<StageCounters>,
    ) -> Self {
        BroadcastActor {
            alive: None,
            branches: downs
                .into_iter()
                .map(|d| Branch {
                    down: Some(d),
                    credit: Credit::default(),
                })
                .collect(),
            up: None,
            window: CreditWindow::new(capacity as u64, capacity as u64 / 2),
            input: VecDeque::new(),
            counters,
            upstream_done: false,
            done: false,
        }
    }

    fn stop(&mut self, ctx: &mut Context<Self>, last: impl Fn() -> Down<T>) {
        for b in &mut self.branches {
            if let Some(d) = b.down.take() {
                let _ = ctx.send(&d, last());
            }
        }
        if let Some(up) = self.up.take() {
            let _ = ctx.send(&up, Up::Cancel);
        }
        self.done = true;
        ctx.stop();
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        let live = |b: &Branch<T>| b.down.is_some();
        if !self.branches.iter().any(live) {
            self.stop(ctx, || Down::End);
            return;
        }
        // An element goes out when every live branch has credit for it.
        while !self.input.is_empty()
            && self
                .branches
                .iter()
                .all(|b| b.down.is_none() || b.credit.available() > 0)
        {
            let x = self.input.pop_front().expect("checked non-empty");
            for b in &mut self.branches {
                if let Some(d) = &b.down {
                    let _ = b.credit.take();
                    let _ = ctx.send(d, Down::Elem(x.clone()));
                }
            }
            self.counters.count_out();
        }
        if self.upstream_done && self.input.is_empty() {
            self.stop(ctx, || Down::End);
            return;
        }
        if let Some(up) = self.up.clone() {
            let n = self.window.grant(self.input.len() as u64);
            if n > 0 {
                let _ = ctx.send(&up, Up::Demand(n));
            }
        }
    }
}

impl<T: Clone + Send + 'static> Actor for BroadcastActor<T> {
    type Msg = BroadcastMsg<T>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.alive = None;
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: BroadcastMsg<T>) -> Result<(), ActorError> {
        if self.done {
            return Ok(());
        }
        match msg {
            BroadcastMsg::Wire(up) => self.up = Some(up),
            BroadcastMsg::Down(Down::Elem(x)) => {
                if self.window.received().is_err() {
                    log::error!("stream broadcast got an element without credit");
                    debug_assert!(false, "stream credit overrun");
                }
                self.counters.count_in();
                self.input.push_back(x);
            }
            BroadcastMsg::Down(Down::End) => self.upstream_done = true,
            BroadcastMsg::Down(Down::Fail(e)) => {
                self.stop(ctx, || Down::Fail(e.clone()));
                return Ok(());
            }
            BroadcastMsg::Up(i, Up::Demand(n)) => self.branches[i].credit.add(n),
            BroadcastMsg::Up(i, Up::Cancel) => self.branches[i].down = None,
        }
        self.pump(ctx);
        Ok(())
    }
}

impl<T: Clone + Send + 'static> super::link::Tracked for BroadcastActor<T> {
    fn track(&mut self, alive: super::link::Alive) {
        self.alive = Some(alive);
    }
}
