//! Backpressure with watermarks: a fast producer and a slow consumer whose bounded mailbox holds the producer back and lets it go on.
//!
//! Run it with `cargo run --example backpressure`.
//!
//! The consumer's mailbox holds 16 messages (the high watermark) with a low
//! watermark of 4. Two producers feed it in turn:
//!
//! 1. A plain thread outside the pool, with the blocking `tell`: when the
//!    mailbox is full the thread waits, and it wakes once the consumer has
//!    drained the queue to the low watermark.
//! 2. An actor, with `Context::send_flow`: a pool worker never blocks, so
//!    when the mailbox is full the *actor* is suspended; `Flow::Suspended`
//!    tells it to stop producing, and it goes on in a later turn, once the
//!    queue is down to the low watermark.
//!
//! Each prints how often it was held back, the queue length when it was
//! let go, and the peak queue length against the capacity; the example
//! checks that every message arrived, in order, and that the queue never
//! outgrew the capacity (plus the one parked message of a suspended actor).

use crossbeam_channel::{Receiver, Sender, bounded};
use playhouse::{Actor, ActorError, Addr, Context, Flow, SpawnOptions, System, TrySendError};
use std::process::ExitCode;
use std::time::Duration;

const CAPACITY: usize = 16;
const LOW_WATERMARK: usize = 4;
const MESSAGES: u64 = 400;
/// How long the consumer takes per message.
const WORK: Duration = Duration::from_micros(200);
const T: Duration = Duration::from_secs(30);

/// What the consumer saw of one producer's messages.
#[derive(Debug, Default)]
struct Received {
    count: u64,
    in_order: bool,
    /// The longest queue it found behind a message it took.
    peak: usize,
}

/// A slow consumer. It sleeps to stand for slow work, so it runs on a
/// thread of its own (`dedicated_thread`): a sleeping handler on the pool
/// would hold a worker.
struct Consumer {
    next: u64,
    seen: Received,
    done: Sender<Received>,
}

impl Consumer {
    fn new(done: Sender<Received>) -> Self {
        Consumer {
            next: 0,
            seen: Received {
                in_order: true,
                ..Received::default()
            },
            done,
        }
    }
}

impl Actor for Consumer {
    type Msg = u64;

    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        let queued = ctx.addr().metrics().mailbox_len;
        self.seen.peak = self.seen.peak.max(queued);
        self.seen.in_order &= n == self.next;
        self.next = n + 1;
        self.seen.count += 1;
        std::thread::sleep(WORK);
        if self.seen.count == MESSAGES {
            let _ = self.done.send(std::mem::take(&mut self.seen));
        }
        Ok(())
    }
}

fn spawn_consumer(
    system: &System,
    name: &str,
) -> Result<(Addr<Consumer>, Receiver<Received>), String> {
    let (done, report) = bounded(1);
    let options = SpawnOptions::new()
        .name(name)
        .mailbox_capacity(CAPACITY)
        .low_watermark(LOW_WATERMARK)
        .dedicated_thread();
    let consumer = system
        .spawn_with(options, move || Consumer::new(done.clone()))
        .map_err(|e| e.to_string())?;
    Ok((consumer, report))
}

/// How a producer was held back: how often, and the queue length each time
/// it was let go again.
#[derive(Debug, Default)]
struct HeldBack {
    times: u64,
    resumed_at: Vec<usize>,
    peak: usize,
}

impl HeldBack {
    fn print(&self, who: &str) {
        let shown: Vec<String> = self
            .resumed_at
            .iter()
            .take(5)
            .map(|n| n.to_string())
            .collect();
        println!(
            "  {who} was held back {} times; let go with the queue at {}{} (low watermark {LOW_WATERMARK})",
            self.times,
            shown.join(", "),
            if self.resumed_at.len() > 5 {
                ", ..."
            } else {
                ""
            }
        );
    }
}

/// Part 1: a plain thread. `try_tell` first only to see the mailbox full;
/// `tell` then blocks the thread until there is room.
fn thread_producer(consumer: Addr<Consumer>) -> Result<HeldBack, String> {
    let mut held = HeldBack::default();
    for n in 0..MESSAGES {
        match consumer.try_tell(n) {
            Ok(()) => {}
            Err(TrySendError::Full(n)) => {
                held.times += 1;
                held.peak = held.peak.max(consumer.metrics().mailbox_len);
                if held.times <= 3 {
                    println!("  blocked: the mailbox is full ({CAPACITY} queued)");
                }
                consumer.tell(n).map_err(|e| e.to_string())?;
                // Woken at the low watermark, then it put its message in.
                let queued = consumer.metrics().mailbox_len;
                if held.times <= 3 {
                    println!("  resumed: {queued} queued, this message included");
                }
                held.resumed_at.push(queued);
            }
            Err(e) => return Err(e.to_string()),
        }
        held.peak = held.peak.max(consumer.metrics().mailbox_len);
    }
    Ok(held)
}

enum ProducerMsg {
    /// Produce the next messages, until done or suspended.
    Go,
    /// Report how it went, once every message is sent.
    Done(Sender<HeldBack>),
}

/// Part 2: an actor producing many messages from its handler. It produces
/// until `send_flow` says it is suspended, then sends itself `Go` to go on:
/// that message is taken only once the parked send is in, so memory stays
/// bounded by the consumer's capacity plus one parked message.
struct Producer {
    to: Addr<Consumer>,
    next: u64,
    held: HeldBack,
    report: Option<Sender<HeldBack>>,
}

impl Actor for Producer {
    type Msg = ProducerMsg;

    fn handle(&mut self, ctx: &mut Context<Self>, msg: ProducerMsg) -> Result<(), ActorError> {
        match msg {
            ProducerMsg::Done(report) => self.report = Some(report),
            ProducerMsg::Go => {
                if self.next > 0 {
                    // A later turn: the parked send went in at the low watermark.
                    self.held.resumed_at.push(self.to.metrics().mailbox_len);
                }
                while self.next < MESSAGES {
                    let n = self.next;
                    self.next += 1;
                    let flow = ctx.send_flow(&self.to, n)?;
                    self.held.peak = self.held.peak.max(self.to.metrics().mailbox_len);
                    if flow == Flow::Suspended {
                        self.held.times += 1;
                        let me = ctx.addr();
                        ctx.send(&me, ProducerMsg::Go)?;
                        return Ok(());
                    }
                }
            }
        }
        if self.next == MESSAGES
            && let Some(r) = self.report.take()
        {
            let _ = r.send(std::mem::take(&mut self.held));
        }
        Ok(())
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        println!("  ok: {what}");
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

/// Checks what the consumer got and how the producer was held back. A
/// producer thread that found the mailbox full may still find room at once
/// if the consumer takes a message between its `try_tell` and its `tell`,
/// so for it only most resumptions need be at the low watermark (`all`).
fn check_consumer(
    seen: &Received,
    held: &HeldBack,
    parked: usize,
    all: bool,
) -> Result<(), String> {
    println!(
        "  peak queue length {} (seen by the consumer {}) against a capacity of {CAPACITY}",
        held.peak, seen.peak
    );
    check(seen.count == MESSAGES, "every message was delivered")?;
    check(seen.in_order, "in the order sent")?;
    check(held.times > 0, "the producer was held back")?;
    check(
        held.peak.max(seen.peak) <= CAPACITY + parked,
        "the queue never outgrew the capacity",
    )?;
    let at_low = held
        .resumed_at
        .iter()
        .filter(|&&q| q <= LOW_WATERMARK + 1)
        .count();
    let enough = if all {
        held.resumed_at.len()
    } else {
        held.resumed_at.len().div_ceil(2)
    };
    println!(
        "  {at_low} of {} resumptions came at the low watermark",
        held.resumed_at.len()
    );
    check(
        at_low >= enough,
        "the producer went on once the queue was down to the low watermark",
    )
}

fn run() -> Result<(), String> {
    let system = System::builder()
        .name("backpressure")
        .build()
        .map_err(|e| e.to_string())?;

    println!("1. A thread outside the pool: tell blocks while the mailbox is full");
    let (consumer, done) = spawn_consumer(&system, "slow-1")?;
    let producer = std::thread::spawn(move || thread_producer(consumer));
    let held = producer.join().map_err(|_| "the producer panicked")??;
    let seen = done
        .recv_timeout(T)
        .map_err(|_| "the consumer did not finish")?;
    held.print("the thread");
    check_consumer(&seen, &held, 0, false)?;

    println!("2. An actor: send_flow suspends it (never its worker) and it yields");
    let (consumer, done) = spawn_consumer(&system, "slow-2")?;
    let producer = system
        .spawn(move || Producer {
            to: consumer.clone(),
            next: 0,
            held: HeldBack::default(),
            report: None,
        })
        .map_err(|e| e.to_string())?;
    let (report, held) = bounded(1);
    producer
        .tell(ProducerMsg::Done(report))
        .map_err(|e| e.to_string())?;
    producer.tell(ProducerMsg::Go).map_err(|e| e.to_string())?;
    let seen = done
        .recv_timeout(T)
        .map_err(|_| "the consumer did not finish")?;
    let held = held
        .recv_timeout(T)
        .map_err(|_| "the producer did not finish")?;
    held.print("the actor");
    // A suspended actor's one parked message goes in when it resumes.
    check_consumer(&seen, &held, 1, true)?;

    system.shutdown().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => {
            println!("all checks passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("backpressure: {e}");
            ExitCode::FAILURE
        }
    }
}
