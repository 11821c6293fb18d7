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
