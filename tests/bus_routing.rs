//! Event bus routing: each subscriber gets exactly the events of its topics, in publish order, from threads and from actors.

mod common;

use common::{LIMIT, init_log};
use playhouse::{
    Actor, ActorError, Addr, BusMsg, Context, EventBus, Recipient, Reply, Subscribe, Subscription,
    System,
};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Topic {
    Users,
    Orders,
    Payments,
    /// Nobody subscribes to it.
    Shipping,
}

const TOPICS: [Topic; 4] = [
    Topic::Users,
    Topic::Orders,
    Topic::Payments,
    Topic::Shipping,
];

#[derive(Clone, Debug, PartialEq, Eq)]
struct Ev {
    topic: Topic,
    publisher: u32,
    seq: u64,
}

enum RecMsg {
    Ev(Ev),
    Seen(Reply<Vec<Ev>>),
}

/// Records every event it gets.
struct Recorder(Vec<Ev>);

impl Actor for Recorder {
    type Msg = RecMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: RecMsg) -> Result<(), ActorError> {
        match msg {
            RecMsg::Ev(e) => self.0.push(e),
            RecMsg::Seen(r) => {
                let _ = r.send(std::mem::take(&mut self.0));
            }
        }
        Ok(())
    }
}

fn recorder(system: &System) -> (Addr<Recorder>, Recipient<Ev>) {
    let addr = system.spawn(|| Recorder(Vec::new())).unwrap();
    let recipient = addr.recipient_with(RecMsg::Ev);
    (addr, recipient)
}

fn seen(addr: &Addr<Recorder>) -> Vec<Ev> {
    addr.ask(RecMsg::Seen, LIMIT).unwrap()
}

type Bus = Addr<EventBus<Ev, Topic>>;

fn bus(system: &System, capacity: usize) -> Bus {
    EventBus::builder()
        .topic_fn(|e: &Ev| e.topic)
        .mailbox_capacity(capacity)
        .spawn(system)
        .unwrap()
}

#[test]
fn each_subscriber_gets_exactly_its_topics_in_publish_order() {
    let system = common::system(4);
    let bus = bus(&system, 64);
    let (users, users_r) = recorder(&system);
    let (orders, orders_r) = recorder(&system);
    let (billing, billing_r) = recorder(&system);
    let (audit, audit_r) = recorder(&system);
    bus.subscribe(Topic::Users, users_r, LIMIT).unwrap();
    bus.subscribe(Topic::Orders, orders_r, LIMIT).unwrap();
    // A duplicate topic in the list still delivers each event once.
    let spec = Subscribe::topics([Topic::Orders, Topic::Payments, Topic::Orders]);
    bus.subscribe_with(spec, billing_r, LIMIT).unwrap();
    bus.subscribe_all(audit_r, LIMIT).unwrap();

    let events: Vec<Ev> = (0..4_000u64)
        .map(|seq| Ev {
            topic: TOPICS[(seq * 7 % 4) as usize],
            publisher: 0,
            seq,
        })
        .collect();
    for e in &events {
        bus.publish(e.clone()).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();

    let only = |ts: &[Topic]| -> Vec<Ev> {
        events
            .iter()
            .filter(|e| ts.contains(&e.topic))
            .cloned()
            .collect()
    };
    assert_eq!(seen(&users), only(&[Topic::Users]));
    assert_eq!(seen(&orders), only(&[Topic::Orders]));
    assert_eq!(seen(&billing), only(&[Topic::Orders, Topic::Payments]));
    assert_eq!(seen(&audit), events);

    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.published, 4_000);
    assert_eq!(stats.unrouted, 0, "the audit covers every event");
    let per_topic = 1_000;
    // users + orders + billing (two topics) + audit (all four)
    assert_eq!(stats.delivered, per_topic * (1 + 1 + 2 + 4));
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.subscribers.len(), 4);
    system.shutdown().unwrap();
}

#[test]
fn many_publishers_every_event_arrives_once_in_each_publishers_order() {
    init_log();
    const PUBLISHERS: u32 = 4;
    const EACH: u64 = 5_000;
    let system = System::builder().workers(4).build().unwrap();
    let bus = bus(&system, 32);
    let (audit, audit_r) = recorder(&system);
    let (orders, orders_r) = recorder(&system);
    bus.subscribe_all(audit_r, LIMIT).unwrap();
    bus.subscribe(Topic::Orders, orders_r, LIMIT).unwrap();

    let threads: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let bus = bus.clone();
            std::thread::spawn(move || {
                for seq in 0..EACH {
                    let topic = if seq % 2 == 0 {
                        Topic::Orders
                    } else {
                        Topic::Users
                    };
                    bus.publish(Ev {
                        topic,
                        publisher: p,
                        seq,
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();

    let check = |events: Vec<Ev>, expect_each: u64, step: u64| {
        let mut next: HashMap<u32, u64> = HashMap::new();
        for e in &events {
            let n = next.entry(e.publisher).or_insert(0);
            assert_eq!(e.seq, *n, "publisher {} out of order", e.publisher);
            *n += step;
        }
        assert_eq!(events.len() as u64, expect_each * u64::from(PUBLISHERS));
    };
    check(seen(&audit), EACH, 1);
    check(seen(&orders), EACH / 2, 2);
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.published, EACH * u64::from(PUBLISHERS));
    assert_eq!(stats.delivered, EACH * u64::from(PUBLISHERS) * 3 / 2);
    assert_eq!((stats.dropped, stats.unrouted), (0, 0));
    system.shutdown().unwrap();
}

/// Publishes `n` events from inside the pool, alternating the two ways an actor
/// can: the bus's address with `BusMsg`, and a publisher `Recipient`.
struct Producer {
    bus: Bus,
    publisher: Recipient<Ev>,
}

impl Actor for Producer {
    type Msg = u64;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        for seq in 0..n {
            let e = Ev {
                topic: Topic::Payments,
                publisher: 9,
                seq,
            };
            if seq % 2 == 0 {
                ctx.send(&self.bus, BusMsg::publish(e))?;
            } else {
                ctx.send(&self.publisher, e)?;
            }
        }
        Ok(())
    }
}

#[test]
fn actors_publish_through_the_context_without_blocking_their_worker() {
    init_log();
    // One worker: a blocked worker would stall everything. A bus mailbox of 2
    // makes the producer's sends park again and again.
    let system = System::builder().workers(1).build().unwrap();
    let bus = bus(&system, 2);
    let (payments, payments_r) = recorder(&system);
    bus.subscribe(Topic::Payments, payments_r, LIMIT).unwrap();
    let producer = system
        .spawn({
            let bus = bus.clone();
            move || Producer {
                bus: bus.clone(),
                publisher: bus.publisher(),
            }
        })
        .unwrap();
    producer.tell(1_000).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let got = seen(&payments);
    assert_eq!(got.len(), 1_000);
    assert!(got.iter().enumerate().all(|(i, e)| e.seq == i as u64));
    system.shutdown().unwrap();
}

enum SelfSub {
    Ev(Ev),
    Seen(Reply<(Option<Subscription>, Vec<u64>)>),
}

/// Subscribes itself from `started`, through `ctx.ask`.
struct SelfSubscriber {
    bus: Bus,
    sub: Option<Subscription>,
    got: Vec<u64>,
}

impl Actor for SelfSubscriber {
    type Msg = SelfSub;
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let me = ctx.addr().recipient_with(SelfSub::Ev);
        ctx.ask(
            &self.bus,
            |r| BusMsg::subscribe(Subscribe::topic(Topic::Users), me, r),
            LIMIT,
            |this: &mut SelfSubscriber, _, answer| {
                this.sub = Some(answer.expect("bus answered").expect("subscribed"));
            },
        )?;
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, msg: SelfSub) -> Result<(), ActorError> {
        match msg {
            SelfSub::Ev(e) => self.got.push(e.seq),
            SelfSub::Seen(r) => {
                let _ = r.send((self.sub, self.got.clone()));
            }
        }
        Ok(())
    }
}

#[test]
fn an_actor_subscribes_itself_with_ctx_ask() {
    let system = common::system(2);
    let bus = bus(&system, 16);
    let actor = system
        .spawn({
            let bus = bus.clone();
            move || SelfSubscriber {
                bus: bus.clone(),
                sub: None,
                got: Vec::new(),
            }
        })
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
    for seq in 0..10 {
        let topic = if seq < 5 { Topic::Users } else { Topic::Orders };
        bus.publish(Ev {
            topic,
            publisher: 0,
            seq,
        })
        .unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();
    let (sub, got) = actor.ask(SelfSub::Seen, LIMIT).unwrap();
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(stats.subscribers.len(), 1);
    assert_eq!(Some(stats.subscribers[0].subscription), sub);
    assert_eq!(stats.subscribers[0].recipient, actor.id());
    system.shutdown().unwrap();
}

#[test]
fn unsubscribe_by_handle_ends_delivery() {
    let system = common::system(2);
    let bus = bus(&system, 16);
    let (users, users_r) = recorder(&system);
    let sub = bus.subscribe(Topic::Users, users_r, LIMIT).unwrap();
    let ev = |seq| Ev {
        topic: Topic::Users,
        publisher: 0,
        seq,
    };
    for seq in 0..10 {
        bus.publish(ev(seq)).unwrap();
    }
    assert_eq!(bus.unsubscribe(sub, LIMIT), Ok(true));
    for seq in 10..20 {
        bus.publish(ev(seq)).unwrap();
    }
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        seen(&users).iter().map(|e| e.seq).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(bus.unsubscribe(sub, LIMIT), Ok(false), "already gone");
    let stats = bus.stats(LIMIT).unwrap();
    assert_eq!(
        (
            stats.published,
            stats.delivered,
            stats.unrouted,
            stats.pruned
        ),
        (20, 10, 10, 0)
    );
    assert!(stats.subscribers.is_empty());
    // A handle from another bus is not this bus's.
    let other = EventBus::builder()
        .topic_fn(|e: &Ev| e.topic)
        .spawn(&system)
        .unwrap();
    let (_, r) = recorder(&system);
    let foreign = other.subscribe(Topic::Users, r, LIMIT).unwrap();
    assert_ne!(foreign.bus(), sub.bus());
    assert_eq!(bus.unsubscribe(foreign, LIMIT), Ok(false));
    system.shutdown().unwrap();
}

#[test]
fn string_keys_route_too() {
    let system = common::system(2);
    let bus = EventBus::builder()
        .topic_fn(|e: &(String, u32)| e.0.clone())
        .spawn(&system)
        .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    bus.subscribe_channel(Subscribe::topic("b".to_string()), tx, LIMIT)
        .unwrap();
    for (i, key) in ["a", "b", "c", "b"].into_iter().enumerate() {
        bus.publish((key.to_string(), i as u32)).unwrap();
    }
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), ("b".to_string(), 1));
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), ("b".to_string(), 3));
    system.shutdown().unwrap();
}
