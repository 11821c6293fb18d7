//! Error policies (resume, restart, stop), a panic mid-stream with every element accounted for, and buffer overflow strategies.

mod common;

use common::{Gate, LIMIT, system_with_letters, wait_until};
use playhouse::DeadLetterReason;
use playhouse::stream::{ErrorPolicy, Overflow, Sink, Source, StreamError};

fn letters(l: &std::sync::Mutex<Vec<DeadLetterReason>>, reason: DeadLetterReason) -> usize {
    l.lock().unwrap().iter().filter(|r| **r == reason).count()
}

#[test]
fn resume_drops_failing_elements_to_dead_letters_and_goes_on() {
    for workers in [1, 2] {
        let (system, dead) = system_with_letters(workers);
        let handle = Source::from_iter(0..100u32)
            .on_error(ErrorPolicy::Resume)
            .try_map(|n| {
                if n % 10 == 3 {
                    Err(format!("bad {n}"))
                } else {
                    Ok(n)
                }
            })
            .to(Sink::collect())
            .run(&system)
            .unwrap();
        let out = handle.wait(LIMIT).unwrap();
        assert_eq!(out, (0..100).filter(|n| n % 10 != 3).collect::<Vec<_>>());
        assert_eq!(letters(&dead, DeadLetterReason::HandlerFailed), 10);
        system.shutdown().unwrap();
    }
}

/// A panic in the middle of the stream under resume: every element is
/// either delivered or dead-lettered, exactly once.
#[test]
fn panic_mid_stream_accounts_for_every_element() {
    let (system, dead) = system_with_letters(2);
    let handle = Source::from_iter(0..1000u32)
        .on_error(ErrorPolicy::Resume)
        .map(|n| {
            assert!(n != 500, "sensor 500 exploded");
            n
        })
        .to(Sink::collect())
        .run(&system)
        .unwrap();
    let out = handle.wait(LIMIT).unwrap();
    assert_eq!(
        out.len() + letters(&dead, DeadLetterReason::HandlerFailed),
        1000
    );
    assert_eq!(out, (0..1000).filter(|n| *n != 500).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

/// Restart gives the stage fresh state: the running count starts over after
/// the failing element, which is dead-lettered.
#[test]
fn restart_gives_the_stage_fresh_state() {
    let (system, dead) = system_with_letters(2);
    let handle = Source::from_iter(0..10u32)
        .on_error(ErrorPolicy::Restart)
        .scan(0u32, |count, n| {
            assert!(n != 4, "element 4 is poison");
            *count += 1;
        })
        .to(Sink::collect())
        .run(&system)
        .unwrap();
    wait_until("the stage restarted", || handle.metrics()[1].restarts == 1);
    let out = handle.wait(LIMIT).unwrap();
    assert_eq!(out, vec![1, 2, 3, 4, 1, 2, 3, 4, 5]);
    assert_eq!(letters(&dead, DeadLetterReason::HandlerFailed), 1);
    system.shutdown().unwrap();
}

/// Stop ends the stream with the error: the elements before the failure
/// were delivered, in order, and the handle names the stage.
#[test]
fn stop_fails_the_stream_with_the_stage_and_reason() {
    let (system, _dead) = system_with_letters(2);
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = Source::from_iter(0..100u32)
        .try_map(|n| if n == 50 { Err("fifty") } else { Ok(n) })
        .to(Sink::for_each(move |n| tx.send(n).unwrap()))
        .run(&system)
        .unwrap();
    match handle.wait(LIMIT) {
        Err(StreamError::Failed { stage, reason }) => {
            assert_eq!(stage, "2:try_map");
            assert_eq!(reason, "fifty");
        }
        other => panic!("expected a stage failure, got {other:?}"),
    }
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..50).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

/// A buffer of four ahead of a sink that holds its first element: what the
/// buffer sheds goes to dead letters, the rest arrives, all twenty counted.
fn shed(overflow: Overflow) -> (Vec<u32>, u64, usize) {
    let (system, dead) = system_with_letters(2);
    let gate = Gate::new();
    let g = gate.clone();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut first = true;
    let handle = Source::from_iter(0..20u32)
        .buffer(4, overflow)
        .buffer_size(1)
        .to(Sink::for_each(move |n| {
            if std::mem::take(&mut first) {
                g.wait();
            }
            tx.send(n).unwrap();
        }))
        .run(&system)
        .unwrap();
    wait_until("the buffer took every element", || {
        handle.metrics()[1].elements_in == 20
    });
    gate.open();
    // Read once the buffer has handled every element (its counts are
    // bumped after the element is in).
    wait_until("the sink has what the buffer kept", || {
        let m = handle.metrics();
        m[1].elements_out + m[1].dropped == 20 && m[2].elements_out == m[1].elements_out
    });
    let dropped = handle.metrics()[1].dropped;
    handle.wait(LIMIT).unwrap();
    let got: Vec<u32> = rx.iter().collect();
    let letters = letters(&dead, DeadLetterReason::Shed);
    system.shutdown().unwrap();
    (got, dropped, letters)
}

#[test]
fn drop_newest_keeps_the_oldest() {
    let (got, dropped, letters) = shed(Overflow::DropNewest);
    // The buffer keeps four, plus the one the sink took if its credit came
    // before the fifth element did.
    assert!(got.len() == 4 || got.len() == 5, "{got:?}");
    assert_eq!(got, (0..got.len() as u32).collect::<Vec<_>>());
    assert_eq!(got.len() as u64 + dropped, 20);
    assert_eq!(letters as u64, dropped);
}

#[test]
fn drop_oldest_keeps_the_newest() {
    let (got, dropped, letters) = shed(Overflow::DropOldest);
    assert!(got.len() == 4 || got.len() == 5, "{got:?}");
    assert_eq!(got.len() as u64 + dropped, 20);
    assert_eq!(letters as u64, dropped);
    assert_eq!(&got[got.len() - 4..], &[16, 17, 18, 19]);
}

/// A buffer of four under `Fail` ahead of a sink whose channel nobody
/// reads: once the sink and its thread hold what they can, the buffer
/// overflows and the stream fails with the buffer's name.
#[test]
fn overflow_fail_stops_the_stream() {
    let (system, _dead) = system_with_letters(2);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let handle = Source::from_iter(0..20u32)
        .buffer(4, Overflow::Fail)
        .buffer_size(1)
        .to(Sink::to_sender(tx))
        .run(&system)
        .unwrap();
    assert_eq!(
        handle.wait(LIMIT),
        Err(StreamError::Overflow {
            stage: "2:buffer".into()
        })
    );
    drop(rx);
    system.shutdown().unwrap();
}

#[test]
fn backpressure_buffer_with_watermarks_loses_nothing() {
    let (system, _dead) = system_with_letters(1);
    let out = Source::from_iter(0..300u32)
        .buffer_watermarks(8, 2)
        .buffer_size(1)
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    assert_eq!(out, (0..300).collect::<Vec<_>>());
    system.shutdown().unwrap();
}
