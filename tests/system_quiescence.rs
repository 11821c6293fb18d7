//! Quiescence after cascades, fairness between a flooded actor and a quiet one, and waiting for quiescence from inside a handler.

mod common;

use common::{Gate, LIMIT};
use playhouse::{Actor, ActorError, Addr, Context, QuiescenceTimeout, Reply, SpawnOptions, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Each message of depth `d > 0` sends two of depth `d - 1` to its peers.
struct Fan {
    peers: Vec<Addr<Fan>>,
    total: Arc<AtomicU64>,
    turn: usize,
}

enum FMsg {
    Peers(Vec<Addr<Fan>>),
    Wave(u32),
}

impl Actor for Fan {
    type Msg = FMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: FMsg) -> Result<(), ActorError> {
        match msg {
            FMsg::Peers(p) => self.peers = p,
            FMsg::Wave(d) => {
                self.total.fetch_add(1, Ordering::Relaxed);
                if d > 0 {
                    for _ in 0..2 {
                        self.turn = (self.turn + 1) % self.peers.len();
                        ctx.send(&self.peers[self.turn], FMsg::Wave(d - 1))?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[test]
fn await_quiescent_returns_after_the_whole_cascade() {
    let total = Arc::new(AtomicU64::new(0));
    let system = System::builder().workers(2).build().unwrap();
    let fans: Vec<_> = (0..8)
        .map(|i| {
            let t = total.clone();
            system
                .spawn_with(SpawnOptions::new().mailbox_capacity(8), move || Fan {
                    peers: Vec::new(),
                    total: t.clone(),
                    turn: i,
                })
                .unwrap()
        })
        .collect();
    for f in &fans {
        f.tell(FMsg::Peers(fans.clone())).unwrap();
    }
    const DEPTH: u32 = 14;
    fans[0].tell(FMsg::Wave(DEPTH)).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    // Read right away: nothing may still be running.
    assert_eq!(total.load(Ordering::Relaxed), (1 << (DEPTH + 1)) - 1);
    let handled = system.metrics().messages_handled;
    assert_eq!(handled, (1 << (DEPTH + 1)) - 1 + 8);
    // Break the Addr cycle so the actors can be freed.
    for f in &fans {
        f.stop();
    }
}

#[test]
fn await_quiescent_times_out_while_work_is_stuck() {
    struct Block(Gate);
    impl Actor for Block {
        type Msg = ();
        fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
            self.0.wait();
            Ok(())
        }
    }
    let system = System::builder().workers(1).build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let b = system.spawn(move || Block(g.clone())).unwrap();
    b.tell(()).unwrap();
    let err = system
        .await_quiescent(std::time::Duration::from_millis(20))
        .unwrap_err();
    assert!(err.in_flight() >= 1);
    gate.open();
    system.await_quiescent(LIMIT).unwrap();
}

struct Flooded {
    gate: Gate,
    handled: Arc<AtomicU64>,
}

impl Actor for Flooded {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        if n == 0 {
            self.gate.wait();
        }
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Quiet {
    flooded_handled: Arc<AtomicU64>,
    seen_at: Arc<AtomicU64>,
}

impl Actor for Quiet {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        let n = self.flooded_handled.load(Ordering::SeqCst);
        self.seen_at.store(n, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn flooded_actor_does_not_starve_another_on_one_worker() {
    const FLOOD: u64 = 100_000;
    let system = System::builder().workers(1).build().unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let seen_at = Arc::new(AtomicU64::new(u64::MAX));
    let gate = Gate::new();
    let (g, h) = (gate.clone(), handled.clone());
    let flooded = system
        .spawn_with(
            SpawnOptions::new().mailbox_capacity(FLOOD as usize + 1),
            move || Flooded {
                gate: g.clone(),
                handled: h.clone(),
            },
        )
        .unwrap();
    let (h, s) = (handled.clone(), seen_at.clone());
    let quiet = system
        .spawn(move || Quiet {
            flooded_handled: h.clone(),
            seen_at: s.clone(),
        })
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    // Occupy the only worker, queue the flood, then the quiet actor's message.
    flooded.tell(0).unwrap();
    common::wait_until("the worker is blocked", || {
        flooded.metrics().mailbox_len == 0
    });
    for n in 1..=FLOOD {
        flooded.tell(n).unwrap();
    }
    quiet.tell(()).unwrap();
    gate.open();
    system.await_quiescent(LIMIT).unwrap();
    let at = seen_at.load(Ordering::SeqCst);
    assert_eq!(handled.load(Ordering::SeqCst), FLOOD + 1);
    assert!(
        at < FLOOD / 2,
        "the quiet actor ran only after {at} of {FLOOD} flood messages"
    );
}

/// Holds a share of its own system and waits for quiescence in a handler.
struct WaitsInside {
    system: Option<Arc<System>>,
    out: crossbeam_channel::Sender<Result<(), QuiescenceTimeout>>,
}

impl Actor for WaitsInside {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        let system = self.system.take().expect("one message");
        let waited = system.await_quiescent(LIMIT);
        drop(system);
        self.out.send(waited)?;
        Ok(())
    }
}

#[test]
fn await_quiescent_inside_a_handler_is_refused_at_once() {
    common::init_log();
    let system = Arc::new(System::builder().workers(2).build().unwrap());
    let (out, waited) = crossbeam_channel::bounded(1);
    let share = system.clone();
    let addr = system
        .spawn(move || WaitsInside {
            system: Some(share.clone()),
            out: out.clone(),
        })
        .unwrap();
    addr.tell(()).unwrap();
    // Waiting there would block the worker for the whole timeout (LIMIT) and
    // then fail anyway: the handler's own turn is in flight.
    let err = waited
        .recv_timeout(LIMIT)
        .expect("the handler answered")
        .expect_err("no quiescence inside a handler");
    assert!(
        err.called_from_worker(),
        "refused for the right reason: {err}"
    );
    assert!(err.to_string().contains("own workers"), "{err}");
    // The handler dropped its share before answering.
    let system = Arc::try_unwrap(system).unwrap_or_else(|_| panic!("the actor kept a share"));
    system.await_quiescent(LIMIT).unwrap();
    system.shutdown().unwrap();
}

// A cancelled timer entry that drops a `Reply` whose asker has stopped does
// not block `await_quiescent`.

enum BMsg {
    Req(Reply<u32>),
    Deferred(Reply<u32>),
}

struct Deferrer;

impl Actor for Deferrer {
    type Msg = BMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: BMsg) -> Result<(), ActorError> {
        match msg {
            BMsg::Req(r) => {
                let h = ctx.schedule_once(Duration::from_secs(20), BMsg::Deferred(r));
                h.cancel();
            }
            BMsg::Deferred(r) => drop(r.send(0)),
        }
        Ok(())
    }
}

struct Asker(Addr<Deferrer>);

impl Actor for Asker {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        ctx.ask(
            &self.0,
            BMsg::Req,
            Duration::from_secs(3600),
            |_: &mut Asker, _, _| {},
        )?;
        ctx.stop();
        Ok(())
    }
}

#[test]
fn quiescence_survives_a_cancelled_timer_dropping_a_reply() {
    let system = System::builder().workers(2).build().unwrap();
    let b = system.spawn(|| Deferrer).unwrap();
    let b2 = b.clone();
    let a = system.spawn(move || Asker(b2.clone())).unwrap();
    a.tell(()).unwrap();
    common::wait_until("asker stopped and request handled", || {
        !a.is_alive() && system.metrics().messages_handled == 2
    });
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::scope(|s| {
        s.spawn(|| {
            tx.send(system.await_quiescent(Duration::from_secs(2)))
                .unwrap()
        });
        let got = rx.recv_timeout(LIMIT).expect("await_quiescent deadlocked");
        assert!(got.is_ok());
    });
}
