//! Subscribers that stop, restart or were never alive: pruning through watch, surviving restarts, typed errors.

mod common;

use common::{LIMIT, init_log};
use crossbeam_channel::TryRecvError;
use crossbeam_channel::{Sender, unbounded};
use playhouse::bus::{EventBus, EventBusExt, Overflow, Subscribe, SubscribeError};
use playhouse::{
    Actor, ActorError, AskError, ChildSpec, Context, Reply, Restart, SendError, SpawnOptions,
    Strategy, Supervisor, SupervisorExt, System,
};
use std::time::Duration;

enum Msg {
    Ev(u64),
    Seen(Reply<Vec<u64>>),
}

/// Records events; stops itself after `quit_after` (reporting what it saw).
struct Quitter {
    got: Vec<u64>,
    quit_after: Option<u64>,
    report: Option<Sender<Vec<u64>>>,
}

impl Actor for Quitter {
    type Msg = Msg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Ev(n) => {
                self.got.push(n);
                if Some(n) == self.quit_after {
                    ctx.stop();
                }
            }
            Msg::Seen(r) => {
                let _ = r.send(self.got.clone());
            }
        }
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(tx) = &self.report {
            let _ = tx.send(std::mem::take(&mut self.got));
        }
    }
}

fn keeper() -> Quitter {
    Quitter {
        got: Vec::new(),
        quit_after: None,
        report: None,
    }
}

#[test]
fn a_subscriber_stopped_mid_stream_is_pruned_and_publishing_goes_on() {
    let system = common::system(4);
    let bus = EventBus::<u64>::builder()
        .mailbox_capacity(8)
        .spawn(&system)
        .unwrap();
    let (report, reported) = unbounded();
    // A small mailbox, so the bus has events parked with it when it stops: the
    // bus must not stay suspended on a subscriber that is gone.
    let quitter = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), move || Quitter {
            got: Vec::new(),
            quit_after: Some(99),
            report: Some(report.clone()),
        })
        .unwrap();
    let dropper = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), keeper)
        .unwrap();
    let other = system.spawn(keeper).unwrap();
    let q1 = bus
        .subscribe_all(quitter.recipient_with(Msg::Ev), LIMIT)
        .unwrap();
    // The same actor twice: both subscriptions go when it stops.
    let q2 = bus
        .subscribe_with(
            Subscribe::all().overflow(Overflow::DropOldest(4)),
            quitter.recipient_with(Msg::Ev),
            LIMIT,
        )
        .unwrap();
    bus.subscribe_with(
        Subscribe::all().overflow(Overflow::DropNewest),
        dropper.recipient_with(Msg::Ev),
        LIMIT,
    )
    .unwrap();
    bus.subscribe_all(other.recipient_with(Msg::Ev), LIMIT)
        .unwrap();

    for n in 0..1_000 {
        bus.publish(n).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();

    let seen = reported.recv_timeout(LIMIT).unwrap();
    assert_eq!(seen.last(), Some(&99), "it stopped after 99");
    assert!(
        (0..=99).all(|n| seen.contains(&n)),
        "the backpressure copy of each"
    );
    assert!(!quitter.is_alive());
    let stats = bus.stats(LIMIT).unwrap();
    assert!(stats.subscriber(q1).is_none() && stats.subscriber(q2).is_none());
    assert_eq!(stats.pruned, 2);
    assert_eq!(stats.subscribers.len(), 2);

    for n in 1_000..1_100 {
        bus.publish(n).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        other.ask(Msg::Seen, LIMIT).unwrap(),
        (0..1_100).collect::<Vec<_>>()
    );
    assert_eq!(bus.stats(LIMIT).unwrap().published, 1_100);
    system.shutdown().unwrap();
}

/// Fails on event 13; reports every other event to the test.
struct Flaky {
    tx: Sender<u64>,
}

impl Actor for Flaky {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        if n == 13 {
            return Err("thirteen".into());
        }
        self.tx.send(n).unwrap();
        Ok(())
    }
}

#[test]
fn a_subscriber_restarted_by_its_supervisor_keeps_receiving() {
    let system = common::system(4);
    let bus = EventBus::<u64>::builder().spawn(&system).unwrap();
    let (tx, rx) = unbounded();
    let sup = Supervisor::builder()
        .intensity(3, Duration::from_secs(60))
        .child(ChildSpec::new("flaky", move || Flaky { tx: tx.clone() }).mailbox_capacity(4))
        .name("subs")
        .spawn(&system)
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let flaky = sup.child::<Flaky>("flaky").expect("started");
    let sub = bus.subscribe_all(flaky.recipient(), LIMIT).unwrap();

    for n in 0..100 {
        bus.publish(n).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();

    let got: Vec<u64> = rx.try_iter().collect();
    let expected: Vec<u64> = (0..100).filter(|n| *n != 13).collect();
    assert_eq!(got, expected, "all but the one it failed on, in order");
    assert_eq!(sup.children(LIMIT).unwrap()[0].restarts, 1);
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.pruned, 0, "a restart is not a stop");
    let mine = stats.subscriber(sub).expect("still subscribed");
    assert_eq!((mine.recipient, mine.delivered), (flaky.id(), 100));
    system.shutdown().unwrap();
}

#[test]
fn subscribing_a_stopped_actor_is_a_typed_error() {
    let system = common::system(2);
    let bus = EventBus::<u64>::builder().spawn(&system).unwrap();
    let gone = system.spawn(keeper).unwrap();
    gone.stop();
    system.await_quiescent(LIMIT).unwrap();
    assert!(!gone.is_alive());

    let err = bus
        .subscribe_all(gone.recipient_with(Msg::Ev), LIMIT)
        .unwrap_err();
    assert!(matches!(err, SubscribeError::Stopped), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot subscribe an actor that has stopped"
    );
    assert!(bus.stats(LIMIT).unwrap().subscribers.is_empty());

    let alive = system.spawn(keeper).unwrap();
    let err = bus
        .subscribe_with(
            Subscribe::topics(Vec::<()>::new()),
            alive.recipient_with(Msg::Ev),
            LIMIT,
        )
        .unwrap_err();
    assert!(matches!(err, SubscribeError::NoTopics), "{err:?}");
    assert_eq!(err.to_string(), "a subscription needs at least one topic");
    system.shutdown().unwrap();
}

#[test]
fn a_stopped_bus_hands_events_back() {
    let system = common::system(2);
    let bus = EventBus::<u64>::builder().spawn(&system).unwrap();
    let alive = system.spawn(keeper).unwrap();
    bus.stop();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(bus.publish(7), Err(SendError::Closed(7)));
    assert_eq!(bus.try_publish(8), Err(playhouse::TrySendError::Closed(8)));
    let err = bus
        .subscribe_all(alive.recipient_with(Msg::Ev), LIMIT)
        .unwrap_err();
    assert!(
        matches!(err, SubscribeError::Ask(AskError::Closed)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "event bus did not answer");
    let cause = std::error::Error::source(&err).map(|e| e.to_string());
    assert_eq!(
        cause.as_deref(),
        Some("asked actor stopped before answering")
    );
    assert_eq!(bus.stats(LIMIT), Err(AskError::Closed));
    system.shutdown().unwrap();
}

#[test]
fn a_bus_can_be_a_supervised_child() {
    let system = common::system(2);
    let factory = EventBus::<u64>::builder().factory();
    let sup = Supervisor::builder()
        .child(ChildSpec::new("bus", factory).mailbox_capacity(16))
        .name("root")
        .spawn(&system)
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let bus = sup.child::<EventBus<u64>>("bus").expect("started");
    let (tx, rx) = crossbeam_channel::unbounded();
    bus.subscribe_channel(Subscribe::all(), tx, LIMIT).unwrap();
    bus.publish(5).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(5));
    assert_eq!(bus.metrics().mailbox_capacity, 16);
    system.shutdown().unwrap();
}

/// The event the bus's topic function below panics on.
const POISON: u64 = 666;

#[test]
fn a_bus_restarted_by_its_supervisor_keeps_its_subscriptions() {
    let system = common::system(2);
    // Topic: whether the event is even. A panic in the topic function fails
    // the bus, and its supervisor restarts it.
    let factory = EventBus::<u64>::builder()
        .topic_fn(|e: &u64| {
            assert_ne!(*e, POISON, "poisoned event");
            e.is_multiple_of(2)
        })
        .factory();
    let sup = Supervisor::builder()
        .child(ChildSpec::new("bus", factory))
        .name("root")
        .spawn(&system)
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let bus = sup.child::<EventBus<u64, bool>>("bus").expect("started");
    let evens = system.spawn(keeper).unwrap();
    bus.subscribe(true, evens.recipient_with(Msg::Ev), LIMIT)
        .unwrap();
    let (all_tx, all) = unbounded();
    bus.subscribe_channel(Subscribe::all(), all_tx, LIMIT)
        .unwrap();
    let (odd_tx, odds) = unbounded();
    let odd_sub = bus
        .subscribe_channel(Subscribe::topic(false), odd_tx, LIMIT)
        .unwrap();
    bus.publish(2).unwrap();
    assert_eq!(all.recv_timeout(LIMIT), Ok(2));

    bus.publish(POISON).unwrap();
    bus.publish(4).unwrap();
    bus.publish(5).unwrap();
    // The channel subscriptions' forwarders, children of the failed instance,
    // were stopped with it; the new instance spawned them again.
    assert_eq!(all.recv_timeout(LIMIT), Ok(4));
    assert_eq!(all.recv_timeout(LIMIT), Ok(5));
    assert_eq!(odds.recv_timeout(LIMIT), Ok(5));
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(evens.ask(Msg::Seen, LIMIT).unwrap(), vec![2, 4]);
    assert_eq!(sup.children(LIMIT).unwrap()[0].restarts, 1);
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.subscribers.len(), 3);
    assert_eq!(stats.published, 2, "counters start again with the instance");

    // A subscription from before the restart still ends, and its channel
    // closes: nothing else keeps the sender.
    assert!(bus.unsubscribe(odd_sub, LIMIT).unwrap());
    assert_eq!(
        odds.recv_timeout(LIMIT),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected)
    );
    bus.publish(7).unwrap();
    assert_eq!(all.recv_timeout(LIMIT), Ok(7));
    assert_eq!(bus.stats(LIMIT).unwrap().subscribers.len(), 2);
    system.shutdown().unwrap();
    // The bus stopped for good: its channel closes too.
    assert_eq!(
        all.recv_timeout(LIMIT),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected)
    );
}

#[test]
fn two_buses_from_one_factory_keep_their_own_subscriptions_across_restarts() {
    let system = common::system(2);
    let factory = EventBus::<u64>::builder()
        .topic_fn(|e: &u64| assert_ne!(*e, POISON, "poisoned event"))
        .factory();
    let sup = Supervisor::builder()
        .child(ChildSpec::new("a", factory.clone()))
        .child(ChildSpec::new("b", factory))
        .name("root")
        .spawn(&system)
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let a = sup.child::<EventBus<u64>>("a").expect("started");
    let b = sup.child::<EventBus<u64>>("b").expect("started");
    let (a_tx, a_rx) = unbounded();
    a.subscribe_channel(Subscribe::all(), a_tx, LIMIT).unwrap();
    let (b_tx, b_rx) = unbounded();
    b.subscribe_channel(Subscribe::all(), b_tx, LIMIT).unwrap();

    b.publish(POISON).unwrap();
    b.publish(1).unwrap();
    assert_eq!(b_rx.recv_timeout(LIMIT), Ok(1));
    a.publish(2).unwrap();
    assert_eq!(a_rx.recv_timeout(LIMIT), Ok(2));
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(b.stats(LIMIT).unwrap().subscribers.len(), 1);
    assert_eq!(a.stats(LIMIT).unwrap().subscribers.len(), 1);
    assert!(
        a_rx.is_empty() && b_rx.is_empty(),
        "each event once, to its own bus's subscriber"
    );
    system.shutdown().unwrap();
}

/// A bus of numbers whose topic function panics on [`POISON`].
fn poisonable() -> impl Fn() -> EventBus<u64> + Send + Sync + Clone + 'static {
    EventBus::<u64>::builder()
        .topic_fn(|e: &u64| assert_ne!(*e, POISON, "poisoned event"))
        .factory()
}

/// The started child "bus" of `sup`, and a channel subscribed to all of its
/// events.
fn bus_with_a_channel(
    system: &System,
    sup: &playhouse::Addr<Supervisor>,
) -> (
    playhouse::Addr<EventBus<u64>>,
    crossbeam_channel::Receiver<u64>,
) {
    system.await_quiescent(LIMIT).unwrap();
    let bus = sup.child::<EventBus<u64>>("bus").unwrap();
    let (tx, rx) = unbounded();
    bus.subscribe_channel(Subscribe::all(), tx, LIMIT).unwrap();
    (bus, rx)
}

/// Fails on every message.
struct Crasher;

impl Actor for Crasher {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Err("crash".into())
    }
}

#[test]
fn a_bus_restarted_for_a_siblings_failure_keeps_its_subscriptions() {
    let system = common::system(2);
    let sup = Supervisor::builder()
        .strategy(Strategy::OneForAll)
        .child(ChildSpec::new("bus", poisonable()))
        .child(ChildSpec::new("crash", || Crasher))
        .name("root")
        .spawn(&system)
        .unwrap();
    let (bus, rx) = bus_with_a_channel(&system, &sup);
    bus.publish(1).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(1));
    // The bus is halted, not failed: its instance's stopped hook runs.
    sup.child::<Crasher>("crash").unwrap().tell(()).unwrap();
    common::wait_until("both children restarted", || {
        sup.children(LIMIT).unwrap().iter().all(|c| c.restarts == 1)
    });
    bus.publish(2).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(2));
    assert_eq!(bus.stats(LIMIT).unwrap().subscribers.len(), 1);
    system.shutdown().unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_permanent_bus_stopped_through_its_address_comes_back_with_its_subscriptions() {
    let system = common::system(2);
    let sup = Supervisor::builder()
        .child(ChildSpec::new("bus", poisonable()))
        .name("root")
        .spawn(&system)
        .unwrap();
    let (bus, rx) = bus_with_a_channel(&system, &sup);
    bus.stop();
    common::wait_until("the bus restarted", || {
        sup.children(LIMIT).unwrap()[0].restarts == 1
    });
    bus.publish(2).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(2));
    system.shutdown().unwrap();
}

/// What a bus keeps for a restart goes when it stops for good, channel
/// senders included: every way a supervised bus can end for good closes its
/// channel subscriptions.
#[test]
fn a_bus_that_ends_for_good_closes_its_channels() {
    init_log();
    enum End {
        Temporary,
        SupervisorGivesUp,
        ShutdownDuringBackoff,
    }
    for end in [
        End::Temporary,
        End::SupervisorGivesUp,
        End::ShutdownDuringBackoff,
    ] {
        let system = System::builder().workers(2).build().unwrap();
        let mut spec = ChildSpec::new("bus", poisonable());
        let mut sup = Supervisor::builder();
        match end {
            End::Temporary => spec = spec.restart(Restart::Temporary),
            End::SupervisorGivesUp => sup = sup.intensity(0, Duration::from_secs(5)),
            End::ShutdownDuringBackoff => {
                sup = sup.backoff(Duration::from_secs(60), Duration::from_secs(60))
            }
        }
        let sup = sup.child(spec).name("root").spawn(&system).unwrap();
        let (bus, rx) = bus_with_a_channel(&system, &sup);
        bus.publish(POISON).unwrap();
        match end {
            End::Temporary => common::wait_until("the bus is gone", || !bus.is_alive()),
            End::SupervisorGivesUp => {
                common::wait_until("the supervisor is gone", || !sup.is_alive())
            }
            End::ShutdownDuringBackoff => common::wait_until("the bus failed", || {
                sup.children(LIMIT).unwrap()[0].restarts == 1
            }),
        }
        system.shutdown().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }
}
