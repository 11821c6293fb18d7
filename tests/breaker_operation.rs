//! A breaker guarding a blocking operation: the operation runs on the breaker's own threads, a hang is a timeout whose late result is not a success, a panic is a failure.

mod common;

use common::{LIMIT, init_log};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use playhouse::breaker::{
    BreakerAddr, BreakerConfig, CallError, CallOutcome, CircuitBreaker, Listeners, Outcome, State,
};
use playhouse::{AskError, System};
use std::time::Duration;

/// What the operation does with a request.
#[derive(Clone, Copy, Debug)]
enum Op {
    Ok(u32),
    Fail,
    Panic,
    /// Blocks until the test sends on the gate.
    Hang,
}

fn outcomes() -> (Listeners, Receiver<CallOutcome>) {
    let (tx, rx) = unbounded();
    let l = Listeners::new().on_outcome(move |o| {
        let _ = tx.send(*o);
    });
    (l, rx)
}

fn gate() -> (Sender<()>, Receiver<()>) {
    bounded(16)
}

#[test]
fn the_operation_runs_off_the_pool_and_answers_through_the_breaker() {
    init_log();
    let system = System::builder().workers(1).build().unwrap();
    let config = BreakerConfig::builder()
        .operation_threads(2)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::guarding(config, |op: Op| {
        let name = std::thread::current().name().unwrap_or("").to_string();
        match op {
            Op::Ok(n) => Ok((n, name)),
            _ => Err("failed"),
        }
    })
    .spawn(&system)
    .unwrap();
    let (n, thread) = breaker.call(Op::Ok(5), LIMIT).unwrap();
    assert_eq!(n, 5);
    assert!(thread.starts_with("breaker-op-"), "ran on {thread:?}");
    assert_eq!(
        breaker.call(Op::Fail, LIMIT),
        Err(CallError::Failed("failed"))
    );
    system.shutdown().unwrap();
}

#[test]
fn a_hung_operation_times_out_and_its_late_result_is_not_a_success() {
    init_log();
    let system = System::new();
    let (release, wait) = gate();
    let (listeners, rx) = outcomes();
    let config = BreakerConfig::builder()
        .max_failures(1)
        .call_timeout(Duration::from_millis(20))
        .late_window(LIMIT)
        .reset_timeout(LIMIT)
        .operation_threads(1)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::guarding(config, move |op: Op| match op {
        Op::Hang => {
            wait.recv_timeout(LIMIT).unwrap();
            Ok::<u32, ()>(1)
        }
        _ => Ok(0),
    })
    .listeners(listeners)
    .spawn(&system)
    .unwrap();
    assert_eq!(breaker.call(Op::Hang, LIMIT), Err(CallError::Timeout));
    assert_eq!(rx.recv_timeout(LIMIT).unwrap().outcome, Outcome::Timeout);
    // Open now: the next call fails fast even though the thread is stuck.
    assert!(breaker.call(Op::Ok(1), LIMIT).unwrap_err().is_rejected());
    assert_eq!(rx.recv_timeout(LIMIT).unwrap().outcome, Outcome::Rejected);
    release.send(()).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT).unwrap().outcome, Outcome::Late);
    let m = breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!(
        (
            m.state,
            m.calls,
            m.timeouts,
            m.successes,
            m.late_answers,
            m.rejections
        ),
        (State::Open, 1, 1, 0, 1, 1)
    );
    system.shutdown().unwrap();
}

#[test]
fn a_panicking_operation_is_a_failure() {
    init_log();
    let system = System::new();
    let config = BreakerConfig::builder().max_failures(2).build().unwrap();
    let breaker = CircuitBreaker::guarding(config, |op: Op| match op {
        Op::Panic => panic!("boom"),
        _ => Ok::<u32, ()>(1),
    })
    .spawn(&system)
    .unwrap();
    assert_eq!(
        breaker.call(Op::Panic, LIMIT),
        Err(CallError::Unavailable(AskError::ReplyDropped))
    );
    // The thread survived the panic.
    assert_eq!(breaker.call(Op::Ok(1), LIMIT), Ok(1));
    let m = breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!((m.failures, m.successes), (1, 1));
    system.shutdown().unwrap();
}

#[test]
fn calls_beyond_the_threads_queue_fail_at_once() {
    init_log();
    let system = System::new();
    let (release, wait) = gate();
    let (listeners, rx) = outcomes();
    let config = BreakerConfig::builder()
        .max_failures(100)
        .call_timeout(LIMIT)
        .operation_threads(1)
        .build()
        .unwrap();
    let (started_tx, started) = unbounded();
    let breaker = CircuitBreaker::guarding(config, move |op: Op| {
        if let Op::Hang = op {
            started_tx.send(()).unwrap();
            wait.recv_timeout(LIMIT).unwrap();
        }
        Ok::<u32, ()>(0)
    })
    .listeners(listeners)
    .spawn(&system)
    .unwrap();
    let call = |b: &playhouse::Addr<_>| {
        let b = b.clone();
        std::thread::spawn(move || b.call(Op::Hang, LIMIT))
    };
    // One call holds the only thread; four more fill its queue; the sixth is refused.
    let mut callers = vec![call(&breaker)];
    started.recv_timeout(LIMIT).unwrap();
    callers.extend((0..5).map(|_| call(&breaker)));
    let refused = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(refused.outcome, Outcome::Failure);
    for _ in 0..5 {
        release.send(()).unwrap();
    }
    let results: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    let refused = results
        .iter()
        .filter(|r| **r == Err(CallError::Unavailable(AskError::ReplyDropped)))
        .count();
    assert_eq!(
        (refused, results.iter().filter(|r| r.is_ok()).count()),
        (1, 5)
    );
    system.shutdown().unwrap();
}
