//! Backpressure inside the pool: a chain of small mailboxes fed from outside never loses, reorders or deadlocks.

mod common;

use common::{BlocksOnZero, Gate, LIMIT};
use playhouse::{Actor, ActorError, Addr, AskError, Context, Reply, SpawnOptions, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

enum Msg {
    Item(u64),
    Report(Reply<(u64, bool)>),
}

/// Forwards every item to the next stage with `ctx.send`.
struct Relay {
    next: Addr<Sink>,
}

struct Relay2 {
    next: Addr<Relay>,
}

struct Sink {
    expected: u64,
    in_order: bool,
}

impl Actor for Relay2 {
    type Msg = u64;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        ctx.send(&self.next, n).map_err(|e| e.to_string().into())
    }
}

impl Actor for Relay {
    type Msg = u64;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        ctx.send(&self.next, Msg::Item(n))
            .map_err(|e| e.to_string().into())
    }
}

impl Actor for Sink {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Item(n) => {
                if n != self.expected {
                    self.in_order = false;
                }
                self.expected = n + 1;
            }
            Msg::Report(r) => {
                let _ = r.send((self.expected, self.in_order));
            }
        }
        Ok(())
    }
}

fn chain_delivers_everything_in_order(workers: usize) {
    common::init_log();
    const N: u64 = 100_000;
    let system = System::builder().workers(workers).build().unwrap();
    let small = || SpawnOptions::new().mailbox_capacity(2);
    let sink = system
        .spawn_with(small(), || Sink {
            expected: 0,
            in_order: true,
        })
        .unwrap();
    let s = sink.clone();
    let middle = system
        .spawn_with(small(), move || Relay { next: s.clone() })
        .unwrap();
    let m = middle.clone();
    let head = system
        .spawn_with(small(), move || Relay2 { next: m.clone() })
        .unwrap();
    for n in 0..N {
        head.tell(n).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();
    let (count, in_order) = sink.ask(Msg::Report, LIMIT).unwrap();
    assert_eq!(count, N, "items lost");
    assert!(in_order, "items reordered");
    assert_eq!(system.metrics().dead_letters, 0);
    assert!(head.is_alive() && middle.is_alive(), "a relay failed");
    system.shutdown().unwrap();
}

#[test]
fn chain_of_capacity_two_on_one_worker() {
    chain_delivers_everything_in_order(1);
}

#[test]
fn chain_of_capacity_two_on_two_workers() {
    chain_delivers_everything_in_order(2);
}

// Sends to self cannot fill the mailbox for good and starve parked senders.

enum TMsg {
    Loop(u32),
    Data,
    Seen(Reply<u32>),
}

struct Looper {
    data: u32,
}

impl Actor for Looper {
    type Msg = TMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: TMsg) -> Result<(), ActorError> {
        match msg {
            TMsg::Loop(n) if n > 0 => ctx.send(&ctx.addr(), TMsg::Loop(n - 1))?,
            TMsg::Loop(_) => {}
            TMsg::Data => self.data += 1,
            TMsg::Seen(r) => {
                let _ = r.send(self.data);
            }
        }
        Ok(())
    }
}

struct Feeder {
    target: Addr<Looper>,
    looping: Arc<AtomicU64>,
}

impl Actor for Feeder {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for _ in 0..4 {
            ctx.send(&self.target, TMsg::Data)?;
        }
        self.looping.store(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn sends_to_self_do_not_starve_other_senders() {
    let system = System::builder().workers(2).build().unwrap();
    let t = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(4), || Looper {
            data: 0,
        })
        .unwrap();
    // Eight self-posting loops, far more than the capacity, run for a long time.
    for _ in 0..8 {
        t.tell(TMsg::Loop(1_000_000)).unwrap();
    }
    let fed = Arc::new(AtomicU64::new(0));
    let (t2, f2) = (t.clone(), fed.clone());
    let feeder = system
        .spawn(move || Feeder {
            target: t2.clone(),
            looping: f2.clone(),
        })
        .unwrap();
    feeder.tell(()).unwrap();
    // The data gets in while the loops are still running.
    common::wait_until("the feeder's data arrived", || {
        t.ask(TMsg::Seen, LIMIT).unwrap() == 4
    });
    t.stop();
}

// A send to an actor of another system gets backpressure like any other
// (actor ids are unique in the process, so it is never taken for a send to
// self).

struct CrossSender(Addr<BlocksOnZero>);

impl Actor for CrossSender {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for n in 1..=10 {
            ctx.send(&self.0, n)?;
        }
        Ok(())
    }
}

#[test]
fn sends_across_systems_get_backpressure() {
    let s1 = System::builder().workers(1).build().unwrap();
    let s2 = System::builder().workers(1).build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let sink = s2
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), move || {
            BlocksOnZero(g.clone())
        })
        .unwrap();
    sink.tell(0).unwrap();
    common::wait_until("sink blocked", || sink.metrics().mailbox_len == 0);
    let sk = sink.clone();
    let sender = s1.spawn(move || CrossSender(sk.clone())).unwrap();
    assert_ne!(sender.id(), sink.id(), "ids are unique in the process");
    sender.tell(()).unwrap();
    s1.await_quiescent(LIMIT).unwrap();
    // 2 in the mailbox, the rest parked (counted in len, never over capacity).
    assert_eq!(sink.metrics().mailbox_len, 10);
    gate.open();
    s2.await_quiescent(LIMIT).unwrap();
    s1.await_quiescent(LIMIT).unwrap();
    assert_eq!(sink.metrics().messages_handled, 11);
}

// `Duration::MAX` timeouts mean no deadline.

#[test]
fn duration_max_means_no_deadline() {
    let system = System::builder()
        .workers(1)
        .shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    let a = system.spawn(|| Looper { data: 0 }).unwrap();
    assert_eq!(a.ask(TMsg::Seen, Duration::MAX), Ok(0));
    a.tell_timeout(TMsg::Data, Duration::MAX).unwrap();
    system.await_quiescent(Duration::MAX).unwrap();
    a.stop();
    common::wait_until("stopped", || !a.is_alive());
    assert_eq!(a.ask(TMsg::Seen, Duration::MAX), Err(AskError::Closed));
    drop(system);
}
