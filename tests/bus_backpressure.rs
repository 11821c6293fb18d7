//! Backpressure policy: a slow subscriber loses nothing and slows the publishers; fast subscribers still get everything.

mod common;

use common::{Gate, LIMIT, init_log};
use crossbeam_channel::{Sender, bounded};
use playhouse::{
    Actor, ActorError, Addr, Context, EventBus, Overflow, Reply, SendTimeoutError, SpawnOptions,
    Subscribe, System, TrySendError,
};
use std::time::Duration;

const EVENTS: u64 = 100_000;
const BUS_CAPACITY: usize = 16;

enum Msg {
    Ev(u64),
    Report(Reply<(u64, bool)>),
}

/// Counts events and checks they come in order; optionally blocks on a gate
/// in its first handler, and works a little on each event.
struct Counter {
    next: u64,
    in_order: bool,
    gate: Option<(Gate, Sender<()>)>,
    work: u64,
}

impl Counter {
    fn new(work: u64, gate: Option<(Gate, Sender<()>)>) -> Self {
        Counter {
            next: 0,
            in_order: true,
            gate,
            work,
        }
    }
}

impl Actor for Counter {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Ev(n) => {
                if let Some((gate, entered)) = self.gate.take() {
                    entered.send(()).unwrap();
                    gate.wait();
                }
                self.in_order &= n == self.next;
                self.next += 1;
                std::hint::black_box((0..self.work).sum::<u64>());
            }
            Msg::Report(r) => {
                let _ = r.send((self.next, self.in_order));
            }
        }
        Ok(())
    }
}

#[test]
fn slow_subscriber_loses_nothing_and_slows_publishers() {
    let system = common::system(4);
    let bus: Addr<EventBus<u64>> = EventBus::builder()
        .mailbox_capacity(BUS_CAPACITY)
        .spawn(&system)
        .unwrap();
    let gate = Gate::new();
    let (entered_tx, entered) = bounded(1);
    let slow = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(4), {
            let gate = gate.clone();
            move || Counter::new(200, Some((gate.clone(), entered_tx.clone())))
        })
        .unwrap();
    let fast: Vec<_> = (0..2)
        .map(|_| system.spawn(|| Counter::new(0, None)).unwrap())
        .collect();
    bus.subscribe_all(slow.recipient_with(Msg::Ev), LIMIT)
        .unwrap();
    for f in &fast {
        bus.subscribe_all(f.recipient_with(Msg::Ev), LIMIT).unwrap();
    }

    // Stall the slow subscriber inside its first event.
    bus.publish(0).unwrap();
    entered.recv_timeout(LIMIT).unwrap();

    // Its mailbox (4) fills, the bus parks the next event with it and is
    // suspended, then the bus's mailbox (16) fills: try_publish says Full, and
    // a publisher that waits gets no room while the subscriber is stalled.
    let mut n = 1;
    let mut saw_full = false;
    for attempt in 0.. {
        assert!(attempt < 1_000, "the bus never pushed back ({n} accepted)");
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
            Err(SendTimeoutError::Timeout(_)) => {
                // Stable once the bus is suspended: nobody else sends to either.
                let parked = slow.metrics().mailbox_len == 4 + 1;
                if parked && bus.metrics().mailbox_len == BUS_CAPACITY {
                    break;
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
    // Event 0 in the stalled handler, 1..=4 in its mailbox, 5 parked with it,
    // 6..=21 in the bus's mailbox: 22 accepted, and no more.
    assert_eq!(n, 22);
    assert_eq!(bus.try_publish(n), Err(TrySendError::Full(n)));

    // Let it go, and publish the rest: nothing is lost.
    gate.open();
    let mut full_later = 0u64;
    for e in n..EVENTS {
        match bus.try_publish(e) {
            Ok(()) => {}
            Err(TrySendError::Full(e)) => {
                full_later += 1;
                bus.publish(e).unwrap();
            }
            Err(e) => panic!("{e}"),
        }
    }
    system.await_quiescent(LIMIT).unwrap();
    println!("the publisher found the bus full {full_later} more times");

    for sub in fast.iter().chain(std::iter::once(&slow)) {
        assert_eq!(sub.ask(Msg::Report, LIMIT).unwrap(), (EVENTS, true));
    }
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.published, EVENTS);
    assert_eq!(stats.delivered, 3 * EVENTS);
    assert_eq!(stats.dropped, 0);
    system.shutdown().unwrap();
}

/// Publishes `n` events through the context.
struct Producer {
    bus: Addr<EventBus<u64>>,
}

impl Actor for Producer {
    type Msg = u64;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        for e in 0..n {
            ctx.send(&self.bus, e.into())?;
        }
        Ok(())
    }
}

#[test]
fn on_a_single_worker_backpressure_suspends_actors_instead_of_blocking() {
    // One worker, tiny mailboxes everywhere: had the bus or the producer
    // blocked its worker on a full mailbox, nothing else could ever run.
    init_log();
    const N: u64 = 20_000;
    let system = System::builder().workers(1).build().unwrap();
    let bus: Addr<EventBus<u64>> = EventBus::builder()
        .mailbox_capacity(2)
        .spawn(&system)
        .unwrap();
    let subs: Vec<_> = [1, 3]
        .into_iter()
        .map(|cap| {
            system
                .spawn_with(SpawnOptions::new().mailbox_capacity(cap), || {
                    Counter::new(50, None)
                })
                .unwrap()
        })
        .collect();
    for s in &subs {
        bus.subscribe_all(s.recipient_with(Msg::Ev), LIMIT).unwrap();
    }
    let (tx, rx) = bounded(1);
    bus.subscribe_channel(playhouse::Subscribe::all(), tx, LIMIT)
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut next = 0;
        while next < N {
            assert_eq!(rx.recv_timeout(LIMIT).unwrap(), next);
            next += 1;
        }
    });
    let producer = system
        .spawn({
            let bus = bus.clone();
            move || Producer { bus: bus.clone() }
        })
        .unwrap();
    producer.tell(N).unwrap();
    reader.join().unwrap();
    system.await_quiescent(LIMIT).unwrap();
    for s in &subs {
        assert_eq!(s.ask(Msg::Report, LIMIT).unwrap(), (N, true));
    }
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(
        (stats.published, stats.delivered, stats.dropped),
        (N, 3 * N, 0)
    );
    system.shutdown().unwrap();
}

/// A burst through a bus with default settings into two slow subscribers
/// with tiny mailboxes, one that pushes back and one that sheds: every event
/// reaches the first and the system goes quiet.
#[test]
fn burst_into_a_backpressure_and_a_shedding_subscriber_drains() {
    init_log();
    const BURST: u64 = 2_000;
    let system = System::new();
    let bus: Addr<EventBus<u64>> = EventBus::builder().spawn(&system).unwrap();
    let tiny = || SpawnOptions::new().mailbox_capacity(4);
    let audit = system
        .spawn_with(tiny(), || Counter::new(20_000, None))
        .unwrap();
    let dashboard = system
        .spawn_with(tiny(), || Counter::new(20_000, None))
        .unwrap();
    bus.subscribe_all(audit.recipient_with(Msg::Ev), LIMIT)
        .unwrap();
    bus.subscribe_with(
        Subscribe::all().overflow(Overflow::DropNewest),
        dashboard.recipient_with(Msg::Ev),
        LIMIT,
    )
    .unwrap();
    for e in 0..BURST {
        match bus.try_publish(e) {
            Ok(()) => {}
            Err(TrySendError::Full(e)) => bus.publish(e).unwrap(),
            Err(e) => panic!("{e}"),
        }
    }
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(audit.ask(Msg::Report, LIMIT).unwrap(), (BURST, true));
    let (shed_seen, _) = dashboard.ask(Msg::Report, LIMIT).unwrap();
    assert!(shed_seen <= BURST);
    system.shutdown_timeout(LIMIT).unwrap();
}
