//! Savina-style workloads on playhouse and, in the same run, on plain threads talking through bounded crossbeam channels.
//!
//! Run it with `cargo run --release --example bench` (a few minutes). Flags:
//! `--quick` for a run under a minute, `--json` for one JSON object per
//! workload per line instead of the table, `--only ping-pong,ring` to run some
//! workloads, `--reps N` to change the number of repetitions, `--scale F` to
//! multiply every size (e.g. `--quick --scale 0.1` under a profiler),
//! `--verbose` to print every repetition to stderr (spawn adds the time per
//! actor of its three phases: spawning, telling, receiving the replies),
//! `--playhouse-only` to
//! skip the baselines (for profilers), `--workers N` to change the pool (the
//! default is one worker per CPU).
//!
//! Each figure is the median of several repetitions; a repetition runs the
//! playhouse side, then the baseline, each on fresh threads (a new `System`
//! with the default pool, one worker per CPU, unless `--workers` says
//! otherwise). Only the work itself is timed,
//! not building or shutting down. Every workload checks its own final counts
//! and panics with the numbers if they are wrong; `tests/bench_workloads.rs`
//! runs them all at tiny sizes.
//!
//! The workloads:
//!
//! - **ping-pong**: two actors exchange N round trips, one message in flight;
//!   baseline: two threads and two `bounded(1)` channels.
//! - **fan-in**: 4 producer threads outside the pool `tell` N messages in all
//!   to one counting actor with a mailbox of 1024; baseline: 4 threads into one
//!   `bounded(1024)` channel, one consumer thread.
//! - **ring**: 503 actors in a ring pass one token T hops; baseline: 503
//!   threads in a ring of `bounded(1)` channels.
//! - **spawn**: spawn A actors, tell each one message, wait for every reply;
//!   also the growth of peak RSS per actor. Baseline: a thread per item (each
//!   receives one message over a channel and replies) at a smaller count,
//!   since 200k threads is not a baseline anyone runs; rates are per item.
//!   The spawn line also reports a *raw floor*: the workload's allocations
//!   and hand-offs with no actor runtime, and so no mailbox or message block
//!   (per item a fresh 272-byte object behind an `Arc`, handed
//!   twice through one shared unbounded channel to as many plain threads as
//!   the pool has workers, once to start it and once with its message, and
//!   one reply), as a measure of what the machine allows in this run.
//! - **fan-out**: a publisher actor sends N messages to each of 8 subscriber
//!   actors with `Context::send` (so a full mailbox suspends it); baseline:
//!   one thread sending into 8 `bounded(1024)` channels, 8 consumer threads.
//! - **idle**: 1000 idle actors for 2 s: CPU seconds per wall second of the
//!   whole process (utime + stime from `/proc/self/stat`); baseline: 1000
//!   threads blocked on `recv`.

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use playhouse::{Actor, ActorError, Addr, Context, Reply, SpawnOptions, System};
use std::fmt::Write as _;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The longest a workload waits for its own completion before it panics: a
/// stalled or leaking run fails loudly instead of hanging.
const LIMIT: Duration = Duration::from_secs(120);

/// Workers of every playhouse system the workloads start; 0 means the
/// default, one per CPU. Set once by `--workers`, before any workload runs.
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// A system with the default pool, or `--workers N` workers.
fn new_system() -> System {
    // ORDERING: Relaxed; written by `main` before any workload starts.
    match WORKERS.load(Ordering::Relaxed) {
        0 => System::new(),
        n => System::builder()
            .workers(n)
            .build()
            .expect("start the system"),
    }
}

/// The sizes of one benchmark run.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Repetitions per workload and side; each figure is their median.
    pub reps: usize,
    /// Round trips of ping-pong.
    pub ping_pong: u64,
    /// Messages of fan-in, in all (split over the producers).
    pub fan_in: u64,
    /// Actors (and baseline threads) in the ring.
    pub ring_len: usize,
    /// Hops of the ring's token.
    pub ring_hops: u64,
    /// Actors of the spawn workload.
    pub spawn_actors: usize,
    /// Threads of the spawn workload's baseline.
    pub spawn_threads: usize,
    /// Messages of fan-out, per subscriber.
    pub fan_out: u64,
    /// Actors (and baseline threads) of the idle workload.
    pub idle_actors: usize,
    /// How long the idle workload sits idle.
    pub idle_for: Duration,
}

impl Sizes {
    /// The full run: `cargo run --release --example bench`.
    pub fn full() -> Self {
        Sizes {
            reps: 5,
            ping_pong: 200_000,
            fan_in: 2_000_000,
            ring_len: 503,
            ring_hops: 500_000,
            spawn_actors: 200_000,
            spawn_threads: 2_000,
            fan_out: 200_000,
            idle_actors: 1000,
            idle_for: Duration::from_secs(2),
        }
    }

    /// A run under a minute: `--quick`.
    pub fn quick() -> Self {
        Sizes {
            reps: 3,
            ping_pong: 50_000,
            fan_in: 500_000,
            ring_hops: 100_000,
            spawn_actors: 50_000,
            spawn_threads: 1_000,
            fan_out: 50_000,
            ..Sizes::full()
        }
    }

    /// Just enough to check the counts (the test suite, debug builds).
    pub fn tiny() -> Self {
        Sizes {
            reps: 1,
            ping_pong: 200,
            fan_in: 4_000,
            ring_len: 503,
            ring_hops: 2_000,
            spawn_actors: 2_000,
            spawn_threads: 50,
            fan_out: 1_000,
            idle_actors: 200,
            idle_for: Duration::from_millis(20),
        }
    }

    /// Every count multiplied by `factor` (at least 1; the ring keeps its
    /// length, idle its actors and duration).
    pub fn scaled(mut self, factor: f64) -> Self {
        let s = |n: u64| ((n as f64 * factor) as u64).max(1);
        self.ping_pong = s(self.ping_pong);
        self.fan_in = s(self.fan_in);
        self.ring_hops = s(self.ring_hops);
        self.spawn_actors = s(self.spawn_actors as u64) as usize;
        self.spawn_threads = s(self.spawn_threads as u64) as usize;
        self.fan_out = s(self.fan_out);
        self
    }
}

/// One repetition of one side of a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Items done: round trips, messages, hops, actors or deliveries.
    pub items: u64,
    /// Wall time of the timed part.
    pub elapsed: Duration,
    /// Growth of peak RSS per item, in bytes (spawn only, when measurable).
    pub bytes_per_item: Option<f64>,
    /// CPU seconds per wall second of the whole process (idle only).
    pub cpu_fraction: Option<f64>,
    /// The pool's steals and parks during the timed part (playhouse only).
    pub pool: Option<PoolCounts>,
    /// Nanoseconds per item in each phase of the timed part, for `--verbose`
    /// (spawn: spawning, telling, receiving the replies).
    pub phase_ns: Option<[f64; 3]>,
}

/// The pool counters that tell how a run was scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolCounts {
    /// Tasks a worker took from another's queue.
    pub steals: u64,
    /// Times a worker went to sleep.
    pub parks: u64,
}

impl PoolCounts {
    /// The counters now.
    fn of(system: &System) -> Self {
        let m = system.metrics();
        PoolCounts {
            steals: m.steals,
            parks: m.parks,
        }
    }

    /// What the counters gained since `self` was read.
    fn since(self, system: &System) -> Self {
        let now = PoolCounts::of(system);
        PoolCounts {
            steals: now.steals - self.steals,
            parks: now.parks - self.parks,
        }
    }
}

impl Sample {
    fn timed(items: u64, elapsed: Duration) -> Self {
        Sample {
            items,
            elapsed,
            bytes_per_item: None,
            cpu_fraction: None,
            pool: None,
            phase_ns: None,
        }
    }

    fn with_pool(self, pool: PoolCounts) -> Self {
        Sample {
            pool: Some(pool),
            ..self
        }
    }

    /// Items per second.
    pub fn rate(&self) -> f64 {
        self.items as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The figure the table shows: the CPU fraction for idle, else the rate.
    pub fn figure(&self) -> f64 {
        self.cpu_fraction.unwrap_or_else(|| self.rate())
    }
}

/// A workload: its playhouse side, its baseline, and how to read them.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The name used in the table, the JSON and `--only`.
    pub name: &'static str,
    /// The unit of the rates.
    pub unit: &'static str,
    /// Runs the playhouse side once.
    pub playhouse: fn(&Sizes) -> Sample,
    /// Runs the baseline once.
    pub baseline: fn(&Sizes) -> Sample,
    /// Runs the raw floor once, where the workload has one (spawn).
    pub floor: Option<fn(&Sizes) -> Sample>,
    /// What a reader of the table needs to know about this run's sizes.
    pub note: fn(&Sizes) -> String,
}

/// Every workload, in the order of the table.
pub fn workloads() -> [Workload; 6] {
    [
        Workload {
            name: "ping-pong",
            unit: "round trips/s",
            playhouse: |s| ping_pong::playhouse(s.ping_pong),
            baseline: |s| ping_pong::baseline(s.ping_pong),
            floor: None,
            note: |s| format!("{} round trips", s.ping_pong),
        },
        Workload {
            name: "fan-in",
            unit: "msgs/s",
            playhouse: |s| fan_in::playhouse(s.fan_in),
            baseline: |s| fan_in::baseline(s.fan_in),
            floor: None,
            note: |s| format!("{} msgs from {} threads", s.fan_in, fan_in::PRODUCERS),
        },
        Workload {
            name: "ring",
            unit: "hops/s",
            playhouse: |s| ring::playhouse(s.ring_len, s.ring_hops),
            baseline: |s| ring::baseline(s.ring_len, s.ring_hops),
            floor: None,
            note: |s| format!("{} hops, {} actors / threads", s.ring_hops, s.ring_len),
        },
        Workload {
            name: "spawn",
            unit: "actors/s",
            playhouse: |s| spawn::playhouse(s.spawn_actors),
            baseline: |s| spawn::baseline(s.spawn_threads),
            floor: Some(|s| spawn::floor(s.spawn_actors)),
            note: |s| {
                format!(
                    "{} actors; baseline: {} threads, one per item, per-item rate",
                    s.spawn_actors, s.spawn_threads
                )
            },
        },
        Workload {
            name: "fan-out",
            unit: "deliveries/s",
            playhouse: |s| fan_out::playhouse(s.fan_out),
            baseline: |s| fan_out::baseline(s.fan_out),
            floor: None,
            note: |s| {
                format!(
                    "{} msgs to each of {} subscribers",
                    s.fan_out,
                    fan_out::SUBSCRIBERS
                )
            },
        },
        Workload {
            name: "idle",
            unit: "cpu s / wall s",
            playhouse: |s| idle::playhouse(s.idle_actors, s.idle_for),
            baseline: |s| idle::baseline(s.idle_actors, s.idle_for),
            floor: None,
            note: |s| {
                format!(
                    "{} actors / threads idle for {:?}",
                    s.idle_actors, s.idle_for
                )
            },
        },
    ]
}

/// The result of one workload: the medians and what went into them.
#[derive(Debug, Clone)]
pub struct Report {
    /// The workload.
    pub workload: Workload,
    /// The playhouse samples, one per repetition.
    pub ours: Vec<Sample>,
    /// The baseline samples, one per repetition.
    pub theirs: Vec<Sample>,
    /// The raw floor's samples, one per repetition (spawn only).
    pub floor: Vec<Sample>,
    /// The workload's note for these sizes.
    pub note: String,
}

impl Report {
    /// The median playhouse figure (a rate, or the CPU fraction for idle).
    pub fn rate(&self) -> f64 {
        median(self.ours.iter().map(Sample::figure))
    }

    /// The median baseline figure.
    pub fn baseline_rate(&self) -> f64 {
        median(self.theirs.iter().map(Sample::figure))
    }

    /// The median raw-floor rate (NaN if the workload has none or it was
    /// skipped).
    pub fn floor_rate(&self) -> f64 {
        median(self.floor.iter().map(Sample::rate))
    }

    /// playhouse / baseline; for idle, the playhouse CPU fraction itself.
    pub fn ratio(&self) -> f64 {
        if self.is_idle() {
            self.rate()
        } else {
            self.rate() / self.baseline_rate()
        }
    }

    fn is_idle(&self) -> bool {
        self.ours.iter().any(|s| s.cpu_fraction.is_some())
    }

    /// Peak-RSS growth per actor, from the first repetition: later ones reuse
    /// memory the allocator kept from the first and so grow less.
    pub fn bytes_per_actor(&self) -> Option<f64> {
        self.ours.first().and_then(|s| s.bytes_per_item)
    }

    /// As [`Report::bytes_per_actor`], per baseline thread.
    pub fn baseline_bytes_per_thread(&self) -> Option<f64> {
        self.theirs.first().and_then(|s| s.bytes_per_item)
    }

    /// The median of the pool's steals and parks per item, playhouse side.
    pub fn pool_per_item(&self) -> Option<(f64, f64)> {
        let per_item = |f: fn(&PoolCounts) -> u64| {
            median(
                self.ours
                    .iter()
                    .filter_map(|s| s.pool.map(|p| f(&p) as f64 / s.items.max(1) as f64)),
            )
        };
        let steals = per_item(|p| p.steals);
        let parks = per_item(|p| p.parks);
        (steals.is_finite() && parks.is_finite()).then_some((steals, parks))
    }

    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"workload\":\"{}\",\"rate\":{},\"baseline_rate\":{},\"ratio\":{},\"unit\":\"{}\",\"reps\":{},\"note\":\"{}\"",
            self.workload.name,
            json_number(self.rate()),
            json_number(self.baseline_rate()),
            json_number(self.ratio()),
            self.workload.unit,
            self.ours.len(),
            self.note,
        );
        if let Some(items) = self.ours.first().map(|s| s.items) {
            let _ = write!(out, ",\"items\":{items}");
        }
        if let Some(items) = self.theirs.first().map(|s| s.items) {
            let _ = write!(out, ",\"baseline_items\":{items}");
        }
        if let Some((steals, parks)) = self.pool_per_item() {
            let _ = write!(
                out,
                ",\"steals_per_item\":{},\"parks_per_item\":{}",
                json_number(steals),
                json_number(parks)
            );
        }
        if !self.floor.is_empty() {
            let _ = write!(
                out,
                ",\"floor_rate\":{},\"floor_ratio\":{}",
                json_number(self.floor_rate()),
                json_number(self.rate() / self.floor_rate()),
            );
        }
        if self.workload.name == "spawn" {
            let _ = write!(
                out,
                ",\"bytes_per_actor\":{},\"baseline_bytes_per_thread\":{}",
                self.bytes_per_actor().map_or("null".into(), json_number),
                self.baseline_bytes_per_thread()
                    .map_or("null".into(), json_number),
            );
        }
        if self.is_idle() {
            let _ = write!(
                out,
                ",\"cpu_fraction\":{},\"baseline_cpu_fraction\":{}",
                json_number(self.rate()),
                json_number(self.baseline_rate()),
            );
        }
        out.push('}');
        out
    }
}

/// Runs `workload` `sizes.reps` times on each side, alternating, so a slow
/// phase of the machine hits both.
pub fn measure(workload: Workload, sizes: &Sizes) -> Report {
    measure_sides(workload, sizes, true)
}

/// As [`measure`], without the baseline and the raw floor when `baseline`
/// is false (their figures are then NaN).
pub fn measure_sides(workload: Workload, sizes: &Sizes, baseline: bool) -> Report {
    let mut ours = Vec::with_capacity(sizes.reps);
    let mut theirs = Vec::with_capacity(sizes.reps);
    let mut floor = Vec::new();
    for _ in 0..sizes.reps.max(1) {
        ours.push((workload.playhouse)(sizes));
        if baseline {
            theirs.push((workload.baseline)(sizes));
            if let Some(f) = workload.floor {
                floor.push(f(sizes));
            }
        }
    }
    Report {
        workload,
        ours,
        theirs,
        floor,
        note: (workload.note)(sizes),
    }
}

/// The median; NaN for no values.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

/// Splits `0..total` into `parts` contiguous ranges.
fn split(total: u64, parts: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..parts).map(move |p| total * p / parts..total * (p + 1) / parts)
}

/// The sum of `0..n`.
fn triangle(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Two actors exchange round trips, one message in flight.
pub mod ping_pong {
    use super::*;

    enum PingMsg {
        Start { rounds: u64, done: Reply<u64> },
        Pong,
    }

    struct Pinger {
        pong: Addr<Ponger>,
        left: u64,
        rounds: u64,
        done: Option<Reply<u64>>,
    }

    impl Actor for Pinger {
        type Msg = PingMsg;
        fn handle(&mut self, ctx: &mut Context<Self>, msg: PingMsg) -> Result<(), ActorError> {
            match msg {
                PingMsg::Start { rounds, done } => {
                    self.left = rounds;
                    self.done = Some(done);
                }
                PingMsg::Pong => self.rounds += 1,
            }
            if self.left > 0 {
                self.left -= 1;
                ctx.send(&self.pong, PongMsg::Ping)?;
            } else if let Some(done) = self.done.take() {
                let _ = done.send(self.rounds);
            }
            Ok(())
        }
    }

    enum PongMsg {
        Meet(Addr<Pinger>),
        Ping,
        Count(Reply<u64>),
    }

    struct Ponger {
        ping: Option<Addr<Pinger>>,
        pings: u64,
    }

    impl Actor for Ponger {
        type Msg = PongMsg;
        fn handle(&mut self, ctx: &mut Context<Self>, msg: PongMsg) -> Result<(), ActorError> {
            match msg {
                PongMsg::Meet(ping) => self.ping = Some(ping),
                PongMsg::Ping => {
                    self.pings += 1;
                    let ping = self.ping.as_ref().ok_or("ping before meet")?;
                    ctx.send(ping, PingMsg::Pong)?;
                }
                PongMsg::Count(reply) => {
                    let _ = reply.send(self.pings);
                }
            }
            Ok(())
        }
    }

    /// `rounds` round trips between two actors.
    pub fn playhouse(rounds: u64) -> Sample {
        let system = new_system();
        let ponger = system
            .spawn(|| Ponger {
                ping: None,
                pings: 0,
            })
            .expect("spawn ponger");
        let p = ponger.clone();
        let pinger = system
            .spawn(move || Pinger {
                pong: p.clone(),
                left: 0,
                rounds: 0,
                done: None,
            })
            .expect("spawn pinger");
        ponger
            .tell(PongMsg::Meet(pinger.clone()))
            .expect("introduce the pinger");
        let counts = PoolCounts::of(&system);
        let start = Instant::now();
        let done = pinger
            .ask(|done| PingMsg::Start { rounds, done }, LIMIT)
            .expect("ping-pong finished");
        let elapsed = start.elapsed();
        let counts = counts.since(&system);
        let pings = ponger.ask(PongMsg::Count, LIMIT).expect("ponger count");
        assert_eq!(
            (done, pings),
            (rounds, rounds),
            "ping-pong: (round trips, pings) seen by the actors"
        );
        system.shutdown().expect("shutdown");
        Sample::timed(rounds, elapsed).with_pool(counts)
    }

    /// `rounds` round trips between two threads over two `bounded(1)` channels.
    pub fn baseline(rounds: u64) -> Sample {
        let (to_pong, pong_rx) = bounded::<u64>(1);
        let (to_ping, ping_rx) = bounded::<u64>(1);
        let ponger = thread::spawn(move || {
            let mut pings = 0u64;
            while let Ok(x) = pong_rx.recv() {
                pings += 1;
                to_ping.send(x).expect("pinger alive");
            }
            pings
        });
        let start = Instant::now();
        for i in 0..rounds {
            to_pong.send(i).expect("ponger alive");
            let back = ping_rx.recv_timeout(LIMIT).expect("pong");
            assert_eq!(back, i, "ping-pong baseline: pong out of order");
        }
        let elapsed = start.elapsed();
        drop(to_pong);
        let pings = ponger.join().expect("ponger thread");
        assert_eq!(
            pings, rounds,
            "ping-pong baseline: pings seen by the ponger"
        );
        Sample::timed(rounds, elapsed)
    }
}

/// Producer threads outside the pool tell one counting actor.
pub mod fan_in {
    use super::*;

    /// The producer threads.
    pub const PRODUCERS: u64 = 4;
    /// The counting actor's mailbox, and the baseline channel's bound.
    pub const CAPACITY: usize = 1024;

    enum CountMsg {
        Add(u64),
        Total(Reply<(u64, u64)>),
    }

    #[derive(Default)]
    struct Counter {
        count: u64,
        sum: u64,
    }

    impl Actor for Counter {
        type Msg = CountMsg;
        fn handle(&mut self, _: &mut Context<Self>, msg: CountMsg) -> Result<(), ActorError> {
            match msg {
                CountMsg::Add(n) => {
                    self.count += 1;
                    self.sum += n;
                }
                CountMsg::Total(reply) => {
                    let _ = reply.send((self.count, self.sum));
                }
            }
            Ok(())
        }
    }

    /// `total` messages from [`PRODUCERS`] threads to one actor.
    pub fn playhouse(total: u64) -> Sample {
        let system = new_system();
        let counter = system
            .spawn_with(
                SpawnOptions::new().mailbox_capacity(CAPACITY),
                Counter::default,
            )
            .expect("spawn counter");
        let go = Barrier::new(PRODUCERS as usize + 1);
        let counts = PoolCounts::of(&system);
        let start = thread::scope(|s| {
            for range in split(total, PRODUCERS) {
                let (counter, go) = (&counter, &go);
                s.spawn(move || {
                    go.wait();
                    for n in range {
                        counter.tell(CountMsg::Add(n)).expect("counter alive");
                    }
                });
            }
            go.wait();
            Instant::now()
        });
        // The producers have joined: every message is ahead of this request.
        let (count, sum) = counter.ask(CountMsg::Total, LIMIT).expect("counter total");
        let elapsed = start.elapsed();
        let counts = counts.since(&system);
        assert_eq!(
            (count, sum),
            (total, triangle(total)),
            "fan-in: (messages, sum) the actor counted"
        );
        system.shutdown().expect("shutdown");
        Sample::timed(total, elapsed).with_pool(counts)
    }

    /// `total` messages from [`PRODUCERS`] threads into one `bounded(1024)`
    /// channel drained by one thread.
    pub fn baseline(total: u64) -> Sample {
        let (tx, rx) = bounded::<u64>(CAPACITY);
        let go = Barrier::new(PRODUCERS as usize + 1);
        let (start, counted) = thread::scope(|s| {
            let consumer = s.spawn(move || {
                let (mut count, mut sum) = (0u64, 0u64);
                for n in rx {
                    count += 1;
                    sum += n;
                }
                (count, sum)
            });
            for range in split(total, PRODUCERS) {
                let (tx, go) = (tx.clone(), &go);
                s.spawn(move || {
                    go.wait();
                    for n in range {
                        tx.send(n).expect("consumer alive");
                    }
                });
            }
            drop(tx);
            go.wait();
            let start = Instant::now();
            (start, consumer.join().expect("consumer thread"))
        });
        let elapsed = start.elapsed();
        assert_eq!(
            counted,
            (total, triangle(total)),
            "fan-in baseline: (messages, sum) the consumer counted"
        );
        Sample::timed(total, elapsed)
    }
}

/// A token travels round a ring.
pub mod ring {
    use super::*;

    enum NodeMsg {
        Link(Addr<Node>),
        /// The token, with the hops still to go and who waits for the end.
        Token {
            left: u64,
            done: Reply<usize>,
        },
        Count(Reply<u64>),
    }

    struct Node {
        index: usize,
        next: Option<Addr<Node>>,
        tokens: u64,
    }

    impl Actor for Node {
        type Msg = NodeMsg;
        fn handle(&mut self, ctx: &mut Context<Self>, msg: NodeMsg) -> Result<(), ActorError> {
            match msg {
                NodeMsg::Link(next) => self.next = Some(next),
                NodeMsg::Token { left, done } => {
                    self.tokens += 1;
                    if left == 0 {
                        let _ = done.send(self.index);
                    } else {
                        let next = self.next.as_ref().ok_or("token before link")?;
                        ctx.send(
                            next,
                            NodeMsg::Token {
                                left: left - 1,
                                done,
                            },
                        )?;
                    }
                }
                NodeMsg::Count(reply) => {
                    let _ = reply.send(self.tokens);
                }
            }
            Ok(())
        }
    }

    /// Checks who ended the run and how many tokens each node saw: node `i`
    /// sees the token once per lap that reaches it.
    fn check(what: &str, len: usize, hops: u64, last: usize, tokens: &[u64]) {
        assert_eq!(
            last,
            (hops % len as u64) as usize,
            "{what}: the node that saw the last hop"
        );
        for (i, &t) in tokens.iter().enumerate() {
            let expected =
                (hops + 1) / len as u64 + u64::from(((hops + 1) % len as u64) > i as u64);
            assert_eq!(t, expected, "{what}: tokens seen by node {i}");
        }
    }

    /// `len` actors in a ring pass one token `hops` times.
    pub fn playhouse(len: usize, hops: u64) -> Sample {
        assert!(len >= 2, "a ring needs two nodes");
        let system = new_system();
        let nodes: Vec<Addr<Node>> = (0..len)
            .map(|index| {
                system
                    .spawn(move || Node {
                        index,
                        next: None,
                        tokens: 0,
                    })
                    .expect("spawn node")
            })
            .collect();
        for (i, node) in nodes.iter().enumerate() {
            let next = nodes[(i + 1) % len].clone();
            node.tell(NodeMsg::Link(next)).expect("link");
        }
        let counts = PoolCounts::of(&system);
        let start = Instant::now();
        let last = nodes[0]
            .ask(|done| NodeMsg::Token { left: hops, done }, LIMIT)
            .expect("the token came round");
        let elapsed = start.elapsed();
        let counts = counts.since(&system);
        let tokens: Vec<u64> = nodes
            .iter()
            .map(|n| n.ask(NodeMsg::Count, LIMIT).expect("node count"))
            .collect();
        check("ring", len, hops, last, &tokens);
        system.shutdown().expect("shutdown");
        Sample::timed(hops, elapsed).with_pool(counts)
    }

    /// `len` threads in a ring of `bounded(1)` channels pass one token `hops`
    /// times.
    pub fn baseline(len: usize, hops: u64) -> Sample {
        assert!(len >= 2, "a ring needs two nodes");
        let (txs, rxs): (Vec<Sender<u64>>, Vec<Receiver<u64>>) =
            (0..len).map(|_| bounded(1)).unzip();
        let (done_tx, done_rx) = bounded::<usize>(1);
        let threads: Vec<_> = rxs
            .into_iter()
            .enumerate()
            .map(|(i, rx)| {
                let next = txs[(i + 1) % len].clone();
                let done = done_tx.clone();
                thread::spawn(move || {
                    let mut tokens = 0u64;
                    // The node that ends the run drops its channels; the
                    // disconnection goes round the ring and ends every thread.
                    while let Ok(left) = rx.recv() {
                        tokens += 1;
                        if left == 0 {
                            done.send(i).expect("main waits");
                            break;
                        }
                        next.send(left - 1).expect("next node alive");
                    }
                    tokens
                })
            })
            .collect();
        let first = txs[0].clone();
        drop(txs);
        let start = Instant::now();
        first.send(hops).expect("node 0 alive");
        drop(first);
        let last = done_rx.recv_timeout(LIMIT).expect("the token came round");
        let elapsed = start.elapsed();
        let tokens: Vec<u64> = threads
            .into_iter()
            .map(|t| t.join().expect("ring thread"))
            .collect();
        check("ring baseline", len, hops, last, &tokens);
        Sample::timed(hops, elapsed)
    }
}

/// Many short-lived units: spawn, one message, one reply.
pub mod spawn {
    use super::*;

    struct Echo {
        replies: Sender<u64>,
    }

    impl Actor for Echo {
        type Msg = u64;
        fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
            self.replies.send(n)?;
            Ok(())
        }
    }

    /// Spawns `actors` actors, tells each one message and waits for every
    /// reply. Also measures the growth of peak RSS per actor.
    pub fn playhouse(actors: usize) -> Sample {
        let system = new_system();
        let (tx, rx) = unbounded();
        let before = reset_peak_rss();
        let counts = PoolCounts::of(&system);
        let start = Instant::now();
        let addrs: Vec<Addr<Echo>> = (0..actors)
            .map(|_| {
                let tx = tx.clone();
                system
                    .spawn(move || Echo {
                        replies: tx.clone(),
                    })
                    .expect("spawn echo")
            })
            .collect();
        let spawned = start.elapsed();
        for (i, a) in addrs.iter().enumerate() {
            a.tell(i as u64).expect("echo alive");
        }
        let told = start.elapsed();
        let sum = collect(&rx, actors, "spawn");
        let elapsed = start.elapsed();
        let per = |d: Duration| d.as_nanos() as f64 / actors.max(1) as f64;
        let counts = counts.since(&system);
        let peak = peak_rss();
        assert_eq!(sum, triangle(actors as u64), "spawn: sum of the replies");
        assert_eq!(system.metrics().actors_alive, actors, "spawn: actors alive");
        drop(addrs);
        system.shutdown().expect("shutdown");
        Sample {
            bytes_per_item: growth_per(before, peak, actors),
            phase_ns: Some([per(spawned), per(told - spawned), per(elapsed - told)]),
            ..Sample::timed(actors as u64, elapsed).with_pool(counts)
        }
    }

    /// Spawns `threads` threads, each waiting for one message on its own
    /// channel; sends each one and waits for every reply.
    pub fn baseline(threads: usize) -> Sample {
        let (tx, rx) = unbounded();
        let before = reset_peak_rss();
        let start = Instant::now();
        let (inputs, handles): (Vec<Sender<u64>>, Vec<_>) = (0..threads)
            .map(|_| {
                let (input, inbox) = bounded::<u64>(1);
                let replies = tx.clone();
                let handle = thread::spawn(move || {
                    let n = inbox.recv().expect("one message");
                    replies.send(n).expect("main waits");
                });
                (input, handle)
            })
            .unzip();
        for (i, input) in inputs.iter().enumerate() {
            input.send(i as u64).expect("thread alive");
        }
        let sum = collect(&rx, threads, "spawn baseline");
        let elapsed = start.elapsed();
        let peak = peak_rss();
        for h in handles {
            h.join().expect("spawned thread");
        }
        assert_eq!(
            sum,
            triangle(threads as u64),
            "spawn baseline: sum of the replies"
        );
        Sample {
            bytes_per_item: growth_per(before, peak, threads),
            ..Sample::timed(threads as u64, elapsed)
        }
    }

    /// The raw floor's stand-in for an actor: 272 bytes with the `Arc`'s
    /// counts, as a cell's (the floor allocated 248 against 256 until the
    /// cell took in the slot of its first message).
    struct FloorUnit {
        state: [std::sync::atomic::AtomicU64; 30],
        replies: Sender<u64>,
    }

    enum FloorJob {
        Start(std::sync::Arc<FloorUnit>),
        Message(std::sync::Arc<FloorUnit>, u64),
    }

    /// The hand-offs and allocations of [`playhouse`] with no actor runtime
    /// (module docs):
    /// what spawning, telling and replying cost on this machine at least.
    pub fn floor(actors: usize) -> Sample {
        use std::sync::Arc;
        // ORDERING: Relaxed; written by `main` before any workload starts.
        let threads = match WORKERS.load(Ordering::Relaxed) {
            0 => num_cpus::get().max(1),
            n => n,
        };
        let (jobs, queue) = unbounded::<FloorJob>();
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || {
                    // ORDERING: Relaxed stores; nothing reads them: they stand
                    // for the writes a start and a turn make to an actor's cell.
                    for job in queue.iter() {
                        match job {
                            FloorJob::Start(u) => u.state[0].store(1, Ordering::Relaxed),
                            FloorJob::Message(u, n) => {
                                u.state[1].store(n, Ordering::Relaxed);
                                u.replies.send(n).expect("main waits");
                            }
                        }
                    }
                })
            })
            .collect();
        let (tx, rx) = unbounded();
        let start = Instant::now();
        let units: Vec<Arc<FloorUnit>> = (0..actors)
            .map(|_| {
                let unit = Arc::new(FloorUnit {
                    state: Default::default(),
                    replies: tx.clone(),
                });
                jobs.send(FloorJob::Start(unit.clone()))
                    .expect("workers up");
                unit
            })
            .collect();
        let spawned = start.elapsed();
        for (i, u) in units.iter().enumerate() {
            jobs.send(FloorJob::Message(u.clone(), i as u64))
                .expect("workers up");
        }
        let told = start.elapsed();
        let sum = collect(&rx, actors, "spawn floor");
        let elapsed = start.elapsed();
        assert_eq!(
            sum,
            triangle(actors as u64),
            "spawn floor: sum of the replies"
        );
        drop(jobs);
        for w in workers {
            w.join().expect("floor thread");
        }
        let per = |d: Duration| d.as_nanos() as f64 / actors.max(1) as f64;
        Sample {
            phase_ns: Some([per(spawned), per(told - spawned), per(elapsed - told)]),
            ..Sample::timed(actors as u64, elapsed)
        }
    }

    fn collect(rx: &Receiver<u64>, n: usize, what: &str) -> u64 {
        (0..n)
            .map(|got| {
                rx.recv_timeout(LIMIT)
                    .unwrap_or_else(|e| panic!("{what}: {got} of {n} replies, then {e}"))
            })
            .sum()
    }

    fn growth_per(before: Option<u64>, peak: Option<u64>, n: usize) -> Option<f64> {
        Some(peak?.saturating_sub(before?) as f64 / n as f64)
    }
}

/// One publisher actor, many subscriber actors.
pub mod fan_out {
    use super::*;

    /// The subscriber actors (and baseline consumer threads).
    pub const SUBSCRIBERS: usize = 8;
    /// The subscribers' mailbox, and the baseline channels' bound.
    pub const CAPACITY: usize = 1024;
    /// Messages per subscriber the publisher sends in one turn before it
    /// sends itself the next `Publish`.
    const BATCH: u64 = 64;

    struct Publish;

    struct Publisher {
        subscribers: Vec<Addr<Subscriber>>,
        next: u64,
        end: u64,
    }

    impl Actor for Publisher {
        type Msg = Publish;
        fn handle(&mut self, ctx: &mut Context<Self>, _: Publish) -> Result<(), ActorError> {
            let stop = self.end.min(self.next + BATCH);
            for n in self.next..stop {
                for s in &self.subscribers {
                    ctx.send(s, n)?;
                }
            }
            self.next = stop;
            if self.next < self.end {
                // A send to itself never parks, so a suspended publisher
                // still finds this when it resumes.
                ctx.send(&ctx.addr(), Publish)?;
            }
            Ok(())
        }
    }

    struct Subscriber {
        expect: u64,
        count: u64,
        sum: u64,
        done: Sender<(u64, u64)>,
    }

    impl Actor for Subscriber {
        type Msg = u64;
        fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
            self.count += 1;
            self.sum += n;
            if self.count == self.expect {
                self.done.send((self.count, self.sum))?;
            }
            Ok(())
        }
    }

    /// A publisher actor sends `n` messages to each of [`SUBSCRIBERS`] actors.
    pub fn playhouse(n: u64) -> Sample {
        let system = new_system();
        let (done_tx, done_rx) = unbounded();
        let subscribers: Vec<Addr<Subscriber>> = (0..SUBSCRIBERS)
            .map(|_| {
                let done = done_tx.clone();
                system
                    .spawn_with(SpawnOptions::new().mailbox_capacity(CAPACITY), move || {
                        Subscriber {
                            expect: n,
                            count: 0,
                            sum: 0,
                            done: done.clone(),
                        }
                    })
                    .expect("spawn subscriber")
            })
            .collect();
        let subs = subscribers.clone();
        let publisher = system
            .spawn(move || Publisher {
                subscribers: subs.clone(),
                next: 0,
                end: n,
            })
            .expect("spawn publisher");
        let counts = PoolCounts::of(&system);
        let start = Instant::now();
        publisher.tell(Publish).expect("publisher alive");
        let results = collect(&done_rx, "fan-out");
        let elapsed = start.elapsed();
        let counts = counts.since(&system);
        check("fan-out", n, &results);
        system.shutdown().expect("shutdown");
        Sample::timed(n * SUBSCRIBERS as u64, elapsed).with_pool(counts)
    }

    /// One thread sends `n` messages into each of [`SUBSCRIBERS`]
    /// `bounded(1024)` channels, each drained by its own thread.
    pub fn baseline(n: u64) -> Sample {
        let (done_tx, done_rx) = unbounded();
        let go = Barrier::new(2);
        let elapsed = thread::scope(|s| {
            let inputs: Vec<Sender<u64>> = (0..SUBSCRIBERS)
                .map(|_| {
                    let (tx, rx) = bounded::<u64>(CAPACITY);
                    let done = done_tx.clone();
                    s.spawn(move || {
                        let (mut count, mut sum) = (0u64, 0u64);
                        for m in rx {
                            count += 1;
                            sum += m;
                        }
                        done.send((count, sum)).expect("main waits");
                    });
                    tx
                })
                .collect();
            let go = &go;
            s.spawn(move || {
                go.wait();
                for m in 0..n {
                    for tx in &inputs {
                        tx.send(m).expect("subscriber alive");
                    }
                }
            });
            go.wait();
            let start = Instant::now();
            let results = collect(&done_rx, "fan-out baseline");
            let elapsed = start.elapsed();
            check("fan-out baseline", n, &results);
            elapsed
        });
        Sample::timed(n * SUBSCRIBERS as u64, elapsed)
    }

    fn collect(rx: &Receiver<(u64, u64)>, what: &str) -> Vec<(u64, u64)> {
        (0..SUBSCRIBERS)
            .map(|got| {
                rx.recv_timeout(LIMIT).unwrap_or_else(|e| {
                    panic!("{what}: {got} of {SUBSCRIBERS} subscribers done, then {e}")
                })
            })
            .collect()
    }

    fn check(what: &str, n: u64, results: &[(u64, u64)]) {
        for &r in results {
            assert_eq!(
                r,
                (n, triangle(n)),
                "{what}: (messages, sum) of a subscriber"
            );
        }
    }
}

/// Nothing to do: what does waiting cost?
pub mod idle {
    use super::*;

    struct Sleeper;

    impl Actor for Sleeper {
        type Msg = Reply<()>;
        fn handle(&mut self, _: &mut Context<Self>, reply: Reply<()>) -> Result<(), ActorError> {
            let _ = reply.send(());
            Ok(())
        }
    }

    /// `actors` idle actors for `window`; then each is asked once, to show it
    /// was alive all along.
    pub fn playhouse(actors: usize, window: Duration) -> Sample {
        let system = new_system();
        let addrs: Vec<Addr<Sleeper>> = (0..actors)
            .map(|_| system.spawn(|| Sleeper).expect("spawn sleeper"))
            .collect();
        system.await_quiescent(LIMIT).expect("every actor started");
        let counts = PoolCounts::of(&system);
        let (elapsed, cpu) = sit_idle(window);
        let counts = counts.since(&system);
        let answered = addrs.iter().filter(|a| a.ask(|r| r, LIMIT).is_ok()).count();
        assert_eq!(answered, actors, "idle: actors that answered afterwards");
        system.shutdown().expect("shutdown");
        Sample {
            cpu_fraction: cpu,
            ..Sample::timed(actors as u64, elapsed).with_pool(counts)
        }
    }

    /// `threads` threads blocked on `recv` for `window`; then each gets one
    /// message and replies.
    pub fn baseline(threads: usize, window: Duration) -> Sample {
        let (reply_tx, reply_rx) = unbounded::<()>();
        let (ready_tx, ready_rx) = unbounded::<()>();
        let (inputs, handles): (Vec<Sender<()>>, Vec<_>) = (0..threads)
            .map(|_| {
                let (input, inbox) = bounded::<()>(1);
                let (reply, ready) = (reply_tx.clone(), ready_tx.clone());
                let handle = thread::spawn(move || {
                    ready.send(()).expect("main waits");
                    inbox.recv().expect("one message");
                    reply.send(()).expect("main waits");
                });
                (input, handle)
            })
            .unzip();
        for _ in 0..threads {
            ready_rx.recv_timeout(LIMIT).expect("thread started");
        }
        let (elapsed, cpu) = sit_idle(window);
        for input in &inputs {
            input.send(()).expect("thread alive");
        }
        let answered = (0..threads)
            .filter(|_| reply_rx.recv_timeout(LIMIT).is_ok())
            .count();
        for h in handles {
            h.join().expect("idle thread");
        }
        assert_eq!(answered, threads, "idle baseline: threads that answered");
        Sample {
            cpu_fraction: cpu,
            ..Sample::timed(threads as u64, elapsed)
        }
    }

    /// Sleeps for `window` (the point of this workload, not synchronisation)
    /// and returns the wall time and the process's CPU seconds per wall second
    /// over it.
    fn sit_idle(window: Duration) -> (Duration, Option<f64>) {
        let cpu_before = cpu_seconds();
        let start = Instant::now();
        thread::sleep(window);
        let cpu_after = cpu_seconds();
        let elapsed = start.elapsed();
        let fraction = cpu_before
            .zip(cpu_after)
            .map(|(before, after)| (after - before) / elapsed.as_secs_f64());
        (elapsed, fraction)
    }
}

/// The process's CPU time so far (user + system, all threads), in seconds,
/// from fields 14 and 15 of `/proc/self/stat`.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; the
    // fields after it start with the state (field 3).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_second() as f64)
}

/// `AT_CLKTCK` from the auxiliary vector (what `sysconf(_SC_CLK_TCK)` returns),
/// read without libc; 100 if it cannot be read.
fn clock_ticks_per_second() -> u64 {
    const AT_CLKTCK: usize = 17;
    const WORD: usize = std::mem::size_of::<usize>();
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    let words: Vec<usize> = auxv
        .chunks_exact(WORD)
        .map(|c| usize::from_ne_bytes(c.try_into().expect("a word")))
        .collect();
    words
        .chunks_exact(2)
        .find(|kv| kv[0] == AT_CLKTCK)
        .map_or(100, |kv| kv[1] as u64)
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS by writing "5" to
/// `/proc/self/clear_refs`, and returns it; `None` where that is not possible.
fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_bytes("VmHWM:")
}

/// The peak RSS (`VmHWM`) since the last reset.
fn peak_rss() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// The machine, as the README's table states it.
pub fn machine() -> String {
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs (nproc), {model}")
}

/// CPU time the whole machine has spent busy (user, nice, system, irq,
/// softirq, steal: the first line of `/proc/stat`), in seconds.
fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum();
    Some(busy as f64 / clock_ticks_per_second() as f64)
}

/// How many CPUs other processes kept busy, on average, since `since`
/// (machine busy time minus this process's CPU time, per wall second): on a
/// shared machine they skew every figure, so the output says how much.
struct OtherLoad {
    since: Instant,
    machine: Option<f64>,
    own: Option<f64>,
}

impl OtherLoad {
    fn start() -> Self {
        OtherLoad {
            since: Instant::now(),
            machine: machine_busy_seconds(),
            own: cpu_seconds(),
        }
    }

    fn cpus(&self) -> Option<f64> {
        let machine = machine_busy_seconds()? - self.machine?;
        let own = cpu_seconds()? - self.own?;
        Some(((machine - own) / self.since.elapsed().as_secs_f64()).max(0.0))
    }
}

/// Formats a rate with an SI prefix: `1.23 M`.
fn si(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let (value, prefix) = match x.abs() {
        a if a >= 1e9 => (x / 1e9, " G"),
        a if a >= 1e6 => (x / 1e6, " M"),
        a if a >= 1e3 => (x / 1e3, " k"),
        _ => (x, ""),
    };
    format!("{value:.2}{prefix}")
}

/// The human-readable table row of a report.
pub fn table_row(r: &Report) -> String {
    let (ours, theirs, ratio) = if r.is_idle() {
        (
            format!("{:.4}", r.rate()),
            format!("{:.4}", r.baseline_rate()),
            format!("{:.4}", r.ratio()),
        )
    } else {
        (
            si(r.rate()),
            si(r.baseline_rate()),
            format!("{:.2}", r.ratio()),
        )
    };
    let mut note = r.note.clone();
    if r.workload.name == "spawn" {
        let bytes = |b: Option<f64>| b.map_or("n/a".into(), |b| format!("{b:.0} B"));
        let _ = write!(
            note,
            "; peak RSS growth {} per actor, {} per thread",
            bytes(r.bytes_per_actor()),
            bytes(r.baseline_bytes_per_thread())
        );
    }
    if !r.floor.is_empty() {
        let _ = write!(
            note,
            "; raw floor {} {}, playhouse at {:.2} of it",
            si(r.floor_rate()),
            r.workload.unit,
            r.rate() / r.floor_rate()
        );
    }
    format!(
        "{:<10} {:>12} {:>12} {:>7}  {:<15} {}",
        r.workload.name, ours, theirs, ratio, r.workload.unit, note
    )
}

/// The table's header line.
pub fn table_header() -> String {
    format!(
        "{:<10} {:>12} {:>12} {:>7}  {:<15} {}",
        "workload", "playhouse", "baseline", "ratio", "unit", "sizes"
    )
}

struct Args {
    sizes: Sizes,
    mode: &'static str,
    json: bool,
    verbose: bool,
    baseline: bool,
    workers: Option<usize>,
    only: Option<Vec<String>>,
}

fn parse_args() -> Result<Args, String> {
    let mut quick = false;
    let mut json = false;
    let mut verbose = false;
    let mut baseline = true;
    let mut workers = None;
    let mut only = None;
    let mut reps = None;
    let mut scale = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "--verbose" => verbose = true,
            "--playhouse-only" => baseline = false,
            "--workers" => {
                let n: usize = value("--workers")?
                    .parse()
                    .map_err(|e| format!("--workers: {e}"))?;
                workers = Some(n.max(1));
            }
            "--only" => {
                let names: Vec<String> = value("--only")?.split(',').map(str::to_string).collect();
                for n in &names {
                    if !workloads().iter().any(|w| w.name == n) {
                        return Err(format!("unknown workload {n:?}"));
                    }
                }
                only = Some(names);
            }
            "--reps" => {
                let n: usize = value("--reps")?
                    .parse()
                    .map_err(|e| format!("--reps: {e}"))?;
                reps = Some(n.max(1));
            }
            "--scale" => {
                let f: f64 = value("--scale")?
                    .parse()
                    .map_err(|e| format!("--scale: {e}"))?;
                scale = Some(f);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let mut sizes = if quick { Sizes::quick() } else { Sizes::full() };
    if let Some(f) = scale {
        sizes = sizes.scaled(f);
    }
    if let Some(n) = reps {
        sizes.reps = n;
    }
    Ok(Args {
        sizes,
        mode: if quick { "quick" } else { "full" },
        json,
        verbose,
        baseline,
        workers,
        only,
    })
}

fn main() {
    env_logger::init();
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("bench: {e}");
        eprintln!(
            "usage: bench [--quick] [--json] [--only ping-pong,fan-in,...] [--reps N] [--scale F] [--verbose] [--playhouse-only] [--workers N]"
        );
        std::process::exit(2);
    });
    let chosen: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| {
            args.only
                .as_ref()
                .is_none_or(|o| o.iter().any(|n| n == w.name))
        })
        .collect();
    if let Some(n) = args.workers {
        // ORDERING: Relaxed; no workload has started yet.
        WORKERS.store(n, Ordering::Relaxed);
    }
    let header = format!(
        "playhouse bench ({}): {}; pool of {} workers; median of {} runs",
        args.mode,
        machine(),
        args.workers.unwrap_or_else(num_cpus::get),
        args.sizes.reps,
    );
    // With `--json`, stdout holds only the objects, one per line.
    if args.json {
        eprintln!("{header}");
    } else {
        println!("{header}");
        println!("{}", table_header());
    }
    let started = Instant::now();
    let others = OtherLoad::start();
    for w in chosen {
        let report = measure_sides(w, &args.sizes, args.baseline);
        if args.verbose {
            for (side, samples) in [
                ("playhouse", &report.ours),
                ("baseline", &report.theirs),
                ("raw floor", &report.floor),
            ] {
                for s in samples {
                    eprintln!("  {} {side}: {s:?} -> {}", w.name, si(s.figure()));
                }
            }
        }
        if args.json {
            println!("{}", report.to_json());
        } else {
            println!("{}", table_row(&report));
        }
    }
    let others = others
        .cpus()
        .map_or("unknown".into(), |c| format!("{c:.2}"));
    let footer = format!(
        "done in {:.1} s; other processes kept {others} CPUs busy on average meanwhile",
        started.elapsed().as_secs_f64()
    );
    if args.json {
        eprintln!("{footer}");
    } else {
        println!("{footer}");
    }
}
