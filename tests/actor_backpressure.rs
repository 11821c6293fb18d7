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

/// Forwards each burst with plain `tell`s on the address (and a recipient)
/// instead of `ctx.send`, reporting any error.
struct TellingRelay {
    next: Addr<Sink>,
    errors: crossbeam_channel::Sender<String>,
}

impl Actor for TellingRelay {
    type Msg = std::ops::Range<u64>;
    fn handle(&mut self, _: &mut Context<Self>, burst: Self::Msg) -> Result<(), ActorError> {
        let recipient = self.next.recipient_with(Msg::Item);
        for n in burst {
            let sent = if n % 2 == 0 {
                self.next.tell(Msg::Item(n)).map_err(|e| e.to_string())
            } else {
                recipient.tell(n).map_err(|e| e.to_string())
            };
            if let Err(e) = sent {
                let _ = self.errors.send(e);
            }
        }
        Ok(())
    }
}

#[test]
fn tell_inside_a_handler_suspends_like_ctx_send_instead_of_failing() {
    for workers in [1, 2] {
        let system = System::builder().workers(workers).build().unwrap();
        let sink = system
            .spawn_with(SpawnOptions::new().mailbox_capacity(4), || Sink {
                expected: 0,
                in_order: true,
            })
            .unwrap();
        let (errors_tx, errors) = crossbeam_channel::unbounded();
        let next = sink.clone();
        let relay = system
            .spawn(move || TellingRelay {
                next: next.clone(),
                errors: errors_tx.clone(),
            })
            .unwrap();
        // Bursts many times the sink's capacity, from one handler call each.
        for burst in 0..10 {
            relay.tell(burst * 100..(burst + 1) * 100).unwrap();
        }
        system.await_quiescent(LIMIT).unwrap();
        let got: Vec<String> = errors.try_iter().collect();
        assert!(got.is_empty(), "tell failed inside a handler: {got:?}");
        let (next, in_order) = sink.ask(Msg::Report, LIMIT).unwrap();
        assert_eq!((next, in_order), (1000, true), "{workers} workers");
        system.shutdown().unwrap();
    }
}

#[test]
fn a_low_watermark_not_below_the_capacity_is_refused_at_spawn() {
    let system = System::builder().workers(1).build().unwrap();
    for low in [4, 5] {
        let err = system
            .spawn_with(
                SpawnOptions::new().mailbox_capacity(4).low_watermark(low),
                || Sink {
                    expected: 0,
                    in_order: true,
                },
            )
            .unwrap_err();
        match err {
            playhouse::SpawnError::Config(e) => {
                assert_eq!(e.setting(), Some("low watermark"), "{e}")
            }
            other => panic!("not a configuration error: {other}"),
        }
    }
    let ok = SpawnOptions::new().mailbox_capacity(4).low_watermark(3);
    system
        .spawn_with(ok, || Sink {
            expected: 0,
            in_order: true,
        })
        .unwrap();
    system.shutdown().unwrap();
}

/// Tells a full actor of another system from its handler and reports what
/// the call returned.
struct CrossTeller {
    to: Addr<Sink>,
    out: crossbeam_channel::Sender<Result<(), playhouse::SendError<Msg>>>,
}

impl Actor for CrossTeller {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        let _ = self.out.send(self.to.tell(Msg::Item(n)));
        Ok(())
    }
}

#[test]
fn tell_from_a_handler_of_another_system_to_a_full_mailbox_is_refused() {
    let theirs = System::builder().workers(1).build().unwrap();
    let gate = std::sync::Arc::new(common::Gate::new());
    let (entered_tx, entered) = crossbeam_channel::bounded(1);
    let g = gate.clone();
    // Their only worker is held, so the sink's one place stays taken.
    let blocker = theirs
        .spawn(move || common::GateBlocker {
            entered: entered_tx.clone(),
            gate: g.clone(),
        })
        .unwrap();
    blocker.tell(()).unwrap();
    entered.recv_timeout(LIMIT).unwrap();
    let sink = theirs
        .spawn_with(SpawnOptions::new().mailbox_capacity(1), || Sink {
            expected: 0,
            in_order: true,
        })
        .unwrap();
    sink.tell(Msg::Item(0)).unwrap();
    let ours = System::builder().workers(1).build().unwrap();
    let (out, answers) = crossbeam_channel::bounded(1);
    let teller = ours
        .spawn(move || CrossTeller {
            to: sink.clone(),
            out: out.clone(),
        })
        .unwrap();
    teller.tell(1).unwrap();
    let answer = answers.recv_timeout(LIMIT).unwrap();
    assert!(
        matches!(
            answer,
            Err(playhouse::SendError::WouldBlockWorker(Msg::Item(1)))
        ),
        "no actor of the sink's system runs here to suspend"
    );
    gate.open();
    ours.shutdown().unwrap();
    theirs.shutdown().unwrap();
}
