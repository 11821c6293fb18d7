//! Supervision: strategies, restart kinds, intensity and escalation, backoff, failing starts, dynamic children.

mod common;

use common::{Gate, LIMIT, system_with_letters};
use playhouse::{
    Actor, ActorError, Addr, ChildSpec, Context, DeadLetterReason, Reply, Restart, Strategy,
    Supervisor, SupervisorExt, System,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Log = Arc<Mutex<Vec<String>>>;

enum P {
    Work,
    Fail,
    Panic,
    Stop,
    Block(Gate),
    FailAfter(Gate),
    Count(Reply<u64>),
}

/// A child that records its starts and stops and counts its work.
struct Probe {
    name: &'static str,
    log: Log,
    count: u64,
}

impl Actor for Probe {
    type Msg = P;
    fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("start:{}", self.name));
        Ok(())
    }
    fn handle(&mut self, ctx: &mut Context<Self>, msg: P) -> Result<(), ActorError> {
        match msg {
            P::Work => self.count += 1,
            P::Fail => return Err(format!("{} failed", self.name).into()),
            P::Panic => panic!("{} panicked", self.name),
            P::Stop => ctx.stop(),
            P::Block(g) => g.wait(),
            P::FailAfter(g) => {
                g.wait();
                return Err(format!("{} failed", self.name).into());
            }
            P::Count(r) => {
                let _ = r.send(self.count);
            }
        }
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.log.lock().unwrap().push(format!("stop:{}", self.name));
    }
}

fn probe(name: &'static str, log: &Log) -> ChildSpec<Probe> {
    let log = log.clone();
    ChildSpec::new(name, move || Probe {
        name,
        log: log.clone(),
        count: 0,
    })
}

fn restarts(sup: &Addr<Supervisor>) -> Vec<u64> {
    sup.children(LIMIT)
        .unwrap()
        .iter()
        .map(|c| c.restarts)
        .collect()
}

fn events(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[test]
fn one_for_one_restarts_only_the_failed_child_and_keeps_its_queue() {
    let (system, letters) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .intensity(5, Duration::from_secs(60))
        .child(probe("a", &log))
        .child(probe("b", &log))
        .name("s1")
        .spawn(&system)
        .unwrap();
    common::wait_until("both children started", || events(&log).len() == 2);
    let a = sup.child::<Probe>("a").unwrap();
    let b = sup.child::<Probe>("b").unwrap();
    for _ in 0..3 {
        a.tell(P::Work).unwrap();
        b.tell(P::Work).unwrap();
    }
    assert_eq!(a.ask(P::Count, LIMIT), Ok(3));
    // Queue a failure and ten more messages behind a blocked handler.
    let gate = Gate::new();
    a.tell(P::Block(gate.clone())).unwrap();
    a.tell(P::Fail).unwrap();
    for _ in 0..10 {
        a.tell(P::Work).unwrap();
    }
    gate.open();
    // The same address answers: a fresh instance that handled the ten.
    common::wait_until("a restarted", || restarts(&sup) == vec![1, 0]);
    assert_eq!(a.ask(P::Count, LIMIT), Ok(10), "fresh state, queue kept");
    assert_eq!(b.ask(P::Count, LIMIT), Ok(3), "sibling kept its state");
    assert_eq!(
        *letters.lock().unwrap(),
        vec![DeadLetterReason::HandlerFailed],
        "only the failing message is dead-lettered"
    );
    assert_eq!(events(&log), ["start:a", "start:b", "start:a"]);
    system.shutdown().unwrap();
    assert_eq!(
        &events(&log)[3..],
        ["stop:b", "stop:a"],
        "children stop newest first"
    );
}

fn group_restart(strategy: Strategy) -> Vec<String> {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .strategy(strategy)
        .intensity(5, Duration::from_secs(60))
        .child(probe("a", &log))
        .child(probe("b", &log))
        .child(probe("c", &log))
        .spawn(&system)
        .unwrap();
    common::wait_until("all started", || events(&log).len() == 3);
    log.lock().unwrap().clear();
    sup.child::<Probe>("b").unwrap().tell(P::Panic).unwrap();
    let expected = if strategy == Strategy::OneForAll {
        5
    } else {
        3
    };
    common::wait_until("the group restarted", || events(&log).len() == expected);
    system.await_quiescent(LIMIT).unwrap();
    let out = events(&log);
    system.shutdown().unwrap();
    out
}

#[test]
fn one_for_all_halts_the_others_newest_first_then_restarts_all_in_order() {
    // b failed (no stop hook for a failed instance); c then a are halted.
    assert_eq!(
        group_restart(Strategy::OneForAll),
        ["stop:c", "stop:a", "start:a", "start:b", "start:c"]
    );
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    assert_eq!(
        group_restart(Strategy::RestForOne),
        ["stop:c", "start:b", "start:c"]
    );
}

/// OTP's `temporary_bystander`: a temporary sibling stopped by a group
/// restart is removed, never started again.
fn temporary_bystander(strategy: Strategy) {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .strategy(strategy)
        .intensity(5, Duration::from_secs(60))
        .child(probe("a", &log))
        .child(probe("temp", &log).restart(Restart::Temporary))
        .spawn(&system)
        .unwrap();
    let temp = sup.child::<Probe>("temp").unwrap();
    sup.child::<Probe>("a").unwrap().tell(P::Panic).unwrap();
    common::wait_until("a restarted", || {
        sup.children(LIMIT)
            .unwrap()
            .iter()
            .any(|c| c.name == "a" && c.restarts == 1 && c.running)
    });
    system.await_quiescent(LIMIT).unwrap();
    let kids = sup.children(LIMIT).unwrap();
    assert_eq!(
        kids.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["a"],
        "the temporary bystander was removed"
    );
    assert!(!temp.is_alive());
    assert_eq!(
        events(&log).iter().filter(|e| *e == "start:temp").count(),
        1,
        "started once, never again"
    );
    system.shutdown().unwrap();
}

#[test]
fn a_temporary_bystander_of_one_for_all_is_removed_not_restarted() {
    temporary_bystander(Strategy::OneForAll);
}

#[test]
fn a_temporary_bystander_of_rest_for_one_is_removed_not_restarted() {
    temporary_bystander(Strategy::RestForOne);
}

#[test]
fn restart_kinds_on_failure_and_on_normal_exit() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .intensity(10, Duration::from_secs(60))
        .child(probe("perm", &log))
        .child(probe("trans", &log).restart(Restart::Transient))
        .child(probe("temp", &log).restart(Restart::Temporary))
        .child(probe("trans2", &log).restart(Restart::Transient))
        .spawn(&system)
        .unwrap();
    common::wait_until("all started", || events(&log).len() == 4);
    let perm = sup.child::<Probe>("perm").unwrap();
    let trans = sup.child::<Probe>("trans").unwrap();
    let temp = sup.child::<Probe>("temp").unwrap();
    let trans2 = sup.child::<Probe>("trans2").unwrap();
    // Failures: permanent and transient come back, temporary is removed.
    perm.tell(P::Fail).unwrap();
    trans.tell(P::Fail).unwrap();
    temp.tell(P::Fail).unwrap();
    common::wait_until("temp removed, two restarts", || {
        let c = sup.children(LIMIT).unwrap();
        c.len() == 3 && c.iter().map(|c| c.restarts).sum::<u64>() == 2
    });
    assert!(!temp.is_alive());
    assert!(perm.is_alive() && trans.is_alive());
    // Normal exits: permanent comes back, transient stays down.
    perm.tell(P::Stop).unwrap();
    trans2.tell(P::Stop).unwrap();
    common::wait_until("trans2 stopped for good", || !trans2.is_alive());
    // A restart counts when the supervisor decides on it, and a child is
    // `running` only once its new instance has started: wait for both (perm
    // and trans were restarted).
    common::wait_until("perm restarted again, perm and trans running", || {
        let c = sup.children(LIMIT).unwrap();
        c[0].restarts == 2 && c[0].running && c[1].running
    });
    let kids = sup.children(LIMIT).unwrap();
    let names: Vec<_> = kids.iter().map(|c| (c.name.as_str(), c.running)).collect();
    assert_eq!(
        names,
        [("perm", true), ("trans", true), ("trans2", false)],
        "transient child kept but not running"
    );
    assert_eq!(perm.ask(P::Count, LIMIT), Ok(0));
    system.shutdown().unwrap();
}

#[test]
fn intensity_allows_n_restarts_and_gives_up_on_the_next() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .intensity(2, Duration::from_secs(60))
        .child(probe("a", &log))
        .child(probe("b", &log))
        .spawn(&system)
        .unwrap();
    common::wait_until("started", || events(&log).len() == 2);
    let a = sup.child::<Probe>("a").unwrap();
    for n in 1..=2 {
        a.tell(P::Fail).unwrap();
        common::wait_until("restarted", || restarts(&sup) == vec![n, 0]);
    }
    // The third failure within the period exceeds 2: the supervisor stops its
    // children newest first and fails; as a root it stops.
    a.tell(P::Fail).unwrap();
    common::wait_until("supervisor gave up", || !sup.is_alive());
    assert!(!a.is_alive());
    assert!(!sup.child::<Probe>("b").is_some_and(|b| b.is_alive()));
    assert_eq!(
        &events(&log)[4..],
        ["stop:b"],
        "b stopped; failed a had no hook"
    );
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 0);
}

#[test]
fn failures_spread_beyond_the_period_do_not_add_up() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let period = Duration::from_millis(40);
    let sup = Supervisor::builder()
        .intensity(1, period)
        .child(probe("a", &log))
        .spawn(&system)
        .unwrap();
    common::wait_until("started", || events(&log).len() == 1);
    let a = sup.child::<Probe>("a").unwrap();
    for n in 1..=3 {
        a.tell(P::Fail).unwrap();
        common::wait_until("restarted", || restarts(&sup) == vec![n]);
        // The supervisor counted this restart before we saw it: let the
        // intensity window pass from now (the time itself is under test).
        std::thread::sleep(period * 2);
    }
    assert!(sup.is_alive(), "one failure per period never exceeds 1");
    system.shutdown().unwrap();
}

#[test]
fn escalation_through_three_levels_stops_only_the_failed_tree() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let leaf_level = Supervisor::builder()
        .intensity(0, Duration::from_secs(60))
        .child(probe("leaf", &log));
    let middle = Supervisor::builder()
        .intensity(0, Duration::from_secs(60))
        .child(ChildSpec::supervisor("low", leaf_level));
    let root = Supervisor::builder()
        .intensity(0, Duration::from_secs(60))
        .child(ChildSpec::supervisor("mid", middle))
        .name("root")
        .spawn(&system)
        .unwrap();
    let other = Supervisor::builder()
        .child(probe("bystander", &log))
        .name("other")
        .spawn(&system)
        .unwrap();
    common::wait_until("both trees started", || events(&log).len() == 2);
    let mid = root.child::<Supervisor>("mid").unwrap();
    let low = mid.child::<Supervisor>("low").unwrap();
    let leaf = low.child::<Probe>("leaf").unwrap();
    // Intensity 0 everywhere: the leaf's failure escalates to the root.
    leaf.tell(P::Fail).unwrap();
    common::wait_until("the root gave up", || !root.is_alive());
    assert!(!mid.is_alive() && !low.is_alive() && !leaf.is_alive());
    let bystander = other.child::<Probe>("bystander").unwrap();
    assert_eq!(
        bystander.ask(P::Count, LIMIT),
        Ok(0),
        "the other tree lives"
    );
    assert!(other.is_alive());
    system.shutdown().unwrap();
}

#[test]
fn backoff_delays_restarts_and_caps_the_delay() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let (min, max) = (Duration::from_millis(20), Duration::from_millis(50));
    let sup = Supervisor::builder()
        .intensity(10, Duration::from_secs(60))
        .backoff(min, max)
        .child(probe("a", &log))
        .spawn(&system)
        .unwrap();
    common::wait_until("started", || events(&log).len() == 1);
    let a = sup.child::<Probe>("a").unwrap();
    let mut delays = Vec::new();
    for n in 1..=4 {
        let t = Instant::now();
        a.tell(P::Fail).unwrap();
        common::wait_until("restarted", || restarts(&sup) == vec![n]);
        // Messages sent while it is down wait in its mailbox.
        a.tell(P::Work).unwrap();
        assert_eq!(a.ask(P::Count, LIMIT), Ok(1));
        delays.push(t.elapsed());
    }
    // 20, 40, then capped at 50 ms; lower bounds only (the machine may be slow).
    let floors = [min, min * 2, max, max];
    for (d, floor) in delays.iter().zip(floors) {
        assert!(
            *d >= floor,
            "restart after {d:?}, before the backoff of {floor:?}"
        );
    }
    system.shutdown().unwrap();
}

/// Fails its `started` from its `fail_from`th start on, and fails any message.
struct FailsToStart {
    starts: Arc<AtomicU64>,
    fail_from: u64,
}

impl Actor for FailsToStart {
    type Msg = ();
    fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
        let n = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.fail_from {
            panic!("cannot start");
        }
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Err("asked to fail".into())
    }
}

#[test]
fn panic_in_started_counts_toward_intensity() {
    let (system, _) = system_with_letters(2);
    let starts = Arc::new(AtomicU64::new(0));
    let s = starts.clone();
    let sup = Supervisor::builder()
        .intensity(3, Duration::from_secs(60))
        .child(ChildSpec::new("broken", move || FailsToStart {
            starts: s.clone(),
            fail_from: 2,
        }))
        .spawn(&system)
        .unwrap();
    sup.child::<FailsToStart>("broken")
        .unwrap()
        .tell(())
        .unwrap();
    common::wait_until("the supervisor gave up", || !sup.is_alive());
    assert_eq!(
        starts.load(Ordering::SeqCst),
        4,
        "first start + 3 restarts, no storm"
    );
    system.shutdown().unwrap();
}

#[test]
fn static_children_have_started_when_spawn_returns() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .name("eager")
        .child(probe("a", &log))
        .child(probe("b", &log))
        .spawn(&system)
        .unwrap();
    // No wait: OTP's start_link returns once the children are up.
    assert!(sup.child::<Probe>("a").is_some());
    assert!(sup.child::<Probe>("b").is_some());
    assert!(sup.children(LIMIT).unwrap().iter().all(|c| c.running));
    system.shutdown().unwrap();
}

#[test]
fn a_child_failing_its_first_start_fails_the_spawn_and_nothing_stays_running() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let starts = Arc::new(AtomicU64::new(0));
    let s = starts.clone();
    let result = Supervisor::builder()
        .name("doomed")
        .intensity(5, Duration::from_secs(60))
        .child(probe("first", &log))
        .child(ChildSpec::new("broken", move || FailsToStart {
            starts: s.clone(),
            fail_from: 1,
        }))
        .child(probe("never", &log))
        .spawn(&system);
    match result {
        Err(playhouse::SupervisorError::ChildStart { child, reason }) => {
            assert_eq!(child, "broken");
            assert!(reason.contains("cannot start"), "{reason}");
        }
        other => panic!("expected ChildStart, got {other:?}"),
    }
    // Started once, never restarted; its elder sibling stopped, the younger
    // never started.
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert!(system.lookup::<Probe>("doomed/first").is_none());
    assert!(system.lookup::<Probe>("doomed/never").is_none());
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 0);
    system.shutdown().unwrap();
}

#[test]
fn duplicate_child_names_and_an_inverted_backoff_are_build_errors() {
    let (system, _) = system_with_letters(1);
    let log: Log = Arc::default();
    let dup = Supervisor::builder()
        .child(probe("same", &log))
        .child(probe("same", &log))
        .spawn(&system);
    assert!(
        matches!(&dup, Err(playhouse::SupervisorError::Spawn(playhouse::SpawnError::Config(e))) if e.to_string().contains("\"same\"")),
        "{dup:?}"
    );
    let nested = Supervisor::builder()
        .child(ChildSpec::supervisor(
            "inner",
            Supervisor::builder()
                .child(probe("x", &log))
                .child(probe("x", &log)),
        ))
        .spawn(&system);
    assert!(
        matches!(nested, Err(playhouse::SupervisorError::Spawn(_))),
        "{nested:?}"
    );
    let backoff = Supervisor::builder()
        .backoff(Duration::from_secs(2), Duration::from_secs(1))
        .spawn(&system);
    assert!(
        matches!(
            backoff,
            Err(playhouse::SupervisorError::Spawn(
                playhouse::SpawnError::Config(_)
            ))
        ),
        "{backoff:?}"
    );
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 0, "nothing was spawned");
    system.shutdown().unwrap();
}

#[test]
fn dynamic_children_are_added_and_removed() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let pool = Supervisor::builder().name("pool").spawn(&system).unwrap();
    let workers: Vec<_> = ["w1", "w2", "w3"]
        .into_iter()
        .map(|n| pool.add_child(probe(n, &log), LIMIT).unwrap())
        .collect();
    for w in &workers {
        w.tell(P::Work).unwrap();
    }
    assert_eq!(workers[2].ask(P::Count, LIMIT), Ok(1));
    assert!(matches!(
        pool.add_child(probe("w1", &log), LIMIT),
        Err(playhouse::SupervisorError::Spawn(
            playhouse::SpawnError::NameTaken(_)
        ))
    ));
    assert_eq!(pool.remove_child("w2", LIMIT), Ok(true));
    assert_eq!(pool.remove_child("w2", LIMIT), Ok(false));
    assert!(!workers[1].is_alive());
    let names: Vec<_> = pool
        .children(LIMIT)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["w1", "w3"]);
    assert_eq!(system.lookup::<Probe>("pool/w3"), Some(workers[2].clone()));
    system.shutdown().unwrap();
}

#[test]
fn an_added_nested_supervisor_has_started_its_children_when_add_child_returns() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let root = Supervisor::builder().name("root").spawn(&system).unwrap();
    let team = Supervisor::builder()
        .child(probe("x", &log))
        .child(probe("y", &log));
    let team = root
        .add_child(ChildSpec::supervisor("team", team), LIMIT)
        .unwrap();
    // No waiting: both children are registered and running already.
    let x = team.child::<Probe>("x").expect("x has started");
    let y = team.child::<Probe>("y").expect("y has started");
    assert_eq!(events(&log), ["start:x", "start:y"]);
    x.tell(P::Work).unwrap();
    assert_eq!(x.ask(P::Count, LIMIT), Ok(1));
    assert!(y.is_alive());
    system.shutdown().unwrap();
}

#[test]
fn an_added_child_that_fails_its_first_start_is_an_error_and_not_kept() {
    let (system, _) = system_with_letters(2);
    let pool = Supervisor::builder().name("pool").spawn(&system).unwrap();
    let starts = Arc::new(AtomicU64::new(0));
    let s = starts.clone();
    let spec = ChildSpec::new("broken", move || FailsToStart {
        starts: s.clone(),
        fail_from: 1,
    });
    match pool.add_child(spec, LIMIT) {
        Err(playhouse::SupervisorError::ChildStart { child, reason }) => {
            assert_eq!(child, "broken");
            assert!(reason.contains("cannot start"), "{reason}");
        }
        other => panic!("expected ChildStart, got {other:?}"),
    }
    // Not restarted, not kept: one start, and the supervisor goes on.
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert!(pool.children(LIMIT).unwrap().is_empty());
    assert!(pool.is_alive());
    let log: Log = Arc::default();
    pool.add_child(probe("w", &log), LIMIT).unwrap();
    assert_eq!(events(&log), ["start:w"]);
    system.shutdown().unwrap();
}

/// A one-for-all supervisor of two started probes, `a` and `b`.
fn one_for_all_pair(
    system: &System,
    max_restarts: u32,
) -> (Addr<Supervisor>, Addr<Probe>, Addr<Probe>) {
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .strategy(Strategy::OneForAll)
        .intensity(max_restarts, Duration::from_secs(60))
        .child(probe("a", &log))
        .child(probe("b", &log))
        .spawn(system)
        .unwrap();
    common::wait_until("started", || events(&log).len() == 2);
    let a = sup.child::<Probe>("a").unwrap();
    let b = sup.child::<Probe>("b").unwrap();
    (sup, a, b)
}

#[test]
fn two_children_failing_at_once_make_one_group_restart() {
    let (system, _) = system_with_letters(2);
    // Intensity 1: a second counted restart would make it give up.
    let (sup, a, b) = one_for_all_pair(&system, 1);
    // Both fail in the handler they are running when the gate opens (a failure
    // queued behind would be handled by the restarted instance: a new failure).
    let gate = Gate::new();
    a.tell(P::FailAfter(gate.clone())).unwrap();
    b.tell(P::FailAfter(gate.clone())).unwrap();
    common::wait_until("both blocked", || {
        a.metrics().mailbox_len == 0 && b.metrics().mailbox_len == 0
    });
    gate.open();
    // Running before the failures counts for nothing: wait for a restart of
    // each (or for the supervisor to give up, which the assert reports).
    common::wait_until("both restarted and running again", || {
        sup.children(LIMIT)
            .map_or(true, |c| c.iter().all(|c| c.restarts >= 1 && c.running))
    });
    system.await_quiescent(LIMIT).unwrap();
    assert!(
        sup.is_alive(),
        "the simultaneous failures were counted twice"
    );
    assert_eq!(restarts(&sup), vec![1, 1]);
    system.shutdown().unwrap();
}

#[test]
fn failures_racing_shutdown_do_not_hang_it() {
    for workers in [1, 2] {
        let (system, _) = system_with_letters(workers);
        let (sup, a, b) = one_for_all_pair(&system, 1000);
        for _ in 0..50 {
            let _ = a.try_tell(P::Fail);
            let _ = b.try_tell(P::Panic);
        }
        system.shutdown_timeout(LIMIT).unwrap();
        assert!(!a.is_alive() && !b.is_alive() && !sup.is_alive());
    }
}

enum WMsg {
    Watch(Addr<Probe>),
    Down(playhouse::Terminated),
    Seen(Reply<Vec<playhouse::Terminated>>),
}

struct Watcher(Vec<playhouse::Terminated>);

impl Actor for Watcher {
    type Msg = WMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: WMsg) -> Result<(), ActorError> {
        match msg {
            WMsg::Watch(a) => {
                ctx.watch_with(&a, WMsg::Down);
                // Watching twice changes nothing: still one notice.
                ctx.watch_with(&a, WMsg::Down);
            }
            WMsg::Down(t) => self.0.push(t),
            WMsg::Seen(r) => {
                let _ = r.send(self.0.clone());
            }
        }
        Ok(())
    }
}

#[test]
fn watch_delivers_terminated_once_with_the_reason() {
    use playhouse::ExitReason;
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let plain = |name| {
        let log = log.clone();
        move || Probe {
            name,
            log: log.clone(),
            count: 0,
        }
    };
    let normal = system.spawn(plain("normal")).unwrap();
    let failed = system.spawn(plain("failed")).unwrap();
    let sup = Supervisor::builder()
        .intensity(0, Duration::from_secs(60))
        .child(probe("child", &log))
        .spawn(&system)
        .unwrap();
    common::wait_until("all started", || events(&log).len() == 3);
    let supervised = sup.child::<Probe>("child").unwrap();
    let watcher = system.spawn(|| Watcher(Vec::new())).unwrap();
    for a in [&normal, &failed, &supervised] {
        watcher.tell(WMsg::Watch(a.clone())).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();
    normal.tell(P::Stop).unwrap();
    failed.tell(P::Fail).unwrap();
    supervised.tell(P::Fail).unwrap(); // intensity 0: the supervisor gives up
    system.await_quiescent(LIMIT).unwrap();
    let mut seen: Vec<_> = watcher
        .ask(WMsg::Seen, LIMIT)
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.reason))
        .collect();
    seen.sort_by_key(|(id, _)| *id);
    assert_eq!(
        seen,
        vec![
            (normal.id(), ExitReason::Normal),
            (
                failed.id(),
                ExitReason::Failed("failed: failed failed".into())
            ),
            (
                supervised.id(),
                ExitReason::Failed("failed: child failed".into())
            ),
        ]
    );
    // Watching an actor that already stopped notifies at once.
    watcher.tell(WMsg::Watch(normal.clone())).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(watcher.ask(WMsg::Seen, LIMIT).unwrap().len(), 4);
    system.shutdown().unwrap();
}

/// A child that fails on some messages, chosen by a seed, and counts the rest.
struct Flaky {
    handled: Arc<AtomicU64>,
}

impl Actor for Flaky {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        // A cheap hash decides: about one message in 50 fails, half by panic.
        let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        match h {
            0 => panic!("flaky {n}"),
            1 => Err(format!("flaky {n}").into()),
            _ => {
                self.handled.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
    }
}

fn stress(workers: usize) {
    let letters = Arc::new(AtomicU64::new(0));
    let l = letters.clone();
    let system = System::builder()
        .workers(workers)
        .on_dead_letter(move |_| {
            l.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let mut builder = Supervisor::builder().intensity(u32::MAX, Duration::from_secs(60));
    for i in 0..8 {
        let h = handled.clone();
        builder = builder.child(
            ChildSpec::new(format!("flaky-{i}"), move || Flaky { handled: h.clone() })
                .mailbox_capacity(16),
        );
    }
    let sup = builder.spawn(&system).unwrap();
    common::wait_until("all running", || {
        sup.children(LIMIT).unwrap().iter().all(|c| c.running)
    });
    let kids: Vec<_> = (0..8)
        .map(|i| sup.child::<Flaky>(&format!("flaky-{i}")).unwrap())
        .collect();
    const PER_CHILD: u64 = 5_000;
    std::thread::scope(|s| {
        for (i, k) in kids.iter().enumerate() {
            s.spawn(move || {
                for n in 0..PER_CHILD {
                    k.tell(i as u64 * PER_CHILD + n).unwrap();
                }
            });
        }
    });
    system.await_quiescent(LIMIT).unwrap();
    let sent = 8 * PER_CHILD;
    let (h, d) = (
        handled.load(Ordering::SeqCst),
        letters.load(Ordering::SeqCst),
    );
    assert!(d > 0, "no failures happened");
    assert_eq!(h + d, sent, "handled {h} + dead letters {d} != sent {sent}");
    system.shutdown().unwrap();
}

#[test]
fn random_failures_under_load_lose_nothing_on_one_worker() {
    stress(1);
}

#[test]
fn random_failures_under_load_lose_nothing_on_two_workers() {
    stress(2);
}

#[test]
fn a_child_that_will_not_stop_is_abandoned_and_shutdown_completes() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let sup = Supervisor::builder()
        .child(probe("stuck", &log).shutdown_timeout(Duration::from_millis(50)))
        .child(probe("fine", &log))
        .spawn(&system)
        .unwrap();
    common::wait_until("started", || events(&log).len() == 2);
    let stuck = sup.child::<Probe>("stuck").unwrap();
    let gate = Gate::new();
    stuck.tell(P::Block(gate.clone())).unwrap();
    common::wait_until("stuck is blocked", || stuck.metrics().mailbox_len == 0);
    let err = system.shutdown_timeout(Duration::from_secs(2)).unwrap_err();
    // The supervisor stopped "fine", gave "stuck" its 50 ms, abandoned it and
    // stopped itself; only the stuck handler is reported.
    assert!(!sup.is_alive(), "the supervisor finished stopping");
    assert_eq!(err.stuck().len(), 1, "{err}");
    assert_eq!(err.stuck()[0].actor, format!("#{}/stuck", sup.id()));
    assert!(events(&log).contains(&"stop:fine".to_string()));
    gate.open();
}

/// Watches `target` from its `started` hook, so every instance watches it,
/// and reports the notice.
struct Rewatcher {
    target: Addr<Probe>,
    seen: crossbeam_channel::Sender<u64>,
}

impl Actor for Rewatcher {
    type Msg = playhouse::Terminated;
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        ctx.watch_with(&self.target, |t| t);
        Ok(())
    }
    fn handle(
        &mut self,
        _: &mut Context<Self>,
        t: playhouse::Terminated,
    ) -> Result<(), ActorError> {
        self.seen.send(t.id)?;
        Ok(())
    }
}

#[test]
fn a_restarted_actor_that_watches_again_hears_of_a_stop_made_while_it_was_down() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let target = system
        .spawn({
            let log = log.clone();
            move || Probe {
                name: "target",
                log: log.clone(),
                count: 0,
            }
        })
        .unwrap();
    let (seen_tx, seen) = crossbeam_channel::unbounded();
    let t = target.clone();
    // One-for-all halts the others newest first: the watcher, then the
    // blocker, which holds the restart until the gate opens. Meanwhile the
    // watcher is down, and the target stops.
    let sup = Supervisor::builder()
        .strategy(Strategy::OneForAll)
        .child(probe("crash", &log))
        .child(probe("blocker", &log))
        .child(ChildSpec::new("w", move || Rewatcher {
            target: t.clone(),
            seen: seen_tx.clone(),
        }))
        .spawn(&system)
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let gate = Gate::new();
    sup.child::<Probe>("blocker")
        .unwrap()
        .tell(P::Block(gate.clone()))
        .unwrap();
    sup.child::<Probe>("crash").unwrap().tell(P::Fail).unwrap();
    common::wait_until("the watcher is down", || {
        let c = sup.children(LIMIT).unwrap();
        c[2].restarts == 1 && !c[2].running
    });
    target.stop();
    common::wait_until("the target stopped", || !target.is_alive());
    gate.open();
    // The first instance's notice came while no instance was live, and was
    // dropped; the new instance's watch must bring it.
    assert_eq!(seen.recv_timeout(LIMIT), Ok(target.id()));
    system.shutdown().unwrap();
}

/// A plain actor (no `Supervisor`) supervising one child through the public
/// hook: it records the events and restarts the child after a failure, once.
struct Parent {
    events: Arc<Mutex<Vec<String>>>,
    restarted: bool,
}

impl Actor for Parent {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let opts = playhouse::SpawnOptions::new()
            .name("hooked-child")
            .supervised();
        ctx.spawn_with(opts, || Counter)?;
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
    fn on_child(
        &mut self,
        ctx: &mut Context<Self>,
        event: playhouse::ChildEvent,
    ) -> Result<(), ActorError> {
        use playhouse::ChildEvent;
        let line = match &event {
            ChildEvent::Started { restarted, .. } => format!("started restarted={restarted}"),
            ChildEvent::Exited { reason, .. } => format!("exited failure={}", reason.is_failure()),
            ChildEvent::Stopped { reason, .. } => format!("stopped {reason:?}"),
            _ => "other".into(),
        };
        self.events.lock().unwrap().push(line);
        if let ChildEvent::Exited { id, .. } = event {
            if self.restarted {
                assert!(ctx.stop_child(id));
            } else {
                self.restarted = true;
                assert!(ctx.restart_child(id));
            }
        }
        Ok(())
    }
}

enum C {
    Fail,
    Seen(Reply<(u64, bool)>),
}

/// Counts the messages it saw over all its instances in kept state.
struct Counter;

#[derive(Default)]
struct Seen(u64);

impl Actor for Counter {
    type Msg = C;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: C) -> Result<(), ActorError> {
        ctx.kept_mut::<Seen>().0 += 1;
        match msg {
            C::Fail => Err("asked to fail".into()),
            C::Seen(r) => {
                let _ = r.send((ctx.kept::<Seen>().unwrap().0, ctx.is_supervised()));
                Ok(())
            }
        }
    }
}

#[test]
fn any_actor_supervises_its_children_through_the_public_hook() {
    let (system, _) = system_with_letters(2);
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let e = events.clone();
    let parent = system
        .spawn(move || Parent {
            events: e.clone(),
            restarted: false,
        })
        .unwrap();
    common::wait_until("the child started", || events.lock().unwrap().len() == 1);
    let child = system.lookup::<Counter>("hooked-child").unwrap();
    child.tell(C::Fail).unwrap();
    // Same address, fresh instance, and the count kept across the restart.
    assert_eq!(child.ask(C::Seen, LIMIT), Ok((2, true)));
    child.tell(C::Fail).unwrap();
    common::wait_until("the child stopped", || !child.is_alive());
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        [
            "started restarted=false",
            "exited failure=true",
            "started restarted=true",
            "exited failure=true",
            "stopped Failed(\"failed: asked to fail\")",
        ]
    );
    assert_eq!(system.metrics().restarts, 1);
    assert!(parent.is_alive(), "a child's failure is not the parent's");
    system.shutdown().unwrap();
}

/// Spawns one supervised child and leaves `on_child` to its default.
struct Neglectful;

impl Actor for Neglectful {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let opts = playhouse::SpawnOptions::new()
            .name("neglected")
            .supervised();
        ctx.spawn_with(opts, || Counter)?;
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
}

#[test]
fn the_default_hook_stops_an_exited_supervised_child() {
    let (system, _) = system_with_letters(2);
    system.spawn(|| Neglectful).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let child = system.lookup::<Counter>("neglected").unwrap();
    child.tell(C::Fail).unwrap();
    common::wait_until("the child stopped", || !child.is_alive());
    assert_eq!(system.metrics().restarts, 0);
    system.shutdown().unwrap();
}

#[test]
fn a_top_level_actor_cannot_be_supervised() {
    let system = System::new();
    let r = system.spawn_with(playhouse::SpawnOptions::new().supervised(), || Counter);
    assert!(matches!(r, Err(playhouse::SpawnError::Config(_))));
    system.shutdown().unwrap();
}

/// Exits with the reason it is told.
struct Quitter;

impl Actor for Quitter {
    type Msg = playhouse::ExitReason;
    fn handle(
        &mut self,
        ctx: &mut Context<Self>,
        reason: playhouse::ExitReason,
    ) -> Result<(), ActorError> {
        ctx.exit(reason);
        Ok(())
    }
}

enum W {
    Watch(Addr<Quitter>),
    Down(playhouse::Terminated),
    Seen(Reply<Option<playhouse::ExitReason>>),
}

impl From<playhouse::Terminated> for W {
    fn from(t: playhouse::Terminated) -> Self {
        W::Down(t)
    }
}

struct ExitWatcher(Option<playhouse::ExitReason>);

impl Actor for ExitWatcher {
    type Msg = W;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: W) -> Result<(), ActorError> {
        match msg {
            W::Watch(a) => ctx.watch(&a),
            W::Down(t) => self.0 = Some(t.reason),
            W::Seen(r) => {
                let _ = r.send(self.0.clone());
            }
        }
        Ok(())
    }
}

#[test]
fn exit_with_a_reason_is_what_watchers_see() {
    use playhouse::ExitReason;
    let (system, _) = system_with_letters(2);
    for reason in [
        ExitReason::GaveUp,
        ExitReason::Failed("mine".into()),
        ExitReason::Normal,
    ] {
        let q = system.spawn(|| Quitter).unwrap();
        let w = system.spawn(|| ExitWatcher(None)).unwrap();
        w.tell(W::Watch(q.clone())).unwrap();
        system.await_quiescent(LIMIT).unwrap();
        q.tell(reason.clone()).unwrap();
        system.await_quiescent(LIMIT).unwrap();
        assert_eq!(w.ask(W::Seen, LIMIT), Ok(Some(reason)));
    }
    system.shutdown().unwrap();
}

/// An actor nobody watched while it ran keeps no record of its end but the
/// reason: a watch made after it stopped still hears that reason at once.
#[test]
fn a_watch_made_after_an_unwatched_actor_stopped_hears_its_reason() {
    use playhouse::{ExitReason, SpawnOptions};
    let (system, _) = system_with_letters(2);
    let named = SpawnOptions::new().name("named-quitter");
    for (reason, options) in [
        (ExitReason::GaveUp, SpawnOptions::new()),
        (ExitReason::Failed("mine".into()), SpawnOptions::new()),
        (ExitReason::Normal, SpawnOptions::new()),
        (ExitReason::Normal, named),
    ] {
        let q = system.spawn_with(options, || Quitter).unwrap();
        q.tell(reason.clone()).unwrap();
        system.await_quiescent(LIMIT).unwrap();
        assert!(!q.is_alive());
        let w = system.spawn(|| ExitWatcher(None)).unwrap();
        w.tell(W::Watch(q.clone())).unwrap();
        system.await_quiescent(LIMIT).unwrap();
        assert_eq!(w.ask(W::Seen, LIMIT), Ok(Some(reason)));
    }
    system.shutdown().unwrap();
}

/// Records its stop in the shared log.
struct Stopping(u32, Log);

impl Actor for Stopping {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.1.lock().unwrap().push(format!("stop:{}", self.0));
    }
}

/// Spawns four children, oldest first.
struct Elder(Log);

impl Actor for Elder {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        for i in 1..=4 {
            let log = self.0.clone();
            ctx.spawn(move || Stopping(i, log.clone()))?;
        }
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.0.lock().unwrap().push("stop:parent".into());
    }
}

#[test]
fn ordered_stop_stops_any_actors_children_newest_first_then_it() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let l = log.clone();
    let elder = system
        .spawn_with(playhouse::SpawnOptions::new().ordered_stop(), move || {
            Elder(l.clone())
        })
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    elder.stop();
    common::wait_until("the parent stopped", || !elder.is_alive());
    assert_eq!(
        events(&log),
        ["stop:4", "stop:3", "stop:2", "stop:1", "stop:parent"]
    );
    system.shutdown().unwrap();
}

/// Tries the decisions on a child that is not supervised, and on no child.
struct Misuser(crossbeam_channel::Sender<[bool; 4]>);

impl Actor for Misuser {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let plain = ctx.spawn(|| Counter)?.id();
        let r = [
            ctx.halt_child(plain),
            ctx.restart_child(plain),
            ctx.stop_child(plain + 1_000_000),
            ctx.stop_child(plain),
        ];
        let _ = self.0.send(r);
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
}

#[test]
fn only_supervised_children_are_halted_or_restarted() {
    let (system, _) = system_with_letters(2);
    let (tx, rx) = crossbeam_channel::bounded(1);
    system.spawn(move || Misuser(tx.clone())).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), [false, false, false, true]);
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 1, "the plain child stopped");
    system.shutdown().unwrap();
}

#[test]
fn a_nested_tree_has_started_when_the_top_level_spawn_returns() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let root = Supervisor::builder()
        .name("deep")
        .child(ChildSpec::supervisor(
            "mid",
            Supervisor::builder().child(ChildSpec::supervisor(
                "low",
                Supervisor::builder().child(probe("leaf", &log)),
            )),
        ))
        .child(probe("after", &log))
        .spawn(&system)
        .unwrap();
    // No wait: every level reports its start once its children started.
    let mid = root.child::<Supervisor>("mid").unwrap();
    let low = mid.child::<Supervisor>("low").unwrap();
    assert!(low.child::<Probe>("leaf").is_some());
    assert_eq!(events(&log), ["start:leaf", "start:after"], "in tree order");
    system.shutdown().unwrap();
}

#[test]
fn a_deep_child_failing_its_first_start_fails_the_top_level_spawn() {
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let starts = Arc::new(AtomicU64::new(0));
    let s = starts.clone();
    let result = Supervisor::builder()
        .name("deep-fail")
        .intensity(5, Duration::from_secs(60))
        .child(probe("first", &log))
        .child(ChildSpec::supervisor(
            "mid",
            Supervisor::builder().child(ChildSpec::new("broken", move || FailsToStart {
                starts: s.clone(),
                fail_from: 1,
            })),
        ))
        .child(probe("never", &log))
        .spawn(&system);
    match result {
        Err(playhouse::SupervisorError::ChildStart { child, reason }) => {
            assert_eq!(child, "mid");
            assert!(
                reason.contains("broken") && reason.contains("cannot start"),
                "{reason}"
            );
        }
        other => panic!("expected ChildStart, got {other:?}"),
    }
    assert_eq!(starts.load(Ordering::SeqCst), 1, "never restarted");
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 0);
    assert_eq!(events(&log), ["start:first", "stop:first"]);
    system.shutdown().unwrap();
}

/// Suspends itself on `Suspend` and fails from a continuation while
/// suspended; answers `Ping` with its instance's number.
enum Susp {
    Suspend,
    Ping(Reply<u64>),
}

struct SelfSuspending(u64);

impl Actor for SelfSuspending {
    type Msg = Susp;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Susp) -> Result<(), ActorError> {
        match msg {
            Susp::Suspend => {
                ctx.suspend();
                ctx.run_after(Duration::ZERO, |_, _| Err("failed while suspended".into()));
            }
            Susp::Ping(r) => {
                let _ = r.send(self.0);
            }
        }
        Ok(())
    }
}

#[test]
fn a_restarted_instance_takes_messages_though_the_failed_one_was_suspended() {
    let system = System::new();
    let instances = Arc::new(AtomicU64::new(0));
    let made = instances.clone();
    let sup = Supervisor::builder()
        .child(ChildSpec::new("susp", move || {
            SelfSuspending(made.fetch_add(1, Ordering::SeqCst) + 1)
        }))
        .spawn(&system)
        .unwrap();
    let child = sup
        .child::<SelfSuspending>("susp")
        .expect("started by spawn");
    child.tell(Susp::Suspend).unwrap();
    // The fresh instance starts unsuspended, so this ask is answered by it.
    assert_eq!(child.ask(Susp::Ping, LIMIT).unwrap(), 2);
    assert_eq!(instances.load(Ordering::SeqCst), 2);
    system.shutdown().unwrap();
}

#[test]
fn a_stopped_child_lets_go_of_its_factory_while_its_address_lives_on() {
    // What a factory captured (a journal, a connection, a file lock) is
    // released when the child stops for good, not when its last address goes:
    // a late reply or a stray address must not keep it open.
    let (system, _) = system_with_letters(2);
    let log: Log = Arc::default();
    let token = Arc::new(());
    let held = token.clone();
    let sup = Supervisor::builder()
        .child(ChildSpec::new("holder", move || {
            let _keep = &held;
            Probe {
                name: "holder",
                log: Log::default(),
                count: 0,
            }
        }))
        .child(probe("other", &log))
        .spawn(&system)
        .unwrap();
    let child = sup.child::<Probe>("holder").unwrap();
    assert!(Arc::strong_count(&token) > 1, "the factory is alive");
    system.shutdown().unwrap();
    assert!(!child.is_alive());
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the stopped child and its supervisor dropped the factory"
    );
    drop((child, sup));
}
