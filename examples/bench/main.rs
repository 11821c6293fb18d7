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
//! - **fan-in-actors**: 4 producer actors each `Context::send` their share
//!   of N messages, 64 per turn, to one counting actor with a mailbox of
//!   1024; baseline: the fan-in baseline.
//! - **latency-thread**, **latency-thread-busy**, **latency-actor**,
//!   **latency-actor-busy**: one request at a time to an echo actor, from a
//!   plain thread (`Addr::ask`) or from an actor (`Context::ask`), with the
//!   pool otherwise idle or with 4 pairs of actors ping-ponging beside it;
//!   N recorded after a warm-up. The JSON adds `p50_ns`, `p99_ns`,
//!   `p999_ns` (medians over the repetitions), `max_ns` (the largest of all)
//!   and, loaded, `background_rate` (round trips/s of the pairs). Baseline:
//!   a thread asking another over two `bounded(1)` channels, beside 4 pairs
//!   of threads ping-ponging when loaded.
//! - **breaker**: N asks from a plain thread through a closed circuit breaker
//!   actor to an echo actor; baseline: N direct asks of the same echo actor.
//! - **group-commit-actors-1**, **-8**, **-64**: N commands in all to 1, 8
//!   or 64 event-sourced actors on one file journal with group commit, each
//!   on a stream of its own; a feeder actor asks each for all its share at
//!   once (its mailbox holds them), so every actor always has its next
//!   command waiting; each command persists one event of 100 bytes through
//!   the actor's journal port. Timed until every command is answered; the
//!   JSON adds `appends_per_sync`. Baseline: a thread doing write +
//!   fdatasync of the same bytes per append.
//!
//! # Files
//!
//! `harness.rs` holds the sizes, samples, workloads and reports; `probes.rs`
//! reads CPU time, peak RSS and the machine's load; each workload is a file
//! of its own exposing its playhouse side and its baseline.
//!
//! # Adding a workload
//!
//! Write `examples/bench/<name>.rs` (a `//!` line saying what it measures,
//! a playhouse side and a baseline that each check their own counts), then
//! add one `pub mod <name>;` line below and one [`Workload`] entry to
//! [`workloads`], whose closures read the sizes and call the two sides; its
//! size is a field of `Sizes` (`harness.rs`), set in `full`, `quick`, `tiny`
//! and `scaled`. A side returning `(items, elapsed)` becomes a sample with
//! `.into()`, as the breaker entry shows.
//! `tests/bench_workloads.rs` includes this file: add the workload's name to
//! the list its JSON test expects.

mod harness;
mod probes;

pub mod breaker;
pub mod group_commit_actors;
pub mod persist;
pub mod stream;

pub mod fan_in;
pub mod fan_in_actors;
pub mod fan_out;
pub mod idle;
pub mod latency;
pub mod ping_pong;
pub mod ring;
pub mod spawn;

pub use harness::*;
pub use probes::*;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use playhouse::{Actor, ActorError, Addr, Context, Reply, SpawnOptions, System};
use std::fmt::Write as _;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Every workload, in the order of the table.
pub fn workloads() -> Vec<Workload> {
    vec![
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
            name: "fan-in-actors",
            unit: "msgs/s",
            playhouse: |s| fan_in_actors::playhouse(s.fan_in_actors),
            baseline: |s| fan_in_actors::baseline(s.fan_in_actors),
            floor: None,
            note: |s| {
                format!(
                    "{} msgs from {} actors, {} per turn; baseline: {0} from {1} threads",
                    s.fan_in_actors,
                    fan_in_actors::PRODUCERS,
                    fan_in_actors::BATCH
                )
            },
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
        Workload {
            name: "latency-thread",
            unit: "requests/s",
            playhouse: |s| latency::playhouse(latency::Asker::Thread, false, s.latency),
            baseline: |s| latency::baseline(false, s.latency),
            floor: None,
            note: |s| format!("{} asks from a thread, pool idle", s.latency),
        },
        Workload {
            name: "latency-thread-busy",
            unit: "requests/s",
            playhouse: |s| latency::playhouse(latency::Asker::Thread, true, s.latency),
            baseline: |s| latency::baseline(true, s.latency),
            floor: None,
            note: |s| {
                format!(
                    "{} asks from a thread beside {} ping-pong pairs",
                    s.latency,
                    latency::PAIRS
                )
            },
        },
        Workload {
            name: "latency-actor",
            unit: "requests/s",
            playhouse: |s| latency::playhouse(latency::Asker::Actor, false, s.latency),
            baseline: |s| latency::baseline(false, s.latency),
            floor: None,
            note: |s| format!("{} asks from an actor, pool idle", s.latency),
        },
        Workload {
            name: "latency-actor-busy",
            unit: "requests/s",
            playhouse: |s| latency::playhouse(latency::Asker::Actor, true, s.latency),
            baseline: |s| latency::baseline(true, s.latency),
            floor: None,
            note: |s| {
                format!(
                    "{} asks from an actor beside {} ping-pong pairs",
                    s.latency,
                    latency::PAIRS
                )
            },
        },
        Workload {
            name: "breaker",
            unit: "calls/s",
            playhouse: |s| breaker::playhouse(s.breaker).into(),
            baseline: |s| breaker::baseline(s.breaker).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} asks through a breaker; baseline: direct asks",
                    s.breaker
                )
            },
        },
        Workload {
            name: "stream",
            unit: "elements/s",
            playhouse: |s| stream::playhouse(s.stream).into(),
            baseline: |s| stream::baseline(s.stream).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} elements through source, map, filter, batch, sink; baseline: threads and bounded channels",
                    s.stream
                )
            },
        },
        Workload {
            name: "fsync-append",
            unit: "appends/s",
            playhouse: |s| persist::playhouse(s.fsync_appends).into(),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} appends to a file journal, an fsync each; baseline: write + fdatasync",
                    s.fsync_appends
                )
            },
        },
        Workload {
            name: "group-commit-1",
            unit: "appends/s",
            playhouse: |s| persist::group_commit(s.group_appends, 1),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} appends from 1 writer(s) sharing fsyncs; baseline: write + fdatasync per append",
                    s.group_appends
                )
            },
        },
        Workload {
            name: "group-commit-8",
            unit: "appends/s",
            playhouse: |s| persist::group_commit(s.group_appends, 8),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} appends from 8 writer(s) sharing fsyncs; baseline: write + fdatasync per append",
                    s.group_appends
                )
            },
        },
        Workload {
            name: "group-commit-64",
            unit: "appends/s",
            playhouse: |s| persist::group_commit(s.group_appends, 64),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} appends from 64 writer(s) sharing fsyncs; baseline: write + fdatasync per append",
                    s.group_appends
                )
            },
        },
        Workload {
            name: "group-commit-actors-1",
            unit: "appends/s",
            playhouse: |s| group_commit_actors::playhouse(s.group_appends, 1),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} commands to 1 event-sourced actor(s) sharing fsyncs; baseline: write + fdatasync per append",
                    s.group_appends
                )
            },
        },
        Workload {
            name: "group-commit-actors-8",
            unit: "appends/s",
            playhouse: |s| group_commit_actors::playhouse(s.group_appends, 8),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} commands to 8 event-sourced actor(s) sharing fsyncs; baseline: write + fdatasync per append",
                    s.group_appends
                )
            },
        },
        Workload {
            name: "group-commit-actors-64",
            unit: "appends/s",
            playhouse: |s| group_commit_actors::playhouse(s.group_appends, 64),
            baseline: |s| persist::baseline(s.fsync_appends).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} commands to 64 event-sourced actor(s) sharing fsyncs; baseline: write + fdatasync per append",
                    s.group_appends
                )
            },
        },
        Workload {
            name: "replay",
            unit: "events/s",
            playhouse: |s| persist::replay(s.replay_events).into(),
            baseline: |s| persist::replay_baseline(s.replay_events).into(),
            floor: None,
            note: |s| {
                format!(
                    "{} events of one stream read back from an open file journal; baseline: a raw sequential read",
                    s.replay_events
                )
            },
        },
        Workload {
            name: "recovery",
            unit: "events/s",
            playhouse: |s| persist::recovery(s.replay_events).into(),
            baseline: |s| persist::replay_baseline(s.replay_events).into(),
            floor: None,
            note: |s| {
                format!(
                    "opening a file journal of {} events (scan, checksums, index); baseline: a raw sequential read",
                    s.replay_events
                )
            },
        },
    ]
}

impl Report {
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
        if let Some(per_sync) = self.appends_per_sync() {
            let _ = write!(out, ",\"appends_per_sync\":{}", json_number(per_sync));
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
        for (prefix, samples) in [("", &self.ours), ("baseline_", &self.theirs)] {
            if let Some([p50, p99, p999, max]) = Report::latency_of(samples) {
                let _ = write!(
                    out,
                    ",\"{prefix}p50_ns\":{},\"{prefix}p99_ns\":{},\"{prefix}p999_ns\":{},\"{prefix}max_ns\":{}",
                    json_number(p50),
                    json_number(p99),
                    json_number(p999),
                    json_number(max)
                );
            }
            let background = median(
                samples
                    .iter()
                    .filter_map(|s| s.latency.and_then(|l| l.background_rate)),
            );
            if background.is_finite() {
                let _ = write!(
                    out,
                    ",\"{prefix}background_rate\":{}",
                    json_number(background)
                );
            }
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

fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
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
    if let Some([p50, p99, p999, max]) = Report::latency_of(&r.ours) {
        let us = |ns: f64| ns / 1e3;
        let _ = write!(
            note,
            "; p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
            us(p50),
            us(p99),
            us(p999),
            us(max)
        );
        if let Some([b50, b99, b999, bmax]) = Report::latency_of(&r.theirs) {
            let _ = write!(
                note,
                " (baseline {:.1}, {:.1}, {:.1}, {:.1})",
                us(b50),
                us(b99),
                us(b999),
                us(bmax)
            );
        }
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
        "{:<19} {:>12} {:>12} {:>7}  {:<15} {}",
        r.workload.name, ours, theirs, ratio, r.workload.unit, note
    )
}

/// The table's header line.
pub fn table_header() -> String {
    format!(
        "{:<19} {:>12} {:>12} {:>7}  {:<15} {}",
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
