//! Two stream pipelines: sensor readings windowed per sensor and aggregated, and prioritised events filtered, processed and batched.
//!
//! Run it with `cargo run --example stream_pipeline` (add `RUST_LOG=info` to
//! see the stages' log).
//!
//! The first pipeline converts readings from Celsius to Fahrenheit, drops
//! anomalies above a threshold, and aggregates one-minute windows per sensor
//! to count, mean, min and max. The system runs on the testkit's manual
//! clock, which compresses the three minutes of readings into moments: the
//! example advances it by a minute once a minute's readings are in. The second merges an urgent feed and a bulk
//! feed by priority (weighted, so the bulk feed is not starved), keeps the
//! high-severity events, processes them and batches them by five. Each
//! pipeline checks its results against a direct computation and the example
//! exits non-zero if one is wrong.

use playhouse::System;
use playhouse::stream::{Fairness, Sink, Source, Stats, StreamHandle, Window};
use playhouse::testkit::ManualClock;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);
/// Readings above this (in Fahrenheit) are sensor faults, not weather.
const ANOMALY_F: f64 = 150.0;
const SENSORS: [&str; 3] = ["greenhouse", "cellar", "attic"];

fn fahrenheit(c: f64) -> f64 {
    c * 9.0 / 5.0 + 32.0
}

/// The readings of one minute: (sensor, Celsius). Every seventh is a fault.
fn minute(m: u32) -> Vec<(&'static str, f64)> {
    (0..30u32)
        .map(|i| {
            let sensor = SENSORS[(i % 3) as usize];
            let c = if (i + m).is_multiple_of(7) {
                99.0 + f64::from(i)
            } else {
                f64::from(10 + 3 * (i % 3) + m) + f64::from(i % 5) / 2.0
            };
            (sensor, c)
        })
        .collect()
}

fn wait_until(mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        if Instant::now() > deadline {
            return Err("timed out waiting for the window stage".into());
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Waits until every actor of `system` is idle.
fn quiescent(system: &System) -> Result<(), String> {
    system
        .await_quiescent(Duration::from_secs(30))
        .map_err(|e| e.to_string())
}

fn sensors(system: &System, clock: &ManualClock) -> Result<(), String> {
    let (source, queue) = Source::queue(system, 64).map_err(|e| e.to_string())?;
    let handle: StreamHandle<Vec<(&str, Stats)>> = source
        .map(|(sensor, c): (&'static str, f64)| (sensor, fahrenheit(c)))
        .filter(|(_, f)| *f <= ANOMALY_F)
        .key_by(|(sensor, _)| *sensor)
        .window(Window::time(MINUTE))
        .map(|(sensor, readings)| {
            (
                sensor,
                readings.into_iter().map(|r| r.1).collect::<Vec<f64>>(),
            )
        })
        .stats_per_key()
        .to(Sink::collect())
        .run(system)
        .map_err(|e| e.to_string())?;
    // Every stage has started (the window stage's minutes count from here).
    quiescent(system)?;
    let mut want: Vec<(&str, Stats)> = Vec::new();
    let mut taken = 0;
    for m in 0..3 {
        let readings = minute(m);
        // What the window of this minute should hold, per sensor, in the
        // order the sensors first appear among the kept readings.
        let mut per: Vec<(&str, Vec<f64>)> = Vec::new();
        for (sensor, c) in &readings {
            let f = fahrenheit(*c);
            if f <= ANOMALY_F {
                match per.iter_mut().find(|(s, _)| s == sensor) {
                    Some((_, v)) => v.push(f),
                    None => per.push((sensor, vec![f])),
                }
                taken += 1;
            }
        }
        want.extend(
            per.into_iter()
                .map(|(s, v)| (s, Stats::of(v).expect("non-empty"))),
        );
        for r in readings {
            queue.push(r).map_err(|e| e.to_string())?;
        }
        // Close the minute once its readings have reached the window.
        let window_stage = |h: &StreamHandle<_>| {
            h.metrics()
                .iter()
                .find(|s| s.name.ends_with("key_window"))
                .map_or(0, |s| s.elements_in)
        };
        // Received, then handled (stamped with this minute's time).
        wait_until(|| window_stage(&handle) == taken)?;
        quiescent(system)?;
        clock.advance(MINUTE);
    }
    drop(queue);
    let got = handle
        .wait(Duration::from_secs(30))
        .map_err(|e| e.to_string())?;
    for (sensor, s) in &got {
        println!(
            "  {sensor:<10} n={:>2} mean={:>6.2}F min={:>6.2}F max={:>6.2}F",
            s.count, s.mean, s.min, s.max
        );
    }
    if got != want {
        return Err(format!("sensor windows: got {got:?}, want {want:?}"));
    }
    println!(
        "sensor windows: {} per-sensor minutes, as computed directly",
        got.len()
    );
    Ok(())
}

#[derive(Clone, Debug, PartialEq)]
struct Event {
    id: u32,
    severity: u8,
    feed: &'static str,
}

fn events(system: &System) -> Result<(), String> {
    let feed = |name: &'static str, ids: std::ops::Range<u32>| {
        Source::from_iter(ids.map(move |id| Event {
            id,
            severity: (id % 4) as u8,
            feed: name,
        }))
    };
    let batches = Source::merge(
        vec![(4, feed("urgent", 0..40)), (1, feed("bulk", 100..160))],
        Fairness::Weighted,
    )
    .filter(|e| e.severity >= 2)
    .map(|e| format!("{}#{}:handled", e.feed, e.id))
    .batch(5)
    .to(Sink::collect())
    .run(system)
    .map_err(|e| e.to_string())?
    .wait(Duration::from_secs(30))
    .map_err(|e| e.to_string())?;
    let kept: Vec<&String> = batches.iter().flatten().collect();
    let want = (0..40).chain(100..160).filter(|id| id % 4 >= 2).count();
    let sizes_ok = batches.iter().rev().skip(1).all(|b| b.len() == 5)
        && batches.last().is_some_and(|b| (1..=5).contains(&b.len()));
    if kept.len() != want || !sizes_ok || !kept.iter().all(|e| e.ends_with(":handled")) {
        return Err(format!("events: got {batches:?}"));
    }
    // Within each feed, order is kept through the merge.
    for name in ["urgent", "bulk"] {
        let ids: Vec<u32> = kept
            .iter()
            .filter(|e| e.starts_with(name))
            .map(|e| {
                e[name.len() + 1..]
                    .split(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            return Err(format!("events of {name} out of order: {ids:?}"));
        }
    }
    println!("  first batch: {:?}", batches[0]);
    println!(
        "events: {} high-severity events handled in {} batches of at most 5",
        kept.len(),
        batches.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    env_logger::init();
    // Timers, and so the time windows, move only when the example advances
    // the clock.
    let clock = ManualClock::new();
    let system = match System::builder().clock(clock.clone()).build() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("stream_pipeline: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = sensors(&system, &clock).and_then(|()| events(&system));
    if let Err(e) = system.shutdown() {
        eprintln!("shutdown: {e}");
        return ExitCode::FAILURE;
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stream_pipeline: {e}");
            ExitCode::FAILURE
        }
    }
}
