//! Channel subscribers: a plain thread receives every event in order through a bounded channel, with backpressure.

mod common;

use common::LIMIT;
use crossbeam_channel::{RecvTimeoutError, bounded, select};
use playhouse::{Addr, EventBus, SendTimeoutError, Subscribe, TrySendError};
use std::time::Duration;

const EVENTS: u64 = 5_000;

#[test]
fn a_slow_reader_on_a_bounded_1_channel_loses_nothing_and_slows_the_publisher() {
    let system = common::system(2);
    let bus: Addr<EventBus<u64>> = EventBus::builder()
        .mailbox_capacity(8)
        .spawn(&system)
        .unwrap();
    let (tx, rx) = bounded(1);
    let sub = bus.subscribe_channel(Subscribe::all(), tx, LIMIT).unwrap();
    let (go_tx, go) = bounded::<()>(1);

    // The reader waits for the go, then reads slowly, checking order.
    let reader = std::thread::spawn(move || {
        go.recv_timeout(LIMIT).unwrap();
        let mut next = 0;
        while next < EVENTS {
            let n = rx.recv_timeout(LIMIT).expect("an event");
            assert_eq!(n, next, "out of order");
            next += 1;
            std::hint::black_box((0..2_000u64).sum::<u64>());
        }
        rx
    });

    // Nobody reads yet: the channel (1) fills, the forwarder holds one and
    // suspends, its mailbox (16) fills, the bus parks one with it and
    // suspends, the bus's mailbox (8) fills. try_publish says Full, and a
    // publisher that waits gets no room. (If the bus filled the forwarder's
    // mailbox before it first ran, it holds 14 or 15: a parked send moves in
    // only once the mailbox drains to half, which a suspended actor never
    // does.)
    let stalled = (1 + 1 + 14 + 1 + 8)..=(1 + 1 + 16 + 1 + 8);
    let mut n = 0;
    let mut saw_full = false;
    for attempt in 0.. {
        assert!(
            attempt < 1_000,
            "the bus never pushed back: {n} {:?}",
            bus.metrics()
        );
        if !saw_full {
            match bus.try_publish(n) {
                Ok(()) => n += 1,
                Err(TrySendError::Full(_)) => saw_full = true,
                Err(e) => panic!("{e}"),
            }
            continue;
        }
        match bus.publish_timeout(n, Duration::from_millis(20)) {
            Ok(()) => n += 1,
            Err(SendTimeoutError::Timeout(_)) if stalled.contains(&n) => break,
            Err(SendTimeoutError::Timeout(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    go_tx.send(()).unwrap();
    for e in n..EVENTS {
        bus.publish(e).unwrap();
    }
    let rx = reader.join().unwrap();
    assert!(rx.try_recv().is_err(), "nothing beyond what was published");
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.published, EVENTS);
    let mine = stats.subscriber(sub).unwrap();
    assert_eq!((mine.delivered, mine.dropped), (EVENTS, 0));
    system.shutdown().unwrap();
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    User(u32),
    Order(u32),
}

#[test]
fn a_plain_thread_selects_over_two_subscriptions() {
    let system = common::system(2);
    let bus = EventBus::builder()
        .topic_fn(|e: &Ev| matches!(e, Ev::Order(_)))
        .spawn(&system)
        .unwrap();
    let (users_tx, users) = bounded(2);
    let (orders_tx, orders) = bounded(2);
    bus.subscribe_channel(Subscribe::topic(false), users_tx, LIMIT)
        .unwrap();
    bus.subscribe_channel(Subscribe::topic(true), orders_tx, LIMIT)
        .unwrap();
    let consumer = std::thread::spawn(move || {
        let (mut u, mut o) = (Vec::new(), Vec::new());
        while u.len() + o.len() < 200 {
            select! {
                recv(users) -> e => u.push(e.unwrap()),
                recv(orders) -> e => o.push(e.unwrap()),
                default(LIMIT) => panic!("no event"),
            }
        }
        (u, o)
    });
    for i in 0..100 {
        bus.publish(Ev::User(i)).unwrap();
        bus.publish(Ev::Order(i)).unwrap();
    }
    let (u, o) = consumer.join().unwrap();
    assert_eq!(u, (0..100).map(Ev::User).collect::<Vec<_>>());
    assert_eq!(o, (0..100).map(Ev::Order).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

#[test]
fn a_dropped_receiver_ends_the_subscription() {
    let system = common::system(2);
    let bus = EventBus::<u64>::builder().spawn(&system).unwrap();
    let (tx, rx) = bounded(4);
    let sub = bus.subscribe_channel(Subscribe::all(), tx, LIMIT).unwrap();
    bus.publish(1).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(1));
    drop(rx);
    bus.publish(2).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let stats = bus.stats(LIMIT).unwrap();
    assert!(stats.subscriber(sub).is_none());
    assert_eq!(stats.pruned, 1);
    bus.publish(3).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(bus.stats(LIMIT).unwrap().unrouted, 1);
    system.shutdown().unwrap();
}

#[test]
fn unsubscribing_a_channel_disconnects_it() {
    let system = common::system(2);
    let bus = EventBus::<u64>::builder().spawn(&system).unwrap();
    let (tx, rx) = bounded(4);
    let sub = bus.subscribe_channel(Subscribe::all(), tx, LIMIT).unwrap();
    bus.publish(1).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(1));
    assert_eq!(bus.unsubscribe(sub, LIMIT), Ok(true));
    assert_eq!(rx.recv_timeout(LIMIT), Err(RecvTimeoutError::Disconnected));
    system.shutdown().unwrap();
}

#[test]
fn stopping_the_bus_disconnects_its_channels() {
    let system = common::system(2);
    let bus = EventBus::<u64>::builder().spawn(&system).unwrap();
    let (tx, rx) = bounded(4);
    bus.subscribe_channel(Subscribe::all(), tx, LIMIT).unwrap();
    bus.publish(1).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    // A stop overtakes queued events (they go to dead letters), so it comes
    // after the event is through.
    bus.stop();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(1));
    assert_eq!(rx.recv_timeout(LIMIT), Err(RecvTimeoutError::Disconnected));
    system.shutdown().unwrap();
}
