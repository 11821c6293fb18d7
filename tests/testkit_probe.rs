//! The test kit's probes, dead-letter collector and waits: what each expectation returns, and what it reports when unmet.

use playhouse::testkit::{
    DeadLetters, ExpectError, Probe, WaitError, await_children, await_children_running,
    await_stopped,
};
use playhouse::{
    Actor, ActorError, ChildSpec, Context, DeadLetterReason, ExitReason, Recipient, Supervisor,
    System,
};
use std::time::Duration;

/// How long any expectation that should succeed may wait.
const T: Duration = Duration::from_secs(30);
/// How long an expectation that should fail waits (its failure is the point).
const SHORT: Duration = Duration::from_millis(20);

/// Forwards every number it gets to its output, then stops on zero.
struct Relay(Recipient<u32>);

impl Actor for Relay {
    type Msg = u32;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
        self.0.tell(n)?;
        if n == 0 {
            ctx.stop();
        }
        Ok(())
    }
}

fn system() -> System {
    System::builder().workers(2).build().unwrap()
}

#[test]
fn expect_msg_hands_back_what_came_instead() {
    let system = system();
    let probe = Probe::new(&system).unwrap();
    let out = probe.recipient();
    let relay = system.spawn(move || Relay(out.clone())).unwrap();
    for n in [1, 2, 3] {
        relay.tell(n).unwrap();
    }
    assert_eq!(probe.expect_msg(1, T).unwrap(), 1);
    match probe.expect_msg(3, T) {
        Err(ExpectError::Unexpected { expected, got }) => {
            assert_eq!(got, 2);
            assert_eq!(expected, "3");
        }
        other => panic!("expected Unexpected, got {other:?}"),
    }
    assert_eq!(probe.expect_msg(3, T).unwrap(), 3);
    let err = probe.expect_next(SHORT).unwrap_err();
    assert!(
        matches!(&err, ExpectError::Timeout { received, .. } if received.is_empty()),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "expected a message within 20ms, got nothing"
    );
}

#[test]
fn receive_n_returns_in_order_and_a_short_count_reports_what_came() {
    let system = system();
    let probe = Probe::new(&system).unwrap();
    let out = probe.recipient();
    let relay = system.spawn(move || Relay(out.clone())).unwrap();
    for n in 1..=5 {
        relay.tell(n).unwrap();
    }
    assert_eq!(probe.receive_n(3, T).unwrap(), [1, 2, 3]);
    system.await_quiescent(T).unwrap();
    match probe.receive_n(3, SHORT) {
        Err(ExpectError::Timeout { received, .. }) => assert_eq!(received, [4, 5]),
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[test]
fn fish_for_skips_until_a_match_and_reports_the_skipped() {
    let system = system();
    let probe = Probe::new(&system).unwrap();
    let out = probe.recipient();
    let relay = system.spawn(move || Relay(out.clone())).unwrap();
    for n in [1, 3, 4, 5, 7] {
        relay.tell(n).unwrap();
    }
    assert_eq!(probe.fish_for(T, |n| n % 2 == 0).unwrap(), 4);
    system.await_quiescent(T).unwrap();
    match probe.fish_for(SHORT, |n| n % 2 == 0) {
        Err(ExpectError::Timeout { received, .. }) => assert_eq!(received, [5, 7]),
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[test]
fn expect_no_msg_fails_on_a_message_and_returns_it() {
    let system = system();
    let probe = Probe::new(&system).unwrap();
    probe.expect_no_msg(SHORT).unwrap();
    probe.recipient().tell(9u32).unwrap();
    match probe.expect_no_msg(T) {
        Err(ExpectError::Unexpected { got, .. }) => assert_eq!(got, 9),
        other => panic!("expected Unexpected, got {other:?}"),
    }
    assert_eq!(probe.try_next(), None);
}

#[test]
fn expect_terminated_names_the_actor_and_rejects_another_notice() {
    let system = system();
    let probe = Probe::<u32>::new(&system).unwrap();
    let out = probe.recipient();
    let first = system.spawn(move || Relay(out.clone())).unwrap();
    let out = probe.recipient();
    let second = system.spawn(move || Relay(out.clone())).unwrap();
    probe.watch(&first);
    probe.watch(&second);
    first.tell(0).unwrap();
    match probe.expect_terminated(&second, T) {
        Err(ExpectError::Unexpected { got, .. }) => {
            assert_eq!(got.id, first.id());
            assert_eq!(got.reason, ExitReason::Normal);
        }
        other => panic!("expected the first actor's notice, got {other:?}"),
    }
    second.stop();
    let t = probe.expect_terminated(&second, T).unwrap();
    assert_eq!(t.id, second.id());
    // Watching an actor that has already stopped brings its notice at once.
    probe.watch(&first);
    assert_eq!(probe.expect_terminated(&first, T).unwrap().id, first.id());
}

#[test]
fn a_stopped_probe_reports_closed_after_what_it_recorded() {
    let system = system();
    let probe = Probe::new(&system).unwrap();
    let recipient = probe.recipient();
    recipient.tell(1u32).unwrap();
    system.await_quiescent(T).unwrap();
    probe.stop();
    await_stopped(&system, &recipient, T).unwrap();
    assert!(recipient.tell(2).is_err(), "a stopped probe takes nothing");
    assert_eq!(probe.expect_next(T).unwrap(), 1);
    assert!(matches!(
        probe.expect_next(T),
        Err(ExpectError::Closed { .. })
    ));
}

#[test]
fn dropping_the_probe_stops_its_actor() {
    let system = system();
    let probe = Probe::<u32>::new(&system).unwrap();
    let recipient = probe.recipient();
    drop(probe);
    let t = await_stopped(&system, &recipient, T).unwrap();
    assert_eq!(t.reason, ExitReason::Normal);
}

#[test]
fn await_stopped_times_out_on_a_running_actor_then_sees_it_stop() {
    let system = system();
    let probe = Probe::new(&system).unwrap();
    let out = probe.recipient();
    let relay = system.spawn(move || Relay(out.clone())).unwrap();
    let err = await_stopped(&system, &relay, SHORT).unwrap_err();
    assert!(matches!(err, WaitError::Timeout { .. }), "{err}");
    relay.tell(0).unwrap();
    assert_eq!(
        await_stopped(&system, &relay, T).unwrap().reason,
        ExitReason::Normal
    );
    // Already stopped: at once.
    assert_eq!(await_stopped(&system, &relay, T).unwrap().id, relay.id());
}

/// Fails on every message.
struct Fragile;

impl Actor for Fragile {
    type Msg = u32;
    fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> {
        Err("fragile (expected by the test)".into())
    }
}

#[test]
fn dead_letters_are_collected_in_order_and_close_with_the_system() {
    let letters = DeadLetters::new();
    let system = System::builder()
        .workers(1)
        .on_dead_letter(letters.hook())
        .build()
        .unwrap();
    let fragile = system.spawn(|| Fragile).unwrap();
    fragile.tell(1).unwrap();
    let letter = letters.expect_next(T).unwrap();
    assert_eq!(letter.reason, DeadLetterReason::HandlerFailed);
    assert_eq!(letter.message_type, "u32");
    assert_eq!(letter.recipient, format!("#{}", fragile.id()));
    await_stopped(&system, &fragile, T).unwrap();
    letters.expect_none(SHORT).unwrap();
    system.shutdown().unwrap();
    // The hook goes with the system's last share: the addresses hold one.
    drop(fragile);
    assert!(matches!(
        letters.expect_next(T),
        Err(ExpectError::Closed { .. })
    ));
}

#[test]
fn await_children_sees_a_restart_and_reports_the_last_answer_on_timeout() {
    let system = system();
    let sup = Supervisor::builder()
        .intensity(10, Duration::from_secs(60))
        .child(ChildSpec::new("a", || Fragile))
        .child(ChildSpec::new("b", || Fragile))
        .spawn(&system)
        .unwrap();
    let children = await_children_running(&sup, T).unwrap();
    assert_eq!(children.len(), 2);
    sup.child::<Fragile>("a").unwrap().tell(1).unwrap();
    let children = await_children(&sup, T, |c| c[0].restarts == 1 && c[0].running).unwrap();
    assert_eq!(children[1].restarts, 0);
    match await_children(&sup, SHORT, |c| c[1].restarts == 1) {
        Err(WaitError::Timeout { last_seen, .. }) => {
            assert!(last_seen.contains("restarts: 0"), "{last_seen}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
}
