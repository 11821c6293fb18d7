//! A system on a manual clock: timers, ask timeouts, restart backoff and the restart window move only when the test advances time.

use playhouse::testkit::{ManualClock, Probe, await_children};
use playhouse::{
    Actor, ActorError, AskError, ChildSpec, Context, Recipient, Reply, Supervisor, SupervisorExt,
    System,
};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const MS: Duration = Duration::from_millis(1);

fn manual() -> (ManualClock, System) {
    let clock = ManualClock::new();
    let system = System::builder()
        .workers(2)
        .clock(clock.clone())
        .build()
        .unwrap();
    (clock, system)
}

/// Schedules `"late"` to itself after 100 ms when started, and forwards it.
struct Delayed(Recipient<&'static str>);

impl Actor for Delayed {
    type Msg = &'static str;
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        ctx.schedule_once(100 * MS, "late");
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, m: &'static str) -> Result<(), ActorError> {
        self.0.tell(m)?;
        Ok(())
    }
}

#[test]
fn a_scheduled_message_arrives_only_once_the_clock_passes_its_deadline() {
    let (clock, system) = manual();
    let probe = Probe::new(&system).unwrap();
    let out = probe.recipient();
    system.spawn(move || Delayed(out.clone())).unwrap();
    system.await_quiescent(T).unwrap();
    clock.advance(99 * MS);
    system.await_quiescent(T).unwrap();
    assert_eq!(probe.queued(), 0, "arrived before its deadline");
    clock.advance(MS);
    system.await_quiescent(T).unwrap();
    assert_eq!(probe.try_next(), Some("late"));
}

/// Asks the service with a 1 s timeout and forwards the outcome.
struct Asker {
    service: Recipient<Reply<u32>>,
    out: Recipient<Result<u32, AskError>>,
}

impl Actor for Asker {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        let out = self.out.clone();
        ctx.ask(
            &self.service,
            |r| r,
            Duration::from_secs(1),
            move |_, ctx, outcome| {
                let _ = ctx.send(&out, outcome);
            },
        )?;
        Ok(())
    }
}

#[test]
fn an_actor_ask_times_out_only_once_the_clock_passes_its_deadline() {
    let (clock, system) = manual();
    let service = Probe::<Reply<u32>>::new(&system).unwrap();
    let outcomes = Probe::new(&system).unwrap();
    let (s, o) = (service.recipient(), outcomes.recipient());
    let asker = system
        .spawn(move || Asker {
            service: s.clone(),
            out: o.clone(),
        })
        .unwrap();
    asker.tell(()).unwrap();
    // Held unanswered: only the deadline can decide the ask.
    let reply = service.expect_next(T).unwrap();
    clock.advance(999 * MS);
    system.await_quiescent(T).unwrap();
    assert_eq!(outcomes.queued(), 0, "timed out before its deadline");
    assert!(reply.is_waiting());
    clock.advance(MS);
    system.await_quiescent(T).unwrap();
    assert_eq!(outcomes.try_next(), Some(Err(AskError::Timeout)));
    assert!(!reply.is_waiting());
    assert_eq!(reply.send(1), Err(1), "a late answer is refused");
}

/// Holds every request it is asked, unanswered, until told to answer.
struct Holder(Vec<Reply<u32>>);

enum HolderMsg {
    Ask(Reply<u32>),
    AnswerAll(u32),
}

impl Actor for Holder {
    type Msg = HolderMsg;
    fn handle(&mut self, _: &mut Context<Self>, m: HolderMsg) -> Result<(), ActorError> {
        match m {
            HolderMsg::Ask(r) => self.0.push(r),
            HolderMsg::AnswerAll(n) => {
                for r in self.0.drain(..) {
                    let _ = r.send(n);
                }
            }
        }
        Ok(())
    }
}

#[test]
fn a_blocking_ask_times_out_on_the_manual_clock_not_on_wall_time() {
    let (clock, system) = manual();
    let holder = system.spawn(|| Holder(Vec::new())).unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let h = holder.clone();
    let before = handled(&holder);
    let asker = std::thread::spawn(move || {
        // One millisecond: on wall time it would be over long before the check below.
        tx.send(h.ask(HolderMsg::Ask, MS)).unwrap();
    });
    // The request is held once the system is quiescent with the asker waiting.
    wait_handled(&system, &holder, before);
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "timed out on wall time"
    );
    clock.advance(MS);
    assert_eq!(rx.recv_timeout(T).unwrap(), Err(AskError::Timeout));
    asker.join().unwrap();
    // An answered blocking ask on the manual clock returns the answer.
    let h = holder.clone();
    let before = handled(&holder);
    let asker = std::thread::spawn(move || h.ask(HolderMsg::Ask, Duration::from_secs(1)));
    wait_handled(&system, &holder, before);
    holder.tell(HolderMsg::AnswerAll(7)).unwrap();
    assert_eq!(asker.join().unwrap(), Ok(7));
}

/// The messages `holder` has handled so far.
fn handled(holder: &playhouse::Addr<Holder>) -> u64 {
    holder.metrics().messages_handled
}

/// Waits until `holder` has handled more than the `before` it had handled
/// before the request was sent (read before the sending thread starts: read
/// after, the request may already be counted in it and never be seen).
fn wait_handled(system: &System, holder: &playhouse::Addr<Holder>, before: u64) {
    let deadline = std::time::Instant::now() + T;
    loop {
        system.await_quiescent(T).unwrap();
        if handled(holder) > before {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the ask never arrived"
        );
        std::thread::yield_now();
    }
}

/// Fails on every message.
struct Fragile;

impl Actor for Fragile {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Err("fragile (expected by the test)".into())
    }
}

#[test]
fn restart_backoff_waits_for_the_clock() {
    let (clock, system) = manual();
    let sup = Supervisor::builder()
        .intensity(5, Duration::from_secs(60))
        .backoff(Duration::from_secs(1), Duration::from_secs(8))
        .child(ChildSpec::new("w", || Fragile))
        .spawn(&system)
        .unwrap();
    await_children(&sup, T, |c| c[0].running).unwrap();
    sup.child::<Fragile>("w").unwrap().tell(()).unwrap();
    // The restart is decided (and counted) at once, and waits out its backoff.
    await_children(&sup, T, |c| !c[0].running && c[0].restarts == 1).unwrap();
    clock.advance(999 * MS);
    system.await_quiescent(T).unwrap();
    assert!(
        !sup.children(T).unwrap()[0].running,
        "restarted before its backoff"
    );
    clock.advance(MS);
    let children = await_children(&sup, T, |c| c[0].running).unwrap();
    assert_eq!(children[0].restarts, 1);
}

#[test]
fn the_restart_window_is_measured_on_the_clock() {
    let (clock, system) = manual();
    let sup = Supervisor::builder()
        .intensity(1, Duration::from_secs(10))
        .child(ChildSpec::new("w", || Fragile))
        .spawn(&system)
        .unwrap();
    for round in 1..=3 {
        let child = await_children(&sup, T, |c| c[0].running).unwrap();
        assert_eq!(child[0].restarts, round - 1);
        sup.child::<Fragile>("w").unwrap().tell(()).unwrap();
        await_children(&sup, T, |c| c[0].restarts == round).unwrap();
        // Each failure falls outside the window of the one before: on wall
        // time all three would be within 10 s and the supervisor would give up.
        clock.advance(Duration::from_secs(11));
    }
    assert!(sup.is_alive());
    // Two failures within the window: it gives up.
    await_children(&sup, T, |c| c[0].running).unwrap();
    sup.child::<Fragile>("w").unwrap().tell(()).unwrap();
    await_children(&sup, T, |c| c[0].restarts == 4 && c[0].running).unwrap();
    sup.child::<Fragile>("w").unwrap().tell(()).unwrap();
    playhouse::testkit::await_stopped(&system, &sup, T).unwrap();
}

#[test]
fn a_breaker_stays_open_until_the_clock_passes_its_reset_timeout() {
    use playhouse::breaker::{BreakerAddr, BreakerConfig, CallError, CircuitBreaker};
    type Req = playhouse::breaker::ServiceRequest<u32, u32, String>;

    let (clock, system) = manual();
    // The service is a probe: the test answers each request it sees.
    let service = Probe::<Req>::new(&system).unwrap();
    let config = BreakerConfig::builder()
        .max_failures(1)
        .reset_timeout(Duration::from_secs(10))
        .jitter(0.0)
        .call_timeout(Duration::from_secs(60))
        .late_window(Duration::from_secs(60))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder(config, service.recipient())
        .spawn(&system)
        .unwrap();
    let b = breaker.clone();
    let caller = std::thread::spawn(move || b.call(1, T));
    let (n, reply) = service.expect_next(T).unwrap();
    assert_eq!(n, 1);
    reply.send(Err("down".to_owned())).unwrap();
    assert_eq!(
        caller.join().unwrap(),
        Err(CallError::Failed("down".to_owned()))
    );
    // Open: rejected without reaching the service, until 10 s have passed.
    assert!(matches!(breaker.call(2, T), Err(CallError::Rejected(_))));
    clock.advance(9_999 * MS);
    system.await_quiescent(T).unwrap();
    assert!(matches!(breaker.call(3, T), Err(CallError::Rejected(_))));
    assert_eq!(service.queued(), 0);
    clock.advance(MS);
    system.await_quiescent(T).unwrap();
    // Half-open: the next call is let through as a probe.
    let b = breaker.clone();
    let caller = std::thread::spawn(move || b.call(4, T));
    let (n, reply) = service.expect_next(T).unwrap();
    assert_eq!(n, 4);
    reply.send(Ok(40)).unwrap();
    assert_eq!(caller.join().unwrap(), Ok(40));
}
