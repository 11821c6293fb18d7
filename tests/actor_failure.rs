//! Failures without a supervisor: caught, logged, dead-lettered; the actor stops; workers survive.

mod common;

use common::{LIMIT, system_with_letters};
use playhouse::testkit::{DeadLetters, await_stopped};
use playhouse::{
    Actor, ActorError, Context, DeadLetterReason, ExitReason, Reply, SendError, System,
};

enum Msg {
    Panic,
    Fail,
    Ping(Reply<u32>),
}

struct Fragile;

impl Actor for Fragile {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Panic => panic!("boom"),
            Msg::Fail => Err("bad input".into()),
            Msg::Ping(r) => {
                let _ = r.send(1);
                Ok(())
            }
        }
    }
}

#[test]
fn panicking_handler_stops_its_actor_but_not_the_worker() {
    common::init_log();
    let letters = DeadLetters::new();
    let system = System::builder()
        .workers(1)
        .on_dead_letter(letters.hook())
        .build()
        .unwrap();
    let fragile = system.spawn(|| Fragile).unwrap();
    let healthy = system.spawn(|| Fragile).unwrap();
    fragile.tell(Msg::Panic).unwrap();
    // The single worker survived: another actor still answers.
    assert_eq!(healthy.ask(Msg::Ping, LIMIT), Ok(1));
    let end = await_stopped(&system, &fragile, LIMIT).unwrap();
    assert!(
        matches!(&end.reason, ExitReason::Failed(why) if why.contains("boom")),
        "{end:?}"
    );
    match fragile.tell(Msg::Fail) {
        Err(SendError::Closed(Msg::Fail)) => {}
        other => panic!("expected Closed(Fail), got {other:?}"),
    }
    let letter = letters.expect_next(LIMIT).unwrap();
    assert_eq!(letter.reason, DeadLetterReason::HandlerFailed);
    assert_eq!(letter.recipient, format!("#{}", fragile.id()));
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(letters.queued(), 0, "one dead letter only");
    assert_eq!(system.metrics().actors_alive, 1);
    system.shutdown().unwrap();
}

#[test]
fn error_from_handler_is_a_failure_and_queued_messages_are_dead_lettered() {
    let (system, letters) = system_with_letters(1);
    let fragile = system.spawn(|| Fragile).unwrap();
    fragile.tell(Msg::Fail).unwrap();
    fragile.tell(Msg::Fail).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert!(!fragile.is_alive());
    let letters = letters.lock().unwrap().clone();
    // The failing message, then the one still queued behind it (unless the
    // actor had already stopped when it was sent, then it came back Closed).
    assert_eq!(letters[0], DeadLetterReason::HandlerFailed);
    assert!(letters[1..].iter().all(|r| *r == DeadLetterReason::Stopped));
    system.shutdown().unwrap();
}

struct FailsToStart;

impl Actor for FailsToStart {
    type Msg = ();
    fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
        Err("no config".into())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        unreachable!("an actor that failed to start handles nothing")
    }
}

#[test]
fn failure_in_started_stops_the_actor() {
    let (system, _) = system_with_letters(1);
    let a = system.spawn(|| FailsToStart).unwrap();
    let end = await_stopped(&system, &a, LIMIT).unwrap();
    assert!(
        matches!(&end.reason, ExitReason::Failed(why) if why.contains("no config")),
        "{end:?}"
    );
    assert!(matches!(a.tell(()), Err(SendError::Closed(()))));
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().actors_alive, 0);
    system.shutdown().unwrap();
}

// User code panicking on a runtime path (a dead-letter hook, an actor's
// `Drop`) does not leave the actor wedged in a turn.

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

impl Actor for PanicsOnDrop {
    type Msg = u32;
    fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
        if n == 0 {
            return Err("fail".into());
        }
        Ok(())
    }
}

#[test]
fn panics_in_drops_and_hooks_do_not_wedge_actors() {
    let system = System::builder()
        .workers(1)
        .on_dead_letter(|_| panic!("hook panicked"))
        .build()
        .unwrap();
    let a = system.spawn(|| PanicsOnDrop).unwrap();
    let b = system.spawn(|| PanicsOnDrop).unwrap();
    a.tell(0).unwrap(); // fails: dead letter (hook panics), instance dropped (Drop panics)
    b.stop(); // stops: instance dropped (Drop panics)
    system.await_quiescent(LIMIT).unwrap();
    assert!(!a.is_alive() && !b.is_alive());
    system.shutdown_timeout(LIMIT).unwrap();
}

// A panicking message mapping leaves no count of work in flight behind.

#[test]
fn a_panicking_mapping_leaves_no_work_in_flight() {
    let system = System::builder().workers(1).build().unwrap();
    let a = system.spawn(|| PanicsOnDrop).unwrap();
    // Idle first, so the failing send is the one that schedules the actor:
    // its panic must not leave the actor scheduled but never queued.
    system.await_quiescent(LIMIT).unwrap();
    let r = a.recipient_with(|x: u32| if x == 0 { panic!("bad mapping") } else { x });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.try_tell(0)));
    assert!(caught.is_err());
    r.tell(1).unwrap();
    system.await_quiescent(LIMIT).unwrap();
}
