//! Backpressure inside the pool: a chain of small mailboxes fed from outside never loses, reorders or deadlocks.

mod common;

use common::LIMIT;
use playhouse::{Actor, ActorError, Addr, Context, Reply, SpawnOptions, System};

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
