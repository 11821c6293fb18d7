//! The harness: the sizes of a run, a sample of one repetition, a workload's
//! two sides, and the report of its repetitions with their medians.

use super::*;

/// The longest a workload waits for its own completion before it panics: a
/// stalled or leaking run fails loudly instead of hanging.
pub const LIMIT: Duration = Duration::from_secs(120);

/// Workers of every playhouse system the workloads start; 0 means the
/// default, one per CPU. Set once by `--workers`, before any workload runs.
pub static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// A system with the default pool, or `--workers N` workers.
pub fn new_system() -> System {
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
    /// Messages of fan-in from producer actors, in all.
    pub fan_in_actors: u64,
    /// Recorded requests of each latency shape (after a warm-up).
    pub latency: u64,
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
    /// Calls of the breaker workload.
    pub breaker: u64,
    /// Elements of the stream workload's source.
    pub stream: u64,
    /// Appends of the persist workloads with an fsync each (and of their baselines).
    pub fsync_appends: u64,
    /// Appends of the group-commit workloads, shared among the writers.
    pub group_appends: u64,
    /// Events of the replay workload.
    pub replay_events: u64,
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
            fan_in_actors: 2_000_000,
            latency: 50_000,
            ring_len: 503,
            ring_hops: 500_000,
            spawn_actors: 200_000,
            spawn_threads: 2_000,
            fan_out: 200_000,
            breaker: 100_000,
            stream: 1_000_000,
            fsync_appends: 2_000,
            group_appends: 64_000,
            replay_events: 500_000,
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
            fan_in_actors: 500_000,
            latency: 20_000,
            ring_hops: 100_000,
            spawn_actors: 50_000,
            spawn_threads: 1_000,
            fan_out: 50_000,
            breaker: 20_000,
            stream: 200_000,
            fsync_appends: 500,
            group_appends: 16_000,
            replay_events: 100_000,
            ..Sizes::full()
        }
    }

    /// Just enough to check the counts (the test suite, debug builds).
    pub fn tiny() -> Self {
        Sizes {
            reps: 1,
            ping_pong: 200,
            fan_in: 4_000,
            fan_in_actors: 4_000,
            latency: 200,
            ring_len: 503,
            ring_hops: 2_000,
            spawn_actors: 2_000,
            spawn_threads: 50,
            fan_out: 1_000,
            breaker: 200,
            stream: 2_000,
            fsync_appends: 20,
            group_appends: 128,
            replay_events: 1_500,
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
        self.fan_in_actors = s(self.fan_in_actors);
        self.latency = s(self.latency);
        self.ring_hops = s(self.ring_hops);
        self.spawn_actors = s(self.spawn_actors as u64) as usize;
        self.spawn_threads = s(self.spawn_threads as u64) as usize;
        self.fan_out = s(self.fan_out);
        self.breaker = s(self.breaker);
        self.stream = s(self.stream);
        self.fsync_appends = s(self.fsync_appends);
        self.group_appends = s(self.group_appends);
        self.replay_events = s(self.replay_events);
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
    /// The percentiles of the requests' latencies (latency only).
    pub latency: Option<super::latency::Latency>,
    /// Appends that shared one fsync, on average (group commit only).
    pub appends_per_sync: Option<f64>,
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
    pub fn of(system: &System) -> Self {
        let m = system.metrics();
        PoolCounts {
            steals: m.steals,
            parks: m.parks,
        }
    }

    /// What the counters gained since `self` was read.
    pub fn since(self, system: &System) -> Self {
        let now = PoolCounts::of(system);
        PoolCounts {
            steals: now.steals - self.steals,
            parks: now.parks - self.parks,
        }
    }
}

/// A side that returns `(items, elapsed)` is a plain timed sample.
impl From<(u64, Duration)> for Sample {
    fn from((items, elapsed): (u64, Duration)) -> Self {
        Sample::timed(items, elapsed)
    }
}

impl Sample {
    pub fn timed(items: u64, elapsed: Duration) -> Self {
        Sample {
            items,
            elapsed,
            bytes_per_item: None,
            cpu_fraction: None,
            pool: None,
            phase_ns: None,
            latency: None,
            appends_per_sync: None,
        }
    }

    pub fn with_pool(self, pool: PoolCounts) -> Self {
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

    pub fn is_idle(&self) -> bool {
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
    /// The median appends per fsync (group commit only).
    pub fn appends_per_sync(&self) -> Option<f64> {
        let m = median(self.ours.iter().filter_map(|s| s.appends_per_sync));
        m.is_finite().then_some(m)
    }

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

    /// For the latency shapes, the median over the repetitions of each
    /// percentile, and the largest maximum of all, of `samples`.
    pub fn latency_of(samples: &[Sample]) -> Option<[f64; 4]> {
        let lat: Vec<_> = samples.iter().filter_map(|s| s.latency).collect();
        if lat.is_empty() {
            return None;
        }
        let m = |f: fn(&super::latency::Latency) -> u64| median(lat.iter().map(|l| f(l) as f64));
        let max = lat.iter().map(|l| l.max_ns).max().unwrap_or(0) as f64;
        Some([m(|l| l.p50_ns), m(|l| l.p99_ns), m(|l| l.p999_ns), max])
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
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
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

/// Splits `0..total` into `parts` contiguous ranges.
pub fn split(total: u64, parts: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..parts).map(move |p| total * p / parts..total * (p + 1) / parts)
}

/// The sum of `0..n`.
pub fn triangle(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}
