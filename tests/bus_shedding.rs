//! Shedding policies (DropNewest, DropOldest, Fail): exact counts, delivered + dropped = published, drops visible in stats.

mod common;

use common::{Gate, LIMIT};
use crossbeam_channel::{Receiver, Sender, bounded};
use playhouse::{
    Actor, ActorError, Addr, Context, EventBus, Overflow, Recipient, Reply, SpawnOptions,
    Subscribe, SubscribeError, System,
};

const EVENTS: u64 = 1_000;

enum Msg {
    Ev(u64),
    Seen(Reply<Vec<u64>>),
}

/// Records events; blocks on a gate inside its first one, after saying so.
struct Stalling {
    got: Vec<u64>,
    gate: Option<(Gate, Sender<()>)>,
}

impl Actor for Stalling {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Ev(n) => {
                if let Some((gate, entered)) = self.gate.take() {
                    entered.send(()).unwrap();
                    gate.wait();
                }
                self.got.push(n);
            }
            Msg::Seen(r) => {
                let _ = r.send(self.got.clone());
            }
        }
        Ok(())
    }
}

struct Setup {
    system: System,
    bus: Addr<EventBus<u64>>,
    stalling: Addr<Stalling>,
    fast: Addr<Stalling>,
    gate: Gate,
    entered: Receiver<()>,
}

/// A bus with a subscriber of mailbox capacity 4 that will stall inside its
/// first event, and a fast Backpressure subscriber to everything.
fn setup(bus_capacity: usize) -> Setup {
    let system = common::system(4);
    let bus = EventBus::<u64>::builder()
        .mailbox_capacity(bus_capacity)
        .spawn(&system)
        .unwrap();
    let gate = Gate::new();
    let (entered_tx, entered) = bounded(1);
    let stalling = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(4), {
            let gate = gate.clone();
            move || Stalling {
                got: Vec::new(),
                gate: Some((gate.clone(), entered_tx.clone())),
            }
        })
        .unwrap();
    let fast = system
        .spawn(|| Stalling {
            got: Vec::new(),
            gate: None,
        })
        .unwrap();
    bus.subscribe_all(fast.recipient_with(Msg::Ev), LIMIT)
        .unwrap();
    Setup {
        system,
        bus,
        stalling,
        fast,
        gate,
        entered,
    }
}

fn recipient(a: &Addr<Stalling>) -> Recipient<u64> {
    a.recipient_with(Msg::Ev)
}

/// Publishes event 0, waits until the subscriber is stalled in it, then
/// publishes the rest.
fn publish_while_stalled(s: &Setup) {
    s.bus.publish(0).unwrap();
    s.entered.recv_timeout(LIMIT).unwrap();
    for n in 1..EVENTS {
        s.bus.publish(n).unwrap();
    }
}

#[test]
fn drop_newest_sheds_what_finds_the_mailbox_full() {
    let s = setup(1024);
    let spec = Subscribe::all().overflow(Overflow::DropNewest);
    let sub = s
        .bus
        .subscribe_with(spec, recipient(&s.stalling), LIMIT)
        .unwrap();
    publish_while_stalled(&s);

    // The stats ask is queued behind every publish: all are handled. Event 0 is
    // in the stalled handler, 1..=4 fill the mailbox, the rest were dropped.
    let stats = s.bus.stats(LIMIT).unwrap();
    let mine = stats.subscriber(sub).unwrap();
    assert_eq!((mine.delivered, mine.dropped, mine.buffered), (5, 995, 0));
    assert_eq!(mine.overflow, Overflow::DropNewest);
    assert_eq!(stats.published, EVENTS);
    assert_eq!(stats.delivered, 5 + EVENTS, "the fast subscriber got all");
    assert_eq!(stats.dropped, 995);
    assert_eq!(mine.delivered + mine.dropped, stats.published);
    assert_eq!(
        s.system.metrics().dead_letters,
        995,
        "every shed event is reported to dead letters"
    );

    s.gate.open();
    s.system.await_quiescent(LIMIT).unwrap(); // the subscriber drains
    s.bus.publish(EVENTS).unwrap(); // room again: delivered
    s.system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        s.stalling.ask(Msg::Seen, LIMIT).unwrap(),
        vec![0, 1, 2, 3, 4, EVENTS]
    );
    assert_eq!(
        s.fast.ask(Msg::Seen, LIMIT).unwrap(),
        (0..=EVENTS).collect::<Vec<_>>()
    );
    s.system.shutdown().unwrap();
}

#[test]
fn drop_oldest_keeps_the_newest_in_a_bounded_buffer() {
    let s = setup(1024);
    let spec = Subscribe::all().overflow(Overflow::DropOldest(8));
    let sub = s
        .bus
        .subscribe_with(spec, recipient(&s.stalling), LIMIT)
        .unwrap();
    publish_while_stalled(&s);

    // 0 in the handler, 1..=4 in the mailbox, the newest 8 (992..=999) in the
    // bus's buffer, everything between shed.
    let stats = s.bus.stats(LIMIT).unwrap();
    let mine = stats.subscriber(sub).unwrap();
    assert_eq!((mine.delivered, mine.dropped, mine.buffered), (5, 987, 8));
    assert_eq!(s.system.metrics().dead_letters, 987);
    assert_eq!(
        mine.delivered + mine.dropped + mine.buffered as u64,
        stats.published
    );

    // Once the subscriber makes room the buffer drains on its own (the bus
    // retries from a timer): no further publish is needed.
    s.gate.open();
    s.bus.flush(LIMIT).unwrap();
    let stats = s.bus.stats(LIMIT).unwrap();
    let mine = stats.subscriber(sub).unwrap();
    assert_eq!((mine.delivered, mine.dropped, mine.buffered), (13, 987, 0));
    assert_eq!(mine.delivered + mine.dropped, stats.published);
    s.system.await_quiescent(LIMIT).unwrap();
    let mut expected: Vec<u64> = (0..=4).collect();
    expected.extend(992..EVENTS);
    assert_eq!(s.stalling.ask(Msg::Seen, LIMIT).unwrap(), expected);
    assert_eq!(
        s.fast.ask(Msg::Seen, LIMIT).unwrap(),
        (0..EVENTS).collect::<Vec<_>>()
    );
    s.system.shutdown().unwrap();
}

#[test]
fn fail_unsubscribes_at_the_first_full_mailbox() {
    let s = setup(1024);
    let spec = Subscribe::all().overflow(Overflow::Fail);
    let sub = s
        .bus
        .subscribe_with(spec, recipient(&s.stalling), LIMIT)
        .unwrap();
    publish_while_stalled(&s);

    // 0..=4 delivered, 5 found the mailbox full: dropped, and the subscription
    // ended; 6.. went to the fast subscriber only.
    let stats = s.bus.stats(LIMIT).unwrap();
    assert!(stats.subscriber(sub).is_none());
    assert_eq!(stats.subscribers.len(), 1);
    assert_eq!((stats.dropped, stats.pruned), (1, 1));
    assert_eq!(stats.delivered, 5 + EVENTS);
    assert_eq!(s.bus.unsubscribe(sub, LIMIT), Ok(false));

    s.gate.open();
    s.system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        s.stalling.ask(Msg::Seen, LIMIT).unwrap(),
        vec![0, 1, 2, 3, 4]
    );
    assert!(s.stalling.is_alive(), "only the subscription ended");
    s.system.shutdown().unwrap();
}

#[test]
fn shedding_subscribers_never_slow_the_publisher() {
    // A bus mailbox of 4 and a stalled subscriber: had the bus waited for it,
    // the publisher would be stuck after a handful of events.
    let s = setup(4);
    let subs: Vec<_> = [Overflow::DropNewest, Overflow::DropOldest(2)]
        .into_iter()
        .map(|o| {
            let spec = Subscribe::all().overflow(o);
            s.bus
                .subscribe_with(spec, recipient(&s.stalling), LIMIT)
                .unwrap()
        })
        .collect();
    s.bus.publish(0).unwrap();
    s.entered.recv_timeout(LIMIT).unwrap();
    for n in 1..EVENTS {
        s.bus.publish_timeout(n, LIMIT).unwrap();
    }
    let stats = s.bus.stats(LIMIT).unwrap();
    assert_eq!(stats.published, EVENTS);
    for sub in subs {
        let m = stats.subscriber(sub).unwrap();
        assert_eq!(m.delivered + m.dropped + m.buffered as u64, EVENTS, "{m:?}");
        assert!(m.dropped > 0, "{m:?}");
    }
    s.gate.open();
    s.bus.flush(LIMIT).unwrap();
    s.system.shutdown().unwrap();
}

#[test]
fn a_zero_drop_oldest_buffer_is_refused() {
    let s = setup(1024);
    let spec = Subscribe::all().overflow(Overflow::DropOldest(0));
    let err = s
        .bus
        .subscribe_with(spec, recipient(&s.fast), LIMIT)
        .unwrap_err();
    assert!(matches!(err, SubscribeError::ZeroBuffer), "{err:?}");
    assert_eq!(
        err.to_string(),
        "a drop-oldest buffer must hold at least one event"
    );
    s.system.shutdown().unwrap();
}
