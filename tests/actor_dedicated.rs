//! Actors on dedicated threads: blocking handlers leave the pool to the others, with the pool's semantics kept.

mod common;

use common::{LIMIT, threads_named};
use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Blocks its thread for a while on every message (stands for blocking I/O).
struct Blocking {
    handled: Arc<AtomicU64>,
}

impl Actor for Blocking {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        std::thread::sleep(Duration::from_millis(20));
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Echo;

impl Actor for Echo {
    type Msg = (u32, Reply<u32>);
    fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
        let _ = r.send(n);
        Ok(())
    }
}

#[test]
fn blocking_actors_on_dedicated_threads_leave_the_pool_to_the_others() {
    common::init_log();
    let system = System::builder().workers(2).name("pinA").build().unwrap();
    let gate = Arc::new(common::Gate::new());
    let mut entered = Vec::new();
    for _ in 0..2 {
        let (entered_tx, entered_rx) = crossbeam_channel::unbounded();
        let g = gate.clone();
        let b = system
            .spawn_with(SpawnOptions::new().dedicated_thread(), move || {
                common::GateBlocker {
                    entered: entered_tx.clone(),
                    gate: g.clone(),
                }
            })
            .unwrap();
        for _ in 0..3 {
            b.tell(()).unwrap();
        }
        entered.push(entered_rx);
    }
    // Both blockers are inside a handler that does not return until the
    // gate opens: on the pool they would hold both workers.
    for e in &entered {
        e.recv_timeout(LIMIT).unwrap();
    }
    let echo = system.spawn(|| Echo).unwrap();
    for n in 0..10 {
        let answer = echo.ask(|r| (n, r), Duration::from_secs(2));
        assert_eq!(
            answer,
            Ok(n),
            "the pool actor answers while the others block"
        );
    }
    assert_eq!(threads_named("pinA-pin-"), 2);
    gate.open();
    system.shutdown_timeout(LIMIT).unwrap();
    assert_eq!(
        threads_named("pinA-pin-"),
        0,
        "the dedicated threads were joined"
    );
}

/// Counts what it handles; fails on 0.
struct Picky {
    handled: Arc<AtomicU64>,
}

impl Actor for Picky {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        if n == 0 {
            return Err("zero".into());
        }
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn a_dedicated_actor_has_the_pools_mailbox_failure_and_shutdown_semantics() {
    common::init_log();
    let system = System::builder().workers(1).name("pinB").build().unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let h = handled.clone();
    let options = SpawnOptions::new()
        .dedicated_thread()
        .mailbox_capacity(2)
        .name("picky");
    let picky = system
        .spawn_with(options, move || Picky { handled: h.clone() })
        .unwrap();
    // A blocking tell from outside waits for room in the small mailbox.
    for n in 1..=50 {
        picky.tell(n).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(handled.load(Ordering::SeqCst), 50);
    assert_eq!(system.metrics().messages_handled, 50);
    // Unsupervised, a failure stops it, its thread with it.
    picky.tell(0).unwrap();
    common::wait_until("it stopped", || !picky.is_alive());
    common::wait_until("its thread ended", || threads_named("pinB-pin-") == 0);
    system.shutdown_timeout(LIMIT).unwrap();
}

#[test]
fn shutdown_names_a_dedicated_actor_stuck_in_its_handler_and_its_thread() {
    let system = System::builder().workers(1).name("pinC").build().unwrap();
    let gate = Arc::new(common::Gate::new());
    let (entered_tx, entered) = crossbeam_channel::bounded(1);
    let g = gate.clone();
    let options = SpawnOptions::new().dedicated_thread().name("io");
    let io = system
        .spawn_with(options, move || common::GateBlocker {
            entered: entered_tx.clone(),
            gate: g.clone(),
        })
        .unwrap();
    io.tell(()).unwrap();
    entered.recv_timeout(LIMIT).unwrap();
    let err = system
        .shutdown_timeout(Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err.stuck().len(), 1, "{err}");
    assert_eq!(err.stuck()[0].actor, "io");
    assert!(err.stuck()[0].worker.starts_with("pinC-pin-"), "{err}");
    gate.open();
}

#[test]
fn a_child_spawned_by_a_handler_can_run_on_a_dedicated_thread() {
    // An ordinary child: it stops with its parent, and its thread is joined.
    struct Parent {
        child_handled: Arc<AtomicU64>,
    }
    impl Actor for Parent {
        type Msg = u64;
        fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
            let h = self.child_handled.clone();
            let child = ctx.spawn_with(SpawnOptions::new().dedicated_thread(), move || {
                Blocking { handled: h.clone() }
            })?;
            for _ in 0..n {
                child.tell(())?;
            }
            Ok(())
        }
    }
    let system = System::builder().workers(1).name("pinD").build().unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let h = handled.clone();
    let parent = system
        .spawn(move || Parent {
            child_handled: h.clone(),
        })
        .unwrap();
    parent.tell(3).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(handled.load(Ordering::SeqCst), 3);
    system.shutdown_timeout(LIMIT).unwrap();
    assert_eq!(threads_named("pinD-pin-"), 0);
}

/// Counts numbers in order.
struct Ordered {
    next: u64,
    in_order: bool,
}

impl Actor for Ordered {
    type Msg = (u64, Option<Reply<(u64, bool)>>);
    fn handle(&mut self, _: &mut Context<Self>, (n, report): Self::Msg) -> Result<(), ActorError> {
        if let Some(r) = report {
            let _ = r.send((self.next, self.in_order));
            return Ok(());
        }
        self.in_order &= n == self.next;
        self.next = n + 1;
        Ok(())
    }
}

/// On its own thread, tells a burst to a small pool actor from one handler.
struct Burst {
    to: playhouse::Addr<Ordered>,
}

impl Actor for Burst {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        for i in 0..n {
            self.to.tell((i, None))?;
        }
        Ok(())
    }
}

/// Reports the notice of the actor it watches.
struct Watcher {
    out: crossbeam_channel::Sender<playhouse::Terminated>,
}

impl Actor for Watcher {
    type Msg = WatcherMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, m: WatcherMsg) -> Result<(), ActorError> {
        match m {
            WatcherMsg::Watch(a) => ctx.watch(&a),
            WatcherMsg::Gone(t) => {
                let _ = self.out.send(t);
            }
        }
        Ok(())
    }
}

enum WatcherMsg {
    Watch(playhouse::Addr<Burst>),
    Gone(playhouse::Terminated),
}

impl From<playhouse::Terminated> for WatcherMsg {
    fn from(t: playhouse::Terminated) -> Self {
        WatcherMsg::Gone(t)
    }
}

#[test]
fn a_dedicated_actor_feels_backpressure_and_is_watched_as_any_other() {
    let system = System::builder().workers(1).name("pinE").build().unwrap();
    let ordered = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), || Ordered {
            next: 0,
            in_order: true,
        })
        .unwrap();
    let to = ordered.clone();
    let burst = system
        .spawn_with(SpawnOptions::new().dedicated_thread(), move || Burst {
            to: to.clone(),
        })
        .unwrap();
    let (out, notices) = crossbeam_channel::bounded(1);
    let watcher = system.spawn(move || Watcher { out: out.clone() }).unwrap();
    watcher.tell(WatcherMsg::Watch(burst.clone())).unwrap();
    // A hundred times the capacity from one handler: each full mailbox
    // suspends the dedicated actor, as `ctx.send` would, and nothing fails.
    burst.tell(200).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let report = ordered.ask(|r| (0, Some(r)), LIMIT).unwrap();
    assert_eq!(report, (200, true));
    burst.stop();
    let notice = notices.recv_timeout(LIMIT).expect("the watcher was told");
    assert_eq!(notice.id, burst.id());
    system.shutdown_timeout(LIMIT).unwrap();
    assert_eq!(threads_named("pinE-pin-"), 0);
}
