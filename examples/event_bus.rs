//! An event bus for a small shop: users sign up, place orders, payments are processed; a logger, an analytics actor and a plain thread listen.
//!
//! Run it with `cargo run --example event_bus` (add `RUST_LOG=info` to see the
//! logger subscriber's lines and the bus's own log).
//!
//! It shows routing by topic (an enum of event kinds), an actor that reacts to
//! one event by publishing another from inside the pool, a synchronous thread
//! that `select!`s over two channel subscriptions, per-subscriber overflow
//! policies under a burst, the bus's stats, and channels disconnecting on
//! shutdown.

use crossbeam_channel::{Receiver, bounded, select};
use playhouse::bus::{BusMsg, EventBus, EventBusExt, Overflow, Subscribe};
use playhouse::{Actor, ActorError, Addr, Context, Reply, SpawnOptions, System, TrySendError};
use std::collections::BTreeSet;
use std::time::Duration;

#[derive(Clone, Debug)]
enum Event {
    UserCreated {
        user: String,
    },
    OrderPlaced {
        order: u64,
        user: String,
        cents: u64,
    },
    PaymentProcessed {
        order: u64,
        cents: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    User,
    Order,
    Payment,
}

fn kind(e: &Event) -> Kind {
    match e {
        Event::UserCreated { .. } => Kind::User,
        Event::OrderPlaced { .. } => Kind::Order,
        Event::PaymentProcessed { .. } => Kind::Payment,
    }
}

type Bus = Addr<EventBus<Event, Kind>>;

/// Logs every event and counts them.
struct Logger {
    seen: u64,
}

enum LoggerMsg {
    Event(Event),
    Seen(Reply<u64>),
}

impl Actor for Logger {
    type Msg = LoggerMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: LoggerMsg) -> Result<(), ActorError> {
        match msg {
            LoggerMsg::Event(e) => {
                self.seen += 1;
                // The flow at info level; the burst of part 3 at debug.
                if self.seen <= 21 {
                    log::info!("[logger] {e:?}");
                } else {
                    log::debug!("[logger] {e:?}");
                }
            }
            LoggerMsg::Seen(r) => {
                let _ = r.send(self.seen);
            }
        }
        Ok(())
    }
}

/// Reacts to each order by charging it and publishing the payment: it
/// publishes from inside the pool with `ctx.send`, so a full bus suspends this
/// actor instead of blocking its worker.
struct Payments {
    bus: Bus,
}

impl Actor for Payments {
    type Msg = Event;
    fn handle(&mut self, ctx: &mut Context<Self>, e: Event) -> Result<(), ActorError> {
        if let Event::OrderPlaced { order, cents, .. } = e {
            ctx.send(
                &self.bus,
                BusMsg::publish(Event::PaymentProcessed { order, cents }),
            )?;
        }
        Ok(())
    }
}

/// Revenue figures: orders placed, by how many customers, money collected.
#[derive(Debug, Default, Clone)]
struct Figures {
    orders: u64,
    customers: BTreeSet<String>,
    ordered_cents: u64,
    paid_cents: u64,
}

enum AnalyticsMsg {
    Event(Event),
    Figures(Reply<Figures>),
}

struct Analytics(Figures);

impl Actor for Analytics {
    type Msg = AnalyticsMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: AnalyticsMsg) -> Result<(), ActorError> {
        match msg {
            AnalyticsMsg::Event(Event::OrderPlaced { cents, user, .. }) => {
                self.0.orders += 1;
                self.0.customers.insert(user);
                self.0.ordered_cents += cents;
            }
            AnalyticsMsg::Event(Event::PaymentProcessed { cents, .. }) => {
                self.0.paid_cents += cents;
            }
            AnalyticsMsg::Event(Event::UserCreated { .. }) => {}
            AnalyticsMsg::Figures(r) => {
                let _ = r.send(self.0.clone());
            }
        }
        Ok(())
    }
}

/// A slow consumer with a tiny mailbox, for the burst in part 3: counts the
/// orders it sees and remembers the last.
struct Slow {
    seen: u64,
    last: Option<u64>,
}

enum SlowMsg {
    Event(Event),
    Seen(Reply<(u64, Option<u64>)>),
}

impl Actor for Slow {
    type Msg = SlowMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: SlowMsg) -> Result<(), ActorError> {
        match msg {
            SlowMsg::Event(e) => {
                self.seen += 1;
                if let Event::OrderPlaced { order, .. } = e {
                    self.last = Some(order);
                }
                std::hint::black_box((0..20_000u64).sum::<u64>());
            }
            SlowMsg::Seen(r) => {
                let _ = r.send((self.seen, self.last));
            }
        }
        Ok(())
    }
}

/// A plain thread (no actor) that sends welcome emails and receipts: it
/// `select!`s over two channel subscriptions until both are disconnected, and
/// returns whom it welcomed and which orders it sent receipts for.
fn mailer(users: Receiver<Event>, payments: Receiver<Event>) -> (Vec<String>, Vec<u64>) {
    let (mut welcomed, mut receipts) = (Vec::new(), Vec::new());
    let (mut users_open, mut payments_open) = (true, true);
    while users_open || payments_open {
        select! {
            recv(users) -> e => match e {
                Ok(Event::UserCreated { user }) => welcomed.push(user),
                Ok(other) => unreachable!("users channel got {other:?}"),
                Err(_) => users_open = false,
            },
            recv(payments) -> e => match e {
                Ok(Event::PaymentProcessed { order, .. }) => receipts.push(order),
                Ok(other) => unreachable!("payments channel got {other:?}"),
                Err(_) => payments_open = false,
            },
        }
    }
    (welcomed, receipts)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let timeout = Duration::from_secs(5);
    let system = System::builder().name("shop").build()?;

    println!("1. A bus that routes by event kind, and its subscribers");
    let bus = EventBus::builder()
        .topic_fn(kind)
        .name("events")
        .mailbox_capacity(64)
        .spawn(&system)?;
    let logger = system.spawn(|| Logger { seen: 0 })?;
    let mut names = Vec::new();
    names.push((
        bus.subscribe_all(logger.recipient_with(LoggerMsg::Event), timeout)?,
        "logger",
    ));
    let payments = system.spawn({
        let bus = bus.clone();
        move || Payments { bus: bus.clone() }
    })?;
    names.push((
        bus.subscribe(Kind::Order, payments.recipient(), timeout)?,
        "payments",
    ));
    let analytics = system.spawn(|| Analytics(Figures::default()))?;
    // Analytics may fall behind in a burst; it must never slow the shop down.
    let spec = Subscribe::topics([Kind::Order, Kind::Payment]).overflow(Overflow::DropOldest(256));
    let sub = bus.subscribe_with(spec, analytics.recipient_with(AnalyticsMsg::Event), timeout)?;
    names.push((sub, "analytics"));
    let (users_tx, users_rx) = bounded(1);
    let (payments_tx, payments_rx) = bounded(1);
    let sub = bus.subscribe_channel(Subscribe::topic(Kind::User), users_tx, timeout)?;
    names.push((sub, "mailer: users"));
    let sub = bus.subscribe_channel(Subscribe::topic(Kind::Payment), payments_tx, timeout)?;
    names.push((sub, "mailer: payments"));
    let mailer = std::thread::spawn(move || mailer(users_rx, payments_rx));
    println!(
        "    logger: all events; payments: orders; analytics: orders and payments (drop-oldest);"
    );
    println!("    a mailer thread: users and payments through two bounded(1) channels");

    println!("2. The flow: users sign up and order; each order is charged by the payments actor");
    let users = ["ada", "grace", "edsger"];
    for user in users {
        bus.publish(Event::UserCreated { user: user.into() })?;
    }
    for order in 0..9u64 {
        let user = users[order as usize % users.len()].to_string();
        let cents = 1_000 + 250 * order;
        bus.publish(Event::OrderPlaced { order, user, cents })?;
    }
    system.await_quiescent(timeout)?;
    bus.flush(timeout)?;
    let figures = analytics.ask(AnalyticsMsg::Figures, timeout)?;
    println!(
        "    analytics: {} orders from {} customers, {} cents ordered, {} cents paid",
        figures.orders,
        figures.customers.len(),
        figures.ordered_cents,
        figures.paid_cents
    );
    println!(
        "    logger saw {} events (3 users + 9 orders + 9 payments)",
        logger.ask(LoggerMsg::Seen, timeout)?
    );

    println!(
        "3. A burst of 2000 orders: a slow Backpressure subscriber slows the publisher, nothing lost;"
    );
    println!("   a slow DropNewest subscriber sheds instead");
    let small = || SpawnOptions::new().mailbox_capacity(4);
    let slow = || Slow {
        seen: 0,
        last: None,
    };
    let audit = system.spawn_with(small(), slow)?;
    let dashboard = system.spawn_with(small(), slow)?;
    let audit_sub = bus.subscribe(Kind::Order, audit.recipient_with(SlowMsg::Event), timeout)?;
    let dashboard_sub = bus.subscribe_with(
        Subscribe::topic(Kind::Order).overflow(Overflow::DropNewest),
        dashboard.recipient_with(SlowMsg::Event),
        timeout,
    )?;
    let mut full = 0;
    for order in 100..2_100u64 {
        let e = Event::OrderPlaced {
            order,
            user: "load-test".into(),
            cents: 1,
        };
        match bus.try_publish(e) {
            Ok(()) => {}
            Err(TrySendError::Full(e)) => {
                full += 1;
                bus.publish(e)?; // waits for room
            }
            Err(e) => return Err(e.into()),
        }
    }
    system.await_quiescent(timeout)?;
    bus.flush(timeout)?;
    let stats = bus.stats(timeout)?;
    names.push((audit_sub, "audit"));
    let a = stats.subscriber(audit_sub).expect("subscribed");
    let d = stats.subscriber(dashboard_sub).expect("subscribed");
    println!("    the publisher found the bus full {full} times and waited");
    let (seen, last) = audit.ask(SlowMsg::Seen, timeout)?;
    println!(
        "    audit (backpressure): received {seen} (the last: order {}), dropped {}",
        last.unwrap_or_default(),
        a.dropped
    );
    let (seen, _) = dashboard.ask(SlowMsg::Seen, timeout)?;
    println!(
        "    dashboard (drop-newest): received {seen}, dropped {}",
        d.dropped
    );
    let figures = analytics.ask(AnalyticsMsg::Figures, timeout)?;
    println!(
        "    analytics (drop-oldest, 256): counted {} orders in all",
        figures.orders
    );

    println!("4. A subscriber that stops is pruned; publishing goes on");
    dashboard.stop();
    system.await_quiescent(timeout)?;
    bus.publish(Event::UserCreated {
        user: "barbara".into(),
    })?;
    system.await_quiescent(timeout)?;
    println!(
        "    dashboard stopped: {} subscription pruned, and barbara signed up",
        bus.stats(timeout)?.pruned
    );

    let stats = bus.stats(timeout)?;
    println!(
        "5. Stats: {} published, {} delivered, {} dropped, {} unrouted, {} pruned, {} subscriptions",
        stats.published,
        stats.delivered,
        stats.dropped,
        stats.unrouted,
        stats.pruned,
        stats.subscribers.len()
    );
    for s in &stats.subscribers {
        let name = names
            .iter()
            .find(|(sub, _)| *sub == s.subscription)
            .map_or("?", |(_, n)| n);
        println!(
            "    {name:<17} {:<16} delivered {:>5}, dropped {}",
            format!("{:?}", s.overflow),
            s.delivered,
            s.dropped
        );
    }

    system.shutdown()?;
    let (welcomed, receipts) = mailer.join().expect("the mailer thread");
    println!("6. Shut down: the channels disconnected and the mailer thread ended, having");
    println!(
        "    welcomed {} and sent {} receipts, the last for order {}",
        welcomed.join(", "),
        receipts.len(),
        receipts.last().copied().unwrap_or_default()
    );
    Ok(())
}
