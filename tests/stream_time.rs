//! Time-based stages on a system built with the testkit's manual clock: tumbling, sliding and keyed time windows, grouped_within, throttle, the ticker; no sleeps.

mod common;

use common::{LIMIT, init_log, wait_until};
use playhouse::System;
use playhouse::stream::{QueueHandle, Sink, Source, Stats, StreamHandle, Window};
use playhouse::testkit::ManualClock;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// A system whose timers, and so whose streams' time, move only with `clock`.
fn system(clock: &ManualClock) -> System {
    init_log();
    System::builder()
        .workers(2)
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// Waits until the stage at `index` (source first) has received `n`
/// elements and the system is quiescent: the stage has handled them, each
/// stamped with the clock's current time, so the next `advance` comes after.
fn taken<R>(system: &System, handle: &StreamHandle<R>, index: usize, n: u64) {
    wait_until("the stage has its input", || {
        handle.metrics()[index].elements_in == n
    });
    system.await_quiescent(LIMIT).unwrap();
}

/// A queue-fed pipeline `stages` into a channel, returned once every stage
/// has started (and so has armed its timer at the clock's current time).
fn run<T, O>(
    system: &System,
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
    let handle = stages(source).to(Sink::to_sender(tx)).run(system).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    (queue, rx, handle)
}

#[test]
fn tumbling_time_windows_close_on_clock_ticks_and_flush_at_the_end() {
    let clock = ManualClock::new();
    let system = system(&clock);
    let (queue, rx, handle) = run(&system, |s| s.window(Window::time(MINUTE)));
    for n in [1, 2, 3] {
        queue.push(n).unwrap();
    }
    taken(&system, &handle, 1, 3);
    clock.advance(MINUTE);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![1, 2, 3]);
    queue.push(4).unwrap();
    taken(&system, &handle, 1, 4);
    clock.advance(MINUTE / 2);
    // Half a minute later the window is still open: 5 joins it.
    queue.push(5).unwrap();
    taken(&system, &handle, 1, 5);
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
    let clock = ManualClock::new();
    let system = system(&clock);
    let sec = Duration::from_secs(1);
    let (queue, rx, handle) = run(&system, |s| s.window(Window::sliding_time(2 * sec, sec)));
    queue.push('a').unwrap();
    taken(&system, &handle, 1, 1);
    clock.advance(sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['a']);
    queue.push('b').unwrap();
    taken(&system, &handle, 1, 2);
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
    let clock = ManualClock::new();
    let system = system(&clock);
    let (queue, rx, handle) = run(&system, |s| {
        s.key_by(|r: &(&'static str, f64)| r.0)
            .window(Window::time(MINUTE))
            .map(|(k, w)| (k, w.into_iter().map(|r| r.1).collect::<Vec<f64>>()))
            .stats_per_key()
    });
    for r in [("b", 1.0), ("a", 10.0), ("b", 3.0), ("a", 20.0), ("b", 2.0)] {
        queue.push(r).unwrap();
    }
    taken(&system, &handle, 1, 5);
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
    let clock = ManualClock::new();
    let system = system(&clock);
    let (queue, rx, handle) = run(&system, |s| s.grouped_within(3, Duration::from_secs(10)));
    for n in 1..=4 {
        queue.push(n).unwrap();
    }
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![1, 2, 3]);
    taken(&system, &handle, 1, 4);
    clock.advance(Duration::from_secs(10));
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![4]);
    drop(queue);
    handle.wait(LIMIT).unwrap();
    system.shutdown().unwrap();
}

/// Two elements per second: the rest wait for the next tick.
#[test]
fn throttle_passes_n_per_interval() {
    let clock = ManualClock::new();
    let system = system(&clock);
    let sec = Duration::from_secs(1);
    let (queue, rx, handle) = run(&system, |s| s.throttle(2, sec));
    for n in 0..5 {
        queue.push(n).unwrap();
    }
    taken(&system, &handle, 1, 5);
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
    let clock = ManualClock::new();
    let system = system(&clock);
    let t0 = clock.now();
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = Source::ticker(Duration::from_secs(5))
        .take(3)
        .to(Sink::to_sender(tx))
        .run(&system)
        .unwrap();
    system.await_quiescent(LIMIT).unwrap();
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

/// The system timer skips the periods it missed, yet no window is lost: one
/// jump of the clock past several window ends closes each of them, in order,
/// as stepping through them would.
#[test]
fn a_jump_past_several_window_ends_closes_each_window_in_order() {
    let clock = ManualClock::new();
    let system = system(&clock);
    let sec = Duration::from_secs(1);
    let (queue, rx, handle) = run(&system, |s| s.window(Window::sliding_time(2 * sec, sec)));
    queue.push('a').unwrap();
    taken(&system, &handle, 1, 1);
    // Three slides at once: the windows ending at 1s and 2s hold 'a', the
    // one ending at 3s is empty and not emitted.
    clock.advance(3 * sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['a']);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['a']);
    // 'b' is taken at 3s: it opens the window after the jump, alone.
    queue.push('b').unwrap();
    taken(&system, &handle, 1, 2);
    clock.advance(sec);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec!['b']);
    drop(queue);
    handle.wait(LIMIT).unwrap();
    // The window ending at 5s would hold 'b' again, but the stream ended
    // first: the end flushes only a window with fresh elements.
    assert!(rx.recv_timeout(LIMIT).is_err(), "nothing after the end");
    system.shutdown().unwrap();
}

/// Tumbling windows across a jump: the element taken before it closes with
/// the first window, the one taken after it lands in the window open at the
/// new time.
#[test]
fn tumbling_windows_across_a_jump() {
    let clock = ManualClock::new();
    let system = system(&clock);
    let (queue, rx, handle) = run(&system, |s| s.window(Window::time(MINUTE)));
    queue.push(1).unwrap();
    taken(&system, &handle, 1, 1);
    clock.advance(MINUTE * 5 / 2);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![1]);
    queue.push(2).unwrap();
    taken(&system, &handle, 1, 2);
    // The window [2m, 3m) ends half a minute later.
    clock.advance(MINUTE / 2);
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), vec![2]);
    drop(queue);
    handle.wait(LIMIT).unwrap();
    assert!(rx.recv_timeout(LIMIT).is_err(), "nothing after the end");
    system.shutdown().unwrap();
}
