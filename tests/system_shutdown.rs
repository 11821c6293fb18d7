//! Shutdown: drains in-flight work, stops trees children-first, refuses late sends, joins every thread, abandons what a stuck worker strands, goes on on its own thread when called inside a handler or on another system's worker; stop via the control lane.

mod common;

use common::{BlocksOnZero, Gate, GateBlocker, LIMIT, Sink};
use playhouse::{Actor, ActorError, Addr, Context, SendError, ShutdownError, SpawnOptions, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Counter {
    handled: Arc<AtomicU64>,
    stops: Arc<Mutex<Vec<String>>>,
    label: String,
}

impl Actor for Counter {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, _: u64) -> Result<(), ActorError> {
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.stops.lock().unwrap().push(self.label.clone());
    }
}

#[test]
fn shutdown_drains_in_flight_messages_and_joins_every_thread() {
    common::init_log();
    let handled = Arc::new(AtomicU64::new(0));
    let stops = Arc::new(Mutex::new(Vec::new()));
    let system = System::builder().workers(2).name("sdA").build().unwrap();
    // A thread names itself as it starts, so wait for all three.
    common::wait_until("2 workers + 1 timer are up", || {
        common::threads_named("sdA-") == 3
    });
    let (h, s) = (handled.clone(), stops.clone());
    let addr = system
        .spawn(move || Counter {
            handled: h.clone(),
            stops: s.clone(),
            label: "counter".into(),
        })
        .unwrap();
    for n in 0..10_000 {
        addr.tell(n).unwrap();
    }
    system.shutdown().unwrap();
    assert_eq!(
        handled.load(Ordering::SeqCst),
        10_000,
        "queued work not drained"
    );
    assert_eq!(*stops.lock().unwrap(), vec!["counter".to_string()]);
    assert!(matches!(addr.tell(1), Err(SendError::Closed(1))));
    assert!(!addr.is_alive());
    // shutdown returned Ok, so every thread was joined; the kernel drops a
    // finished thread's entry from /proc a moment after the join.
    common::wait_until("no thread of the system is left", || {
        common::threads_named("sdA-") == 0
    });
}

#[test]
fn dropping_the_system_shuts_it_down() {
    let system = System::builder().workers(2).name("sdB").build().unwrap();
    common::wait_until("2 workers + 1 timer are up", || {
        common::threads_named("sdB-") == 3
    });
    drop(system);
    // The join has returned; the kernel drops a finished thread's entry from
    // /proc a moment later.
    common::wait_until("no thread of the system is left", || {
        common::threads_named("sdB-") == 0
    });
}

/// Spawns `depth` levels of children below itself, recording stop order.
struct Node {
    depth: u32,
    stops: Arc<Mutex<Vec<u32>>>,
}

impl Actor for Node {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        if self.depth > 0 {
            for _ in 0..2 {
                let (d, s) = (self.depth - 1, self.stops.clone());
                ctx.spawn(move || Node {
                    depth: d,
                    stops: s.clone(),
                })?;
            }
        }
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.stops.lock().unwrap().push(self.depth);
    }
}

#[test]
fn trees_stop_children_first() {
    let stops = Arc::new(Mutex::new(Vec::new()));
    let system = System::builder().workers(2).build().unwrap();
    let s = stops.clone();
    system
        .spawn(move || Node {
            depth: 2,
            stops: s.clone(),
        })
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 7);
    system.shutdown().unwrap();
    let order = stops.lock().unwrap().clone();
    assert_eq!(order.len(), 7);
    // Every node stops after all of its descendants: depths never decrease... by
    // level: the root (2) is last, and each depth-1 node comes after two leaves.
    assert_eq!(*order.last().unwrap(), 2);
    let mut leaves = 0;
    for d in &order[..6] {
        match d {
            0 => leaves += 1,
            1 => {
                assert!(
                    leaves >= 2,
                    "a parent stopped before its children: {order:?}"
                );
                leaves -= 2;
            }
            _ => panic!("root stopped early: {order:?}"),
        }
    }
}

struct Blocker {
    gate: Gate,
}

impl Actor for Blocker {
    type Msg = u32;
    fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
        if n == 0 {
            self.gate.wait();
        }
        Ok(())
    }
}

#[test]
fn stop_passes_a_full_mailbox_and_returns_blocked_senders_messages() {
    let letters = Arc::new(AtomicU64::new(0));
    let l = letters.clone();
    let system = System::builder()
        .workers(1)
        .on_dead_letter(move |_| {
            l.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let addr = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), move || Blocker {
            gate: g.clone(),
        })
        .unwrap();
    addr.tell(0).unwrap();
    common::wait_until("the actor is blocked", || addr.metrics().mailbox_len == 0);
    addr.tell(1).unwrap();
    addr.tell(2).unwrap();
    let senders: Vec<_> = (3..5)
        .map(|n| {
            let addr = addr.clone();
            std::thread::spawn(move || addr.tell(n))
        })
        .collect();
    // Both senders are parked on the full mailbox; stop goes through anyway.
    addr.stop();
    gate.open();
    let mut returned: Vec<u32> = senders
        .into_iter()
        .map(|s| match s.join().unwrap() {
            Err(SendError::Closed(n)) => n,
            other => panic!("blocked sender got {other:?}"),
        })
        .collect();
    returned.sort_unstable();
    assert_eq!(returned, vec![3, 4]);
    common::wait_until("the actor stopped", || !addr.is_alive());
    assert_eq!(letters.load(Ordering::SeqCst), 2, "the two queued messages");
    system.shutdown_timeout(LIMIT).unwrap();
}

struct Stuck {
    gate: Gate,
}

impl Actor for Stuck {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        self.gate.wait();
        Ok(())
    }
}

#[test]
fn shutdown_timeout_names_a_stuck_actor_and_its_worker() {
    let system = System::builder().workers(1).name("sdC").build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let addr = system
        .spawn_with(SpawnOptions::new().name("sleeper"), move || Stuck {
            gate: g.clone(),
        })
        .unwrap();
    addr.tell(()).unwrap();
    common::wait_until("the handler is running", || addr.metrics().mailbox_len == 0);
    let err = system
        .shutdown_timeout(std::time::Duration::from_millis(100))
        .unwrap_err();
    assert_eq!(err.stuck().len(), 1, "{err}");
    assert_eq!(err.stuck()[0].actor, "sleeper");
    assert_eq!(err.stuck()[0].worker, "sdC-worker-0");
    // Release the detached worker so the process can exit cleanly.
    gate.open();
}

#[test]
fn a_shutdown_out_of_time_abandons_an_actor_whose_first_turn_never_came() {
    let (letters_tx, letters) = crossbeam_channel::unbounded();
    let system = System::builder()
        .workers(1)
        .on_dead_letter(move |d| {
            let _ = letters_tx.send(d.recipient.clone());
        })
        .build()
        .unwrap();
    let gate = Arc::new(Gate::new());
    let (entered_tx, entered) = crossbeam_channel::bounded(1);
    let g = gate.clone();
    let blocker = system
        .spawn(move || GateBlocker {
            entered: entered_tx.clone(),
            gate: g.clone(),
        })
        .unwrap();
    blocker.tell(()).unwrap();
    entered.recv_timeout(LIMIT).unwrap();
    // The only worker is stuck, so this actor never has its first turn (the
    // one that would register it), and its message stays queued.
    let sink = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(1), || Sink)
        .unwrap();
    sink.tell(1).unwrap();
    let result = system.shutdown_timeout(Duration::from_millis(300));
    assert!(result.is_err(), "the blocker's handler was stuck");
    // Abandoned before `shutdown_timeout` returned, with the handler still
    // stuck: the queued message is a dead letter (the hook ran on this
    // thread), and the lane is closed.
    let letter = letters
        .try_recv()
        .expect("the queued message was dead-lettered");
    assert!(letter.starts_with('#'), "the unnamed sink's: {letter}");
    assert_eq!(sink.tell(2), Err(SendError::Closed(2)));
    gate.open();
}

/// Counts its messages, each after waiting at the gate (open once, it stays
/// open), and records its stop.
struct Held {
    gate: Arc<Gate>,
    handled: Arc<AtomicU64>,
    stops: Arc<Mutex<Vec<String>>>,
}

impl Actor for Held {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, _: u64) -> Result<(), ActorError> {
        self.gate.wait();
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.stops.lock().unwrap().push("held".into());
    }
}

/// Shuts a system (its own, or another) down from a handler and reports what
/// the call returned.
struct ShutsDown {
    system: Arc<Mutex<Option<System>>>,
    out: crossbeam_channel::Sender<Result<(), ShutdownError>>,
}

impl Actor for ShutsDown {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        let system = self.system.lock().unwrap().take().expect("one message");
        self.out.send(system.shutdown())?;
        Ok(())
    }
}

/// A [`Held`] actor and what it reports.
struct HeldActor {
    addr: Addr<Held>,
    gate: Arc<Gate>,
    handled: Arc<AtomicU64>,
    stops: Arc<Mutex<Vec<String>>>,
}

fn spawn_held(system: &System) -> HeldActor {
    let gate = Arc::new(Gate::new());
    let handled = Arc::new(AtomicU64::new(0));
    let stops = Arc::new(Mutex::new(Vec::new()));
    let (g, h, s) = (gate.clone(), handled.clone(), stops.clone());
    let addr = system
        .spawn(move || Held {
            gate: g.clone(),
            handled: h.clone(),
            stops: s.clone(),
        })
        .unwrap();
    HeldActor {
        addr,
        gate,
        handled,
        stops,
    }
}

/// Spawns on `on` a [`ShutsDown`] for the system `slot` holds (or will hold
/// by the time it is told); its answer comes on the receiver.
fn spawn_stopper(
    on: &System,
    slot: Arc<Mutex<Option<System>>>,
) -> (
    Addr<ShutsDown>,
    crossbeam_channel::Receiver<Result<(), ShutdownError>>,
) {
    let (out, answer) = crossbeam_channel::bounded(1);
    let stopper = on
        .spawn(move || ShutsDown {
            system: slot.clone(),
            out: out.clone(),
        })
        .unwrap();
    (stopper, answer)
}

/// Tells the stopper to shut its system down and returns the error of a
/// shutdown that went on in the background without waiting.
fn shut_down_in_the_background(
    stopper: &Addr<ShutsDown>,
    answer: &crossbeam_channel::Receiver<Result<(), ShutdownError>>,
) -> ShutdownError {
    stopper.tell(()).unwrap();
    let err = answer
        .recv_timeout(LIMIT)
        .expect("the handler returned without waiting")
        .expect_err("a shutdown that cannot wait does not report success");
    assert!(err.continues_in_background(), "{err}");
    assert!(err.stuck().is_empty(), "{err}");
    err
}

#[test]
fn shutdown_inside_a_handler_goes_on_on_its_own_thread() {
    common::init_log();
    // Waiting inside the handler would block it for at least half of this
    // timeout (the drain, which its own turn keeps from finishing): longer
    // than the test waits for its answer.
    let system = System::builder()
        .workers(2)
        .name("sdH")
        .shutdown_timeout(2 * LIMIT)
        .build()
        .unwrap();
    common::wait_until("2 workers + 1 timer are up", || {
        common::threads_named("sdH-") == 3
    });
    let held = spawn_held(&system);
    for i in 0..10 {
        held.addr.tell(i).unwrap();
    }
    let slot = Arc::new(Mutex::new(None));
    let (stopper, answer) = spawn_stopper(&system, slot.clone());
    *slot.lock().unwrap() = Some(system);

    let err = shut_down_in_the_background(&stopper, &answer);
    assert!(err.to_string().contains("own workers"), "{err}");
    // The held actor's ten messages are all still queued behind the gate.
    assert_eq!(held.handled.load(Ordering::SeqCst), 0);
    held.gate.open();
    common::wait_until(
        "the shutdown's thread joined every worker and exited",
        || common::threads_named("sdH-") == 0,
    );
    assert_eq!(
        held.handled.load(Ordering::SeqCst),
        10,
        "queued work drained before the actors stopped"
    );
    assert_eq!(*held.stops.lock().unwrap(), vec!["held".to_string()]);
    assert_eq!(held.addr.tell(11), Err(SendError::Closed(11)));
}

#[test]
fn shutdown_on_another_systems_worker_goes_on_on_its_own_thread() {
    common::init_log();
    // System A has an actor blocked in its handler, so its drain cannot end
    // until the gate opens: waiting for it on B's only worker would block
    // that worker for at least half of A's timeout, longer than the test
    // waits for the answer.
    let a = System::builder()
        .workers(1)
        .name("sdOA")
        .shutdown_timeout(2 * LIMIT)
        .build()
        .unwrap();
    let b = System::builder().workers(1).name("sdOB").build().unwrap();
    common::wait_until("both systems' threads are up", || {
        common::threads_named("sdOA-") == 2 && common::threads_named("sdOB-") == 2
    });
    let held = spawn_held(&a);
    held.addr.tell(1).unwrap();
    let (stopper, answer) = spawn_stopper(&b, Arc::new(Mutex::new(Some(a))));

    let err = shut_down_in_the_background(&stopper, &answer);
    assert!(err.to_string().contains("another system"), "{err}");
    // B's only worker is free while A still drains: B's actors run.
    let b_handled = Arc::new(AtomicU64::new(0));
    let (bh, bs) = (b_handled.clone(), Arc::new(Mutex::new(Vec::new())));
    let counter = b
        .spawn(move || Counter {
            handled: bh.clone(),
            stops: bs.clone(),
            label: "b".into(),
        })
        .unwrap();
    counter.tell(1).unwrap();
    common::wait_until("B's actor ran while A drains", || {
        b_handled.load(Ordering::SeqCst) == 1
    });
    assert_eq!(
        held.handled.load(Ordering::SeqCst),
        0,
        "A's actor is still held"
    );
    held.gate.open();
    common::wait_until(
        "A's shutdown thread joined its worker and timer and exited",
        || common::threads_named("sdOA-") == 0,
    );
    assert_eq!(
        held.handled.load(Ordering::SeqCst),
        1,
        "A drained before stopping"
    );
    assert_eq!(*held.stops.lock().unwrap(), vec!["held".to_string()]);
    assert_eq!(held.addr.tell(2), Err(SendError::Closed(2)));
    b.shutdown().unwrap();
}

/// Holds a share of its own system and drops it in a handler.
struct DropsItsShare {
    system: Option<Arc<System>>,
    out: crossbeam_channel::Sender<()>,
}

impl Actor for DropsItsShare {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        drop(self.system.take());
        self.out.send(())?;
        Ok(())
    }
}

#[test]
fn dropping_the_last_share_of_the_system_inside_a_handler_shuts_it_down() {
    common::init_log();
    let system = Arc::new(
        System::builder()
            .workers(2)
            .name("sdI")
            .shutdown_timeout(2 * LIMIT)
            .build()
            .unwrap(),
    );
    let handled = Arc::new(AtomicU64::new(0));
    let stops = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (handled.clone(), stops.clone());
    let counter = system
        .spawn(move || Counter {
            handled: h.clone(),
            stops: s.clone(),
            label: "counter".into(),
        })
        .unwrap();
    let (out, dropped) = crossbeam_channel::bounded(1);
    let share = system.clone();
    let holder = system
        .spawn(move || DropsItsShare {
            system: Some(share.clone()),
            out: out.clone(),
        })
        .unwrap();
    // Once the holder has started, its factory (and the factory's share) is
    // gone: the test's share and the holder's are the only ones.
    common::wait_until("the holder started", || Arc::strong_count(&system) == 2);
    counter.tell(1).unwrap();
    drop(system);
    holder.tell(()).unwrap();

    dropped
        .recv_timeout(LIMIT)
        .expect("dropping the last share inside the handler did not block it");
    common::wait_until(
        "the shutdown's thread joined every worker and exited",
        || common::threads_named("sdI-") == 0,
    );
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    assert_eq!(*stops.lock().unwrap(), vec!["counter".to_string()]);
}

/// Posts to itself for ever: never quiescent.
struct Poller;

impl Actor for Poller {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        ctx.send(&ctx.addr(), ())?;
        Ok(())
    }
}

#[test]
fn shutdown_that_drops_queued_work_is_an_error_naming_the_busy_actor() {
    let system = System::builder().workers(1).build().unwrap();
    let poller = system
        .spawn_with(SpawnOptions::new().name("poller"), || Poller)
        .unwrap();
    poller.tell(()).unwrap();
    let err = system
        .shutdown_timeout(Duration::from_secs(1))
        .expect_err("the poller's last message went to dead letters");
    assert!(err.dead_letters() >= 1, "{err}");
    assert_eq!(err.busy(), ["poller"], "{err}");
    assert!(err.stuck().is_empty(), "{err}");
    assert!(err.abandoned().is_empty(), "it stopped when asked: {err}");
}

#[test]
fn shutdown_with_a_stuck_handler_returns_by_its_deadline() {
    let system = System::builder().workers(2).name("sdT").build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let addr = system
        .spawn_with(SpawnOptions::new().name("forever"), move || Stuck {
            gate: g.clone(),
        })
        .unwrap();
    addr.tell(()).unwrap();
    common::wait_until("the handler is running", || addr.metrics().mailbox_len == 0);
    let (done_tx, done) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = done_tx.send(system.shutdown_timeout(Duration::from_millis(100)));
    });
    // No fixed grace for a worker known to be stuck: the call returns
    // within its timeout and a small margin, far inside this bound.
    let err = done
        .recv_timeout(Duration::from_secs(1))
        .expect("shutdown returned by its deadline")
        .unwrap_err();
    assert_eq!(err.stuck().len(), 1, "{err}");
    assert_eq!(err.stuck()[0].actor, "forever");
    gate.open();
}

#[test]
fn a_zero_timeout_shutdown_names_the_actors_it_abandons() {
    let system = System::builder().workers(1).build().unwrap();
    let gate = Arc::new(Gate::new());
    let (entered_tx, entered) = crossbeam_channel::bounded(1);
    let g = gate.clone();
    let blocker = system
        .spawn_with(SpawnOptions::new().name("blocker"), move || GateBlocker {
            entered: entered_tx.clone(),
            gate: g.clone(),
        })
        .unwrap();
    blocker.tell(()).unwrap();
    entered.recv_timeout(LIMIT).unwrap();
    let waiting = system
        .spawn_with(SpawnOptions::new().name("waiting"), || Sink)
        .unwrap();
    waiting.tell(1).unwrap();
    let err = system.shutdown_timeout(Duration::ZERO).unwrap_err();
    for name in ["blocker", "waiting"] {
        assert!(err.abandoned().iter().any(|a| a == name), "{name}: {err}");
    }
    assert_eq!(err.dead_letters(), 1, "the waiting actor's message: {err}");
    assert_eq!(err.stuck()[0].actor, "blocker", "{err}");
    gate.open();
}

#[test]
fn shutdown_inside_a_handler_closes_intake_before_it_returns() {
    // The race the call used to lose (the thread it starts closing intake
    // later) shows up within a few rounds.
    for _ in 0..20 {
        let system = System::builder().workers(1).build().unwrap();
        let sink = system.spawn(|| Sink).unwrap();
        let slot = Arc::new(Mutex::new(None));
        let (stopper, answer) = spawn_stopper(&system, slot.clone());
        *slot.lock().unwrap() = Some(system);
        stopper.tell(()).unwrap();
        let returned = answer.recv_timeout(LIMIT).expect("the handler returned");
        assert!(returned.is_err());
        assert_eq!(sink.tell(7), Err(SendError::Closed(7)));
    }
}

// An actor that keeps posting to itself still stops within the shutdown
// timeout: the drain takes at most half of it.

struct CountingPoller(Arc<AtomicU64>);

impl Actor for CountingPoller {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        ctx.send(&ctx.addr(), ())?;
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_never_idle_actor_still_stops_within_the_shutdown_timeout() {
    let stopped = Arc::new(AtomicU64::new(0));
    let system = System::builder().workers(2).build().unwrap();
    let s = stopped.clone();
    let p = system.spawn(move || CountingPoller(s.clone())).unwrap();
    p.tell(()).unwrap();
    // It stops in time, but its last message is lost, and shutdown says so.
    let err = system.shutdown_timeout(Duration::from_secs(2)).unwrap_err();
    assert!(err.dead_letters() >= 1, "{err}");
    assert!(
        err.stuck().is_empty() && err.abandoned().is_empty(),
        "{err}"
    );
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        1,
        "stopped hook ran before return"
    );
}

// A stuck handler makes a failed shutdown name its worker only, and frees
// threads blocked in `tell` on the stuck actor.

#[test]
fn failed_shutdown_names_only_the_stuck_worker_and_frees_blocked_senders() {
    let system = System::builder().workers(4).name("rvA").build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let a = system
        .spawn_with(
            SpawnOptions::new().name("sleeper").mailbox_capacity(1),
            move || BlocksOnZero(g.clone()),
        )
        .unwrap();
    a.tell(0).unwrap();
    common::wait_until("handler running", || a.metrics().mailbox_len == 0);
    a.tell(1).unwrap();
    let blocked = {
        let a = a.clone();
        std::thread::spawn(move || a.tell(2))
    };
    let err = system
        .shutdown_timeout(Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err.stuck().len(), 1, "{err}");
    assert_eq!(err.stuck()[0].actor, "sleeper");
    assert!(matches!(blocked.join().unwrap(), Err(SendError::Closed(2))));
    gate.open();
}
