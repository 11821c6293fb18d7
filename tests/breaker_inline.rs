//! The inline `Breaker` shared by threads: one probe among eight concurrent callers, panics and slow calls counted, listener order.

mod common;

use common::LIMIT;
use crossbeam_channel::{bounded, unbounded};
use playhouse::breaker::{Breaker, BreakerConfig, CallError, Listeners, Rejected, State, Verdict};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[test]
fn exactly_one_of_eight_concurrent_callers_probes() {
    let breaker = Arc::new(Breaker::new(
        BreakerConfig::builder()
            .max_failures(1)
            .reset_timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    ));
    let t0 = Instant::now();
    let p = breaker.try_acquire_at(t0).unwrap();
    breaker.record_at(p, Verdict::Failure, t0);
    let due = t0 + Duration::from_secs(10);
    let barrier = Arc::new(Barrier::new(8));
    let (hold_tx, hold_rx) = bounded::<()>(1);
    let (done_tx, done_rx) = unbounded();
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (b, barrier, hold_rx, done_tx) = (
                breaker.clone(),
                barrier.clone(),
                hold_rx.clone(),
                done_tx.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                let r = match b.try_acquire_at(due) {
                    Ok(p) => {
                        // The probe is in flight until the test lets it end.
                        hold_rx.recv_timeout(LIMIT).unwrap();
                        b.record_at(p, Verdict::Success, due);
                        Ok(())
                    }
                    Err(e) => Err(e),
                };
                done_tx.send(r).unwrap();
            })
        })
        .collect();
    for _ in 0..7 {
        assert_eq!(
            done_rx.recv_timeout(LIMIT).unwrap(),
            Err(Rejected::ProbesTaken)
        );
    }
    hold_tx.send(()).unwrap();
    assert_eq!(done_rx.recv_timeout(LIMIT).unwrap(), Ok(()));
    for c in callers {
        c.join().unwrap();
    }
    let m = breaker.metrics();
    assert_eq!(
        (m.state, m.calls, m.rejections, m.successes),
        (State::Closed, 2, 7, 1)
    );
}

#[test]
fn a_panicking_call_is_recorded_as_a_failure() {
    let breaker = Breaker::new(BreakerConfig::builder().max_failures(1).build().unwrap());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        breaker.call(|| -> Result<(), ()> { panic!("boom") })
    }));
    assert!(r.is_err());
    let m = breaker.metrics();
    assert_eq!((m.state, m.failures, m.in_flight), (State::Open, 1, 0));
}

#[test]
fn a_call_slower_than_the_timeout_counts_as_a_timeout_and_keeps_its_value() {
    let breaker = Breaker::new(
        BreakerConfig::builder()
            .max_failures(1)
            .call_timeout(Duration::from_nanos(1))
            .build()
            .unwrap(),
    );
    // The call spins until more than the timeout has passed by the clock.
    let r = breaker.call(|| {
        let start = Instant::now();
        while start.elapsed() <= Duration::from_micros(1) {
            std::hint::spin_loop();
        }
        Ok::<_, ()>(5)
    });
    assert_eq!(r, Ok(5));
    let m = breaker.metrics();
    assert_eq!((m.timeouts, m.successes, m.state), (1, 0, State::Open));
}

#[test]
fn classified_calls_ignore_errors_and_fail_values() {
    let breaker = Breaker::new(BreakerConfig::builder().max_failures(2).build().unwrap());
    let classify = |r: &Result<u32, &str>| match r {
        Ok(13) => Verdict::Failure,
        Ok(_) => Verdict::Success,
        Err("busy") => Verdict::Ignored,
        Err(_) => Verdict::Failure,
    };
    assert_eq!(
        breaker.call_classified(|| Err("busy"), classify),
        Err(CallError::Failed("busy"))
    );
    assert_eq!(breaker.call_classified(|| Ok(13), classify), Ok(13));
    assert_eq!(
        breaker.call_classified(|| Err("busy"), classify),
        Err(CallError::Failed("busy"))
    );
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.call_classified(|| Ok(13), classify), Ok(13));
    assert_eq!(breaker.state(), State::Open);
    let m = breaker.metrics();
    assert_eq!((m.ignored, m.failures), (2, 2));
}

#[test]
fn listeners_hear_each_event_once_in_order() {
    let (tx, rx) = unbounded::<String>();
    let (a, b) = (tx.clone(), tx);
    let listeners = Listeners::new()
        .on_outcome(move |o| drop(a.send(format!("{:?}@{}", o.outcome, o.state))))
        .on_transition(move |t| drop(b.send(format!("{}->{}", t.from, t.to))));
    let breaker = Breaker::with_listeners(
        BreakerConfig::builder()
            .max_failures(1)
            .reset_timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
        listeners,
    );
    let t0 = Instant::now();
    let p = breaker.try_acquire_at(t0).unwrap();
    breaker.record_at(p, Verdict::Failure, t0);
    assert!(breaker.try_acquire_at(t0).is_err());
    let later = t0 + Duration::from_secs(1);
    let p = breaker.try_acquire_at(later).unwrap();
    breaker.record_at(p, Verdict::Success, later);
    let seen: Vec<String> = rx.try_iter().collect();
    assert_eq!(
        seen,
        [
            "Failure@closed",
            "closed->open",
            "Rejected@open",
            "open->half-open",
            "Success@half-open",
            "half-open->closed"
        ]
    );
}
