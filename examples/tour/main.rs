//! The playhouse tour: a small order-processing shop in which every pattern does real work, together.
//!
//! Run it with `cargo run --example tour` (add `RUST_LOG=debug` to follow
//! every order and the runtime's own log).
//!
//! ```text
//!  producer ─tell─► desk ─► order-N aggregates ─► file journal   (event sourcing)
//!  (a plain          │       (persist, then apply)
//!   thread)          ▼
//!                event bus ─Placed─► cashier ─► circuit breaker ─► flaky gateway
//!                    │                  └─────── outcome ─► desk
//!                    ├─Paid─► stream: revenue per product per time window
//!                    └─Paid─► stream: large orders first ─► packers ─Shipped─► desk
//!                                                           (supervised; one jams)
//! ```
//!
//! - A **producer** thread outside the pool sends orders in bursts with the
//!   blocking `tell`: when the desk's small mailbox is full, it waits.
//! - The **desk** runs one **event-sourced aggregate** per order, which
//!   validates it and persists its events to a **file journal** (in a
//!   temporary directory) before they count; the desk then publishes them on
//!   the **event bus**.
//! - The **cashier** charges each placed order through a **circuit
//!   breaker** in front of a payment gateway that declines some cards,
//!   sometimes hangs (a timeout is a failure) and has one outage: the
//!   breaker opens, probes while half-open, and closes again.
//! - Two **stream** pipelines read paid orders from the bus: one sums
//!   revenue per product over time windows, the other hands orders to the
//!   packers at the warehouse's pace, large ones first.
//! - The packers run under a **supervision tree**; one fails on purpose and
//!   is restarted.
//! - The run ends with a **graceful shutdown** and its report; then the
//!   journal is reopened in a fresh system and replayed, to show that the
//!   orders survive.
//!
//! Every flake comes from a seeded generator, so runs repeat (up to the
//! timing of the breaker's windows). The tour checks its own numbers and
//! exits non-zero if one is wrong.

mod desk;
mod fulfilment;
mod order;
mod payments;
mod report;
mod rng;

use crate::desk::{Desk, DeskMsg};
use crate::fulfilment::{PACKERS, Packer};
use crate::order::{
    CATALOGUE, EventCodec, Order, OrderEvent, OrderRequest, SalesReport, Status, Topic,
};
use crate::payments::{Cashier, CashierMsg, Gateway, PaymentError};
use crate::report::{DeadLetterCount, Replay, Run};
use crate::rng::SplitMix64;
use crossbeam_channel::Receiver;
use playhouse::breaker::{BreakerAddr, CircuitBreaker, Listeners, Transition};
use playhouse::bus::{EventBus, EventBusExt, Subscribe};
use playhouse::persist::{EventSourcedAddr, FileJournal, Persistence, ProjectionAddr, ReadAfter};
use playhouse::{Addr, ChildSpec, Supervisor, SupervisorExt, System, TrySendError};
use std::collections::BTreeMap;
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The seed of every random choice: orders, declines, hangs.
const SEED: u64 = 2026;
const ORDERS: u64 = 120;
/// Orders come in bursts (a lunch rush), with a pause between bursts.
const BURST: u64 = 10;
const BURST_GAP: Duration = Duration::from_millis(20);
/// Small, so that a burst fills it and the producer waits.
const DESK_MAILBOX: usize = 4;
const T: Duration = Duration::from_secs(10);

/// The default log: the tour's own story at info, and from playhouse only
/// warnings and errors, except the two it logs for failures injected here
/// (the breaker opening, a supervised child failing): the tour reports those
/// itself, labelled as expected. `RUST_LOG` overrides all of it.
const DEFAULT_LOG: &str =
    "tour=info,playhouse=warn,playhouse::breaker=error,playhouse::supervisor=error";

fn init_log() {
    let start = Instant::now();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(DEFAULT_LOG))
        .target(env_logger::Target::Stdout)
        .format(move |buf, record| {
            let ms = start.elapsed().as_millis();
            if record.target().starts_with("tour") && record.level() == log::Level::Info {
                writeln!(buf, "[{ms:>5} ms] {}", record.args())
            } else {
                let (level, target) = (record.level(), record.target());
                writeln!(buf, "[{ms:>5} ms] {level} {target}: {}", record.args())
            }
        })
        .init();
}

/// A fresh directory under the system's temporary directory, removed when
/// dropped (also on an early return).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("playhouse-tour-{}-{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The next order: mostly good ones, about one in twelve unknown or absurd.
fn next_order(rng: &mut SplitMix64, id: u64) -> OrderRequest {
    let (product, _) = CATALOGUE[rng.below(CATALOGUE.len() as u64) as usize];
    let quantity = 1 + rng.below(4) as u32;
    match rng.below(24) {
        0 => OrderRequest {
            id,
            product: "gift card",
            quantity,
        },
        1 => OrderRequest {
            id,
            product,
            quantity: 0,
        },
        _ => OrderRequest {
            id,
            product,
            quantity,
        },
    }
}

/// The producer: a plain thread, outside the pool. `tell` blocks it while
/// the desk's mailbox is full, which is how a slow shop slows its intake
/// (`try_tell` first only to count how often that happens). Returns that
/// count.
fn produce(desk: Addr<Desk>) -> Result<u64, String> {
    let mut rng = SplitMix64::new(SEED);
    let mut held_back = 0;
    for id in 1..=ORDERS {
        match desk.try_tell(DeskMsg::Place(next_order(&mut rng, id))) {
            Ok(()) => {}
            Err(TrySendError::Full(order)) => {
                held_back += 1;
                desk.tell(order).map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("the desk refused order {id}: {e}")),
        }
        if id % BURST == 0 {
            std::thread::sleep(BURST_GAP);
        }
    }
    desk.tell(DeskMsg::ProducerDone(ORDERS))
        .map_err(|e| e.to_string())?;
    Ok(held_back)
}

/// Tells customers how their orders ended: plain synchronous code reading
/// a bus subscription through a channel, until the bus stops. Returns how
/// many notices it sent.
fn notify(events: crossbeam_channel::Receiver<OrderEvent>) -> u64 {
    let mut sent = 0;
    for e in events {
        let notice = match e {
            OrderEvent::Rejected { id, reason } => format!("order {id} was refused: {reason}"),
            OrderEvent::PaymentFailed { id, reason } => {
                format!("order {id} is cancelled, its payment failed: {reason}")
            }
            OrderEvent::Shipped { id, packer } => format!("order {id} is on its way ({packer})"),
            OrderEvent::Placed(_) | OrderEvent::Paid(_) => continue,
        };
        log::debug!("email: {notice}");
        sent += 1;
    }
    sent
}

fn log_transition(t: &Transition) {
    let open_for = t
        .open_for
        .map(|d| format!(" for {d:?}"))
        .unwrap_or_default();
    let why = match t.reason {
        playhouse::breaker::Reason::ConsecutiveFailures(n) => format!("{n} failures in a row"),
        playhouse::breaker::Reason::ResetTimeout => "time to probe".into(),
        playhouse::breaker::Reason::ProbeFailed => "the probe failed".into(),
        playhouse::breaker::Reason::ProbesSucceeded => "the probe succeeded".into(),
        other => format!("{other:?}"),
    };
    let label = if t.to == playhouse::breaker::State::Closed {
        ""
    } else {
        "[expected] "
    };
    log::info!(
        "{label}payment breaker {} -> {}{open_for} ({why})",
        t.from,
        t.to
    );
}

/// The shop's actors, as the tour talks to them.
struct Shop {
    desk: Addr<Desk>,
    cashier: Addr<Cashier>,
    breaker: payments::Breaker,
    fulfilment: Addr<Supervisor>,
    packers: Vec<Addr<Packer>>,
    /// Signalled once every order has reached its end.
    done: Receiver<()>,
    /// The breaker's transitions, as its listener heard them.
    transitions: Receiver<Transition>,
}

/// Builds the supervision tree: `shop` (one-for-one) holds the gateway, the
/// breaker, the desk, the cashier and the `fulfilment` supervisor, which
/// holds the packers. Each `add_child` answers with the child's address,
/// which stays the same across restarts, so it can be wired into the next.
fn open_shop(
    system: &System,
    persistence: &Persistence,
    bus: &desk::Bus,
) -> Result<Shop, Box<dyn Error>> {
    let shop = Supervisor::builder()
        .name("shop")
        .intensity(5, Duration::from_secs(1))
        .spawn(system)?;
    let gateway = shop.add_child(ChildSpec::new("gateway", || Gateway::new(SEED)), T)?;
    let (transitions_tx, transitions) = crossbeam_channel::unbounded();
    let listeners = Listeners::new().on_transition(move |t| {
        log_transition(t);
        let _ = transitions_tx.send(*t);
    });
    let breaker_factory = CircuitBreaker::builder(payments::breaker_config()?, gateway.recipient())
        // A declined card says nothing about the gateway's health.
        .ignore_errors(|e| *e == PaymentError::Declined)
        .listeners(listeners)
        .factory();
    let breaker = shop.add_child(ChildSpec::new("payments", breaker_factory), T)?;
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let desk = shop.add_child(
        ChildSpec::new("desk", {
            let (persistence, bus) = (persistence.clone(), bus.clone());
            move || Desk::new(persistence.clone(), bus.clone(), done_tx.clone())
        })
        .mailbox_capacity(DESK_MAILBOX),
        T,
    )?;
    let cashier = shop.add_child(
        ChildSpec::new("cashier", {
            let (breaker, desk) = (breaker.clone(), desk.clone());
            move || Cashier::new(breaker.clone(), desk.clone())
        }),
        T,
    )?;
    let mut packing = Supervisor::builder()
        .intensity(3, Duration::from_secs(1))
        .backoff(Duration::from_millis(5), Duration::from_millis(50));
    for name in PACKERS {
        let desk = desk.clone();
        packing = packing.child(ChildSpec::new(name, move || {
            Packer::new(name, desk.clone())
        }));
    }
    let fulfilment = shop.add_child(ChildSpec::supervisor("fulfilment", packing), T)?;
    // add_child answers once the nested supervisor's children have started.
    let packers = PACKERS
        .iter()
        .map(|name| {
            fulfilment
                .child::<Packer>(name)
                .ok_or("a packer did not start")
        })
        .collect::<Result<Vec<_>, _>>()?;

    // The cashier hears of placed orders from the bus.
    bus.subscribe(Topic::Placed, cashier.recipient_with(CashierMsg::Event), T)?;
    Ok(Shop {
        desk,
        cashier,
        breaker,
        fulfilment,
        packers,
        done,
        transitions,
    })
}

/// Runs the shop until every order has reached its end, then shuts it down.
fn run(dir: &Path) -> Result<Run, Box<dyn Error>> {
    let started = Instant::now();
    let dead_letters = Arc::new(DeadLetterCount::default());
    let system = System::builder()
        .name("shop")
        .on_dead_letter({
            let count = Arc::clone(&dead_letters);
            move |letter| count.add(letter)
        })
        .build()?;
    let journal = Arc::new(FileJournal::open(dir)?);
    let persistence = Persistence::new(journal.clone());
    let bus = EventBus::builder()
        .topic_fn(order::topic)
        .name("events")
        .spawn(&system)?;

    let shop = open_shop(&system, &persistence, &bus)?;

    // Two streams read paid orders from the bus; a plain thread reads how
    // orders ended.
    let revenue = fulfilment::revenue(&bus, &system)?;
    let dispatch = fulfilment::dispatch(&bus, &system, shop.packers.clone())?;
    let (notices_tx, notices) = crossbeam_channel::bounded(16);
    let outcomes = Subscribe::topics([Topic::Rejected, Topic::PaymentFailed, Topic::Shipped]);
    bus.subscribe_channel(outcomes, notices_tx, T)?;
    let notifier = std::thread::Builder::new()
        .name("notifier".into())
        .spawn(move || notify(notices))?;
    log::info!("the shop is open: {ORDERS} orders on their way, in bursts of {BURST}");

    let producer = std::thread::Builder::new().name("producer".into()).spawn({
        let desk = shop.desk.clone();
        move || produce(desk)
    })?;
    let held_back = producer.join().map_err(|_| "the producer panicked")??;
    log::info!("the producer is done; the desk's full mailbox held it back {held_back} times");
    shop.done
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the orders did not all reach an end within 30 s")?;
    log::info!("every order has reached its end");

    // Stopping the bus once it has handed everything on closes the streams'
    // subscriptions: they flush their last windows and complete.
    bus.flush(T)?;
    bus.stop();
    let notified = notifier.join().map_err(|_| "the notifier panicked")?;
    let windows = revenue.wait(T)?;
    let dispatched = dispatch.wait(T)?;
    let tally = shop.desk.ask(DeskMsg::Tally, T)?;
    let payments = shop.cashier.ask(CashierMsg::Stats, T)?;
    let breaker = shop.breaker.breaker_metrics(T)?;
    let restarts = shop
        .fulfilment
        .children(T)?
        .iter()
        .map(|c| c.restarts)
        .sum();
    let metrics = system.metrics();
    let journal = journal.stats();

    let stopping = Instant::now();
    let shutdown = system.shutdown();
    let shutdown_took = stopping.elapsed();
    Ok(Run {
        held_back,
        notified,
        tally,
        payments,
        breaker,
        transitions: shop.transitions.try_iter().collect(),
        windows,
        dispatched,
        restarts,
        failures: metrics.failures,
        dead_letters: dead_letters.snapshot(),
        journal,
        shutdown,
        shutdown_took,
        elapsed: started.elapsed(),
    })
}

/// Reopens the journal in a fresh system: a projection rebuilds the sales
/// report from it, and every accepted order's aggregate replays its stream.
fn replay(dir: &Path, accepted: &BTreeMap<u64, Status>) -> Result<Replay, Box<dyn Error>> {
    let journal = Arc::new(FileJournal::open(dir)?);
    let torn_tail = journal.torn_tail().is_some();
    let system = System::builder().name("replay").build()?;
    let persistence = Persistence::new(journal);
    let sales = persistence
        .projection("sales", SalesReport::default, EventCodec)
        .spawn(&system)?;
    let report = sales.query(ReadAfter::Now, |r| r.clone(), T)?;
    let mut mismatches = Vec::new();
    let mut shown = false;
    for (&id, &want) in accepted {
        let order = persistence
            .event_sourced(order::stream_of(id), move || Order(id), EventCodec)
            .spawn(&system)?;
        let (state, seq) = order.inspect(|s, seq| (s.clone(), seq), T)?;
        if state.status != want {
            mismatches.push(format!(
                "order {id}: {:?} after replay, {want:?} in the run",
                state.status
            ));
        }
        if state.status == Status::Shipped && !shown {
            shown = true;
            log::info!(
                "order {id} replayed from the reopened journal: {:?}, {} cents, after {seq} events",
                state.status,
                state.cents
            );
        }
    }
    system.shutdown()?;
    Ok(Replay {
        report,
        replayed: accepted.len(),
        mismatches,
        torn_tail,
    })
}

fn main() -> ExitCode {
    init_log();
    let outcome = TempDir::new()
        .map_err(Box::<dyn Error>::from)
        .and_then(|dir| {
            log::info!("journal in {}", dir.0.display());
            let run = run(&dir.0)?;
            let replay = replay(&dir.0, &run.tally.outcome)?;
            Ok((run, replay))
        });
    match outcome {
        Ok((run, replay)) => {
            report::print(&run, &replay, SEED);
            let failed = report::check(&run, &replay, ORDERS);
            if failed.is_empty() {
                println!("all checks passed");
                ExitCode::SUCCESS
            } else {
                for f in &failed {
                    eprintln!("tour: check failed: {f}");
                }
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tour: {e}");
            ExitCode::FAILURE
        }
    }
}
