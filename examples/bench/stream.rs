//! Stream workload: a four-stage pipeline (source, map, filter, batch then sink) as stream stage actors, against the same pipeline on plain threads joined by bounded crossbeam channels.

use playhouse::System;
use playhouse::stream::{Sink, Source};
use std::time::{Duration, Instant};

/// Each stage's buffer, and each baseline channel's capacity.
const BUFFER: usize = 64;
/// Elements per batch.
const BATCH: usize = 100;

fn map(n: u64) -> u64 {
    n.wrapping_mul(2_654_435_761) >> 3
}

fn keep(n: &u64) -> bool {
    !n.is_multiple_of(3)
}

/// What both pipelines must deliver for `n` elements: (count, checksum).
fn expected(n: u64) -> (u64, u64) {
    (0..n)
        .map(map)
        .filter(keep)
        .fold((0, 0), |(c, s), x| (c + 1, s.wrapping_add(x)))
}

/// The pipeline as stream stages on a system with one worker per core.
/// Returns the elements the sink received and the time from start to
/// completion.
pub fn playhouse(n: u64) -> (u64, Duration) {
    let system = System::new();
    let start = Instant::now();
    let (count, sum) = Source::from_iter(0..n)
        .buffer_size(BUFFER)
        .map(map)
        .filter(keep)
        .batch(BATCH)
        .to(Sink::fold((0u64, 0u64), |(c, s), batch: Vec<u64>| {
            (
                c + batch.len() as u64,
                batch.iter().fold(s, |s, x| s.wrapping_add(*x)),
            )
        }))
        .run(&system)
        .expect("the pipeline starts")
        .wait(Duration::from_secs(600))
        .expect("the pipeline completes");
    let elapsed = start.elapsed();
    assert_eq!(
        (count, sum),
        expected(n),
        "stream pipeline lost or changed elements"
    );
    system.shutdown().expect("clean shutdown");
    (count, elapsed)
}

/// The same pipeline on four plain threads joined by bounded channels.
pub fn baseline(n: u64) -> (u64, Duration) {
    let (tx1, rx1) = crossbeam_channel::bounded::<u64>(BUFFER);
    let (tx2, rx2) = crossbeam_channel::bounded::<u64>(BUFFER);
    let (tx3, rx3) = crossbeam_channel::bounded::<u64>(BUFFER);
    let start = Instant::now();
    let source = std::thread::spawn(move || {
        for x in 0..n {
            tx1.send(x).unwrap();
        }
    });
    let mapper = std::thread::spawn(move || {
        for x in rx1 {
            tx2.send(map(x)).unwrap();
        }
    });
    let filter = std::thread::spawn(move || {
        for x in rx2 {
            if keep(&x) {
                tx3.send(x).unwrap();
            }
        }
    });
    let sink = std::thread::spawn(move || {
        let (mut count, mut sum) = (0u64, 0u64);
        let mut batch = Vec::with_capacity(BATCH);
        let mut flush = |batch: &mut Vec<u64>| {
            count += batch.len() as u64;
            sum = batch.iter().fold(sum, |s, x| s.wrapping_add(*x));
            batch.clear();
        };
        for x in rx3 {
            batch.push(x);
            if batch.len() == BATCH {
                flush(&mut batch);
            }
        }
        flush(&mut batch);
        (count, sum)
    });
    source.join().unwrap();
    mapper.join().unwrap();
    filter.join().unwrap();
    let (count, sum) = sink.join().unwrap();
    let elapsed = start.elapsed();
    assert_eq!(
        (count, sum),
        expected(n),
        "baseline pipeline lost or changed elements"
    );
    (count, elapsed)
}
