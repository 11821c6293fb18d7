//! Spawning: what a factory leaves behind, failing factories, reused names and registry slots.

mod common;

use common::{LIMIT, Sink};
use playhouse::{Actor, ActorError, Addr, Context, Reply, SendError, SpawnOptions, System};
use std::sync::Arc;

/// Answers every request with the number it was built with.
struct Echo(u32);

impl Actor for Echo {
    type Msg = Reply<u32>;
    fn handle(&mut self, _: &mut Context<Self>, r: Reply<u32>) -> Result<(), ActorError> {
        let _ = r.send(self.0);
        Ok(())
    }
}

fn system() -> System {
    common::init_log();
    System::builder().workers(2).build().unwrap()
}

/// No supervisor restarts an actor spawned without one, so once its instance
/// is built nothing its factory captured is kept, named actor or not.
#[test]
fn factory_captures_are_released_once_the_instance_is_built() {
    let system = system();
    let token = Arc::new(7u32);
    let t = token.clone();
    let unnamed = system.spawn(move || Echo(*t)).unwrap();
    let t = token.clone();
    let named = system
        .spawn_with(SpawnOptions::new().name("named"), move || Echo(*t))
        .unwrap();
    assert_eq!(unnamed.ask(|r| r, LIMIT), Ok(7));
    assert_eq!(named.ask(|r| r, LIMIT), Ok(7));
    assert_eq!(Arc::strong_count(&token), 1, "a factory's capture was kept");
    system.shutdown().unwrap();
}

/// A child spawned by an actor (not by a supervisor) keeps no factory either.
#[test]
fn child_factory_captures_are_released_once_the_child_is_built() {
    struct Parent(Arc<u32>);
    impl Actor for Parent {
        type Msg = Reply<Addr<Echo>>;
        fn handle(&mut self, ctx: &mut Context<Self>, r: Self::Msg) -> Result<(), ActorError> {
            let t = self.0.clone();
            let _ = r.send(ctx.spawn(move || Echo(*t))?);
            Ok(())
        }
    }
    let system = system();
    let token = Arc::new(3u32);
    let t = token.clone();
    let parent = system.spawn(move || Parent(t.clone())).unwrap();
    let child = parent.ask(|r| r, LIMIT).unwrap();
    assert_eq!(child.ask(|r| r, LIMIT), Ok(3));
    // Only the parent's instance holds one.
    assert_eq!(Arc::strong_count(&token), 2, "a factory's capture was kept");
    system.shutdown().unwrap();
}

/// A factory that panics fails the actor it was to build: the spawn itself
/// succeeds, the actor stops as failed, and sends to it are refused.
#[test]
fn panicking_factory_fails_its_actor_named_or_not() {
    let system = system();
    let unnamed = system
        .spawn(|| -> Sink { panic!("no instance today") })
        .unwrap();
    let named = system
        .spawn_with(SpawnOptions::new().name("doomed"), || -> Sink {
            panic!("no instance today")
        })
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    for addr in [&unnamed, &named] {
        assert!(!addr.is_alive());
        match addr.tell(1) {
            Err(SendError::Closed(1)) => {}
            other => panic!("expected Closed(1), got {other:?}"),
        }
    }
    assert!(system.lookup::<Sink>("doomed").is_none());
    assert_eq!(system.metrics().actors_alive, 0);
    system.shutdown().unwrap();
}

/// Stopped actors give back their registry places: a name can be taken
/// again, lookups find only live actors, and shutdown stops everyone,
/// including actors spawned into reused places.
#[test]
fn names_and_registry_places_of_stopped_actors_are_reused() {
    let system = system();
    let first = system
        .spawn_with(SpawnOptions::new().name("a"), || Sink)
        .unwrap();
    let others: Vec<Addr<Sink>> = (0..10).map(|_| system.spawn(|| Sink).unwrap()).collect();
    assert!(
        system
            .spawn_with(SpawnOptions::new().name("a"), || Sink)
            .is_err()
    );
    first.stop();
    for a in &others[..5] {
        a.stop();
    }
    system.await_quiescent(LIMIT).unwrap();
    assert!(system.lookup::<Sink>("a").is_none());
    assert_eq!(system.metrics().actors_alive, 5);
    let second = system
        .spawn_with(SpawnOptions::new().name("a"), || Sink)
        .unwrap();
    let more: Vec<Addr<Sink>> = (0..10).map(|_| system.spawn(|| Sink).unwrap()).collect();
    assert_eq!(system.lookup::<Sink>("a"), Some(second.clone()));
    assert_ne!(second.id(), first.id());
    assert_eq!(system.metrics().actors_alive, 16);
    system.shutdown().unwrap();
    assert!(others.iter().chain(&more).all(|a| !a.is_alive()));
    assert!(!second.is_alive());
}

/// A cell outlives its actor only while something holds its address: once
/// the actor has stopped and the addresses are gone it is freed, after any
/// number of turns that left it idle, turns that rescheduled it, and
/// restarts. The probe is the factory a supervised child's cell keeps for
/// its restarts (the supervisor's spec holds the other copy).
#[test]
fn a_stopped_actors_cell_is_freed_after_idle_turns_and_restarts() {
    use playhouse::{ChildSpec, Supervisor, SupervisorExt};
    enum Msg {
        Bump,
        Count(Reply<u32>),
        Fail,
    }
    struct Flaky(u32);
    impl Actor for Flaky {
        type Msg = Msg;
        fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
            match msg {
                Msg::Bump => self.0 += 1,
                Msg::Count(r) => {
                    let _ = r.send(self.0);
                }
                Msg::Fail => return Err("asked to fail".into()),
            }
            Ok(())
        }
    }
    let system = system();
    let token = Arc::new(0u32);
    let t = token.clone();
    let sup = Supervisor::builder()
        .name("sup")
        .intensity(10, std::time::Duration::from_secs(60))
        .child(ChildSpec::new("flaky", move || Flaky(*t)))
        .spawn(&system)
        .unwrap();
    // The supervisor answers once it has started its children.
    assert_eq!(sup.children(LIMIT).unwrap().len(), 1);
    let flaky: Addr<Flaky> = sup.child("flaky").expect("the child is up");
    for round in 0..3 {
        // Each ask finds the actor idle: one turn per message.
        for n in 0..20 {
            assert_eq!(flaky.ask(Msg::Count, LIMIT), Ok(n), "round {round}");
            flaky.tell(Msg::Bump).unwrap();
        }
        // A burst: turns that end with work left are rescheduled.
        for _ in 0..200 {
            flaky.tell(Msg::Bump).unwrap();
        }
        assert_eq!(flaky.ask(Msg::Count, LIMIT), Ok(220), "round {round}");
        flaky.tell(Msg::Fail).unwrap(); // restarted with a fresh count
    }
    assert!(
        Arc::strong_count(&token) >= 2,
        "the child's cell keeps its factory while it lives"
    );
    drop(flaky);
    drop(sup);
    system.shutdown().unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "a stopped actor's cell (or its supervisor's spec) was not freed"
    );
}
