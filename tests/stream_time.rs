//! Time-based stages driven by a manual clock: tumbling, sliding and keyed time windows, grouped_within, throttle, the ticker; no sleeps.

mod common;

use common::{LIMIT, init_log, wait_until};
use playhouse::System;
use playhouse::stream::{ManualClock, QueueHandle, Sink, Source, Stats, StreamHandle, Window};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

fn system() -> System {
    init_log();
    System::builder().workers(2).build().unwrap()
}

/// Waits until the stage at `index` (source first) has taken `n` elements.
fn taken<R>(handle: &StreamHandle<R>, index: usize, n: u64) {
    wait_until("the stage has its input", || {
        handle.metrics()[index].elements_in == n
    });
}

/// A queue-fed pipeline `stages` on a manual clock, into a channel.
fn run<T, O>(
    system: &System,
    clock: &ManualClock,
    tickers: usize,
    stages: impl FnOnce(Source<T>) -> Source<O>,
) -> (
    QueueHandle<T>,
    crossbeam_channel::Receiver<O>,
    StreamHandle<()>,
)
where
    T: Send + 'static,
    O: Send + 'static,
{
    let (source, queue) = Source::queue(system, 16).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = stages(source.clock(clock))
        .to(Sink::to_sender(tx))
        .run(system)
        .unwrap();
    wait_until("the time-based stages started", || {
        clock.tickers() == tickers
    });
    (queue, rx, handle)
}

#[test]
fn tumbling_time_windows_close_on_clock_ticks_and_flush_at_the_end() {
    let system = system();
    let clock = ManualClock::new();
    let (queue, rx, handle) = run(&system, &clock, 1, |s| s.window(Window::time(MINUTE)));
    for n in [1, 2, 3] {
        queue.push(n).unwrap();
    }
    taken(&handle, 1, 3);
    clock.advance(MINUTE);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![1, 2, 3]);
    queue.push(4).unwrap();
    taken(&handle, 1, 4);
    clock.advance(MINUTE / 2);
    // Half a minute later the window is still open: 5 joins it.
    queue.push(5).unwrap();
    taken(&handle, 1, 5);
    clock.advance(MINUTE / 2);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![4, 5]);
    // An empty minute emits nothing; the end flushes the partial window.
    clock.advance(MINUTE);
    queue.push(6).unwrap();
    drop(queue);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![6]);
    handle.wait(LIMIT).unwrap();
    assert!(rx.recv_timeout(LIMIT).is_err(), "nothing after the end");
    system.shutdown().unwrap();
}

#[test]
fn sliding_time_windows_overlap() {
    let system = system();
    let clock = ManualClock::new();
    let sec = Duration::from_secs(1);
    let (queue, rx, handle) = run(&system, &clock, 1, |s| {
        s.window(Window::sliding_time(2 * sec, sec))
    });
    queue.push('a').unwrap();
    taken(&handle, 1, 1);
    clock.advance(sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['a']);
    queue.push('b').unwrap();
    taken(&handle, 1, 2);
    clock.advance(sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['a', 'b']);
    clock.advance(sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['b']);
    drop(queue);
    handle.wait(LIMIT).unwrap();
    assert!(
        rx.recv_timeout(LIMIT).is_err(),
        "an empty window is not emitted"
    );
    system.shutdown().unwrap();
}

/// Per-sensor windows of a minute, aggregated: one result per key, keys in
/// first-seen order.
#[test]
fn keyed_time_windows_aggregate_per_key() {
    let system = system();
    let clock = ManualClock::new();
    let (queue, rx, handle) = run(&system, &clock, 1, |s| {
        s.key_by(|r: &(&'static str, f64)| r.0)
            .window(Window::time(MINUTE))
            .map(|(k, w)| (k, w.into_iter().map(|r| r.1).collect::<Vec<f64>>()))
            .stats_per_key()
    });
    for r in [("b", 1.0), ("a", 10.0), ("b", 3.0), ("a", 20.0), ("b", 2.0)] {
        queue.push(r).unwrap();
    }
    taken(&handle, 1, 5);
    clock.advance(MINUTE);
    let (k1, s1) = rx.recv_timeout(LIMIT).unwrap();
    let (k2, s2) = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!((k1, k2), ("b", "a"));
    assert_eq!(s1, Stats::of([1.0, 3.0, 2.0]).unwrap());
    assert_eq!((s1.count, s1.min, s1.max, s1.mean), (3, 1.0, 3.0, 2.0));
    assert_eq!((s2.count, s2.sum, s2.mean), (2, 30.0, 15.0));
    queue.push(("a", 5.0)).unwrap();
    drop(queue);
    let (k, s) = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!((k, s.count, s.sum), ("a", 1, 5.0));
    handle.wait(LIMIT).unwrap();
    system.shutdown().unwrap();
}

#[test]
fn grouped_within_emits_full_batches_at_once_and_partial_ones_on_the_tick() {
    let system = system();
    let clock = ManualClock::new();
    let (queue, rx, handle) = run(&system, &clock, 1, |s| {
        s.grouped_within(3, Duration::from_secs(10))
    });
    for n in 1..=4 {
        queue.push(n).unwrap();
    }
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![1, 2, 3]);
    taken(&handle, 1, 4);
    clock.advance(Duration::from_secs(10));
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![4]);
    drop(queue);
    handle.wait(LIMIT).unwrap();
    system.shutdown().unwrap();
}

/// Two elements per second: the rest wait for the next tick.
#[test]
fn throttle_passes_n_per_interval() {
    let system = system();
    let clock = ManualClock::new();
    let sec = Duration::from_secs(1);
    let (queue, rx, handle) = run(&system, &clock, 1, |s| s.throttle(2, sec));
    for n in 0..5 {
        queue.push(n).unwrap();
    }
    taken(&handle, 1, 5);
    // Every element has reached the throttle and been offered: two passed.
    assert_eq!(handle.metrics()[1].elements_out, 2);
    assert_eq!(
        (
            rx.recv_timeout(LIMIT).unwrap(),
            rx.recv_timeout(LIMIT).unwrap()
        ),
        (0, 1)
    );
    clock.advance(sec);
    assert_eq!(
        (
            rx.recv_timeout(LIMIT).unwrap(),
            rx.recv_timeout(LIMIT).unwrap()
        ),
        (2, 3)
    );
    wait_until("the throttle passed four", || {
        handle.metrics()[1].elements_out == 4
    });
    clock.advance(sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), 4);
    drop(queue);
    handle.wait(LIMIT).unwrap();
    system.shutdown().unwrap();
}

#[test]
fn ticker_emits_the_clock_time_on_each_tick() {
    let system = system();
    let clock = ManualClock::new();
    let t0 = clock.now();
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = Source::ticker(Duration::from_secs(5))
        .clock(&clock)
        .take(3)
        .to(Sink::to_sender(tx))
        .run(&system)
        .unwrap();
    wait_until("the ticker started", || clock.tickers() == 1);
    for k in 1..=3u32 {
        clock.advance(Duration::from_secs(5));
        assert_eq!(
            rx.recv_timeout(LIMIT).unwrap() - t0,
            Duration::from_secs(5) * k
        );
    }
    handle.wait(LIMIT).unwrap();
    system.shutdown().unwrap();
}
