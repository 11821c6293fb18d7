//! The breaker's state machine driven by hand-made instants: Akka's CircuitBreakerSpec and resilience4j's state-machine cases, with exact counts.

use playhouse::breaker::{
    BreakerConfig, ConfigError, Outcome, Reason, Rejected, State, StateMachine, Transition,
    Verdict, Window,
};
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Makes one call at `at` that ends at `at` with `verdict`; returns the
/// transitions it caused.
fn call(sm: &mut StateMachine, at: Instant, verdict: Verdict) -> Vec<Transition> {
    let admission = sm.try_acquire(at);
    let mut ts: Vec<Transition> = admission.transition.into_iter().collect();
    let permit = admission.permit.expect("admitted");
    ts.extend(sm.record(permit, verdict, at).transition);
    ts
}

fn akka(max_failures: u32) -> StateMachine {
    StateMachine::new(
        BreakerConfig::builder()
            .max_failures(max_failures)
            .reset_timeout(10 * S)
            .build()
            .unwrap(),
    )
}

#[test]
fn trips_at_exactly_max_failures_consecutive_failures() {
    let t = Instant::now();
    let mut sm = akka(3);
    assert!(call(&mut sm, t, Verdict::Failure).is_empty());
    assert!(call(&mut sm, t, Verdict::Failure).is_empty());
    assert_eq!(sm.state(), State::Closed);
    let ts = call(&mut sm, t, Verdict::Failure);
    assert_eq!(
        ts,
        vec![Transition {
            from: State::Closed,
            to: State::Open,
            reason: Reason::ConsecutiveFailures(3),
            open_for: Some(10 * S),
        }]
    );
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let t = Instant::now();
    let mut sm = akka(2);
    for _ in 0..5 {
        let _ = call(&mut sm, t, Verdict::Failure);
        assert_eq!(sm.metrics().consecutive_failures, 1);
        let _ = call(&mut sm, t, Verdict::Success);
        assert_eq!(sm.metrics().consecutive_failures, 0);
    }
    assert_eq!(sm.state(), State::Closed);
    let m = sm.metrics();
    assert_eq!((m.calls, m.successes, m.failures), (10, 5, 5));
}

#[test]
fn timeouts_count_as_failures() {
    let t = Instant::now();
    let mut sm = akka(2);
    let _ = call(&mut sm, t, Verdict::Timeout);
    let ts = call(&mut sm, t, Verdict::Failure);
    assert_eq!(ts[0].reason, Reason::ConsecutiveFailures(2));
    let m = sm.metrics();
    assert_eq!((m.timeouts, m.failures), (1, 1));
}

#[test]
fn open_fails_fast_with_the_time_left() {
    let t = Instant::now();
    let mut sm = akka(1);
    let _ = call(&mut sm, t, Verdict::Failure);
    for (at, left) in [(ms(0), 10_000), (ms(2_500), 7_500), (ms(9_999), 1)] {
        let a = sm.try_acquire(t + at);
        assert_eq!(a.transition, None);
        assert_eq!(
            a.permit,
            Err(Rejected::Open {
                retry_after: ms(left)
            })
        );
    }
    let m = sm.metrics();
    assert_eq!((m.calls, m.rejections, m.state), (1, 3, State::Open));
}

#[test]
fn goes_half_open_when_the_reset_timeout_passes() {
    let t = Instant::now();
    let mut sm = akka(1);
    let _ = call(&mut sm, t, Verdict::Failure);
    assert_eq!(sm.open_until(), Some(t + 10 * S));
    assert_eq!(sm.reset_due(t + 10 * S - ms(1)), None);
    let ts = sm.reset_due(t + 10 * S).expect("due");
    assert_eq!(
        (ts.from, ts.to, ts.reason),
        (State::Open, State::HalfOpen, Reason::ResetTimeout)
    );
    assert_eq!(sm.state(), State::HalfOpen);
}

#[test]
fn half_open_admits_exactly_one_probe_and_rejects_the_rest() {
    let t = Instant::now();
    let mut sm = akka(1);
    let _ = call(&mut sm, t, Verdict::Failure);
    let probe = sm.try_acquire(t + 10 * S);
    assert_eq!(probe.transition.map(|t| t.to), Some(State::HalfOpen));
    let probe = probe.permit.expect("the probe");
    assert!(probe.is_probe());
    for _ in 0..7 {
        assert_eq!(
            sm.try_acquire(t + 11 * S).permit,
            Err(Rejected::ProbesTaken)
        );
    }
    let r = sm.record(probe, Verdict::Success, t + 11 * S);
    assert_eq!(r.outcome.outcome, Outcome::Success);
    assert_eq!(r.outcome.state, State::HalfOpen);
    assert_eq!(
        r.transition.map(|t| (t.to, t.reason)),
        Some((State::Closed, Reason::ProbesSucceeded))
    );
    let m = sm.metrics();
    assert_eq!(
        (m.calls, m.successes, m.failures, m.rejections),
        (2, 1, 1, 7)
    );
}

#[test]
fn a_failed_probe_reopens_with_a_doubled_and_capped_timeout() {
    let t = Instant::now();
    let mut sm = StateMachine::new(
        BreakerConfig::builder()
            .max_failures(1)
            .reset_timeout(10 * S)
            .backoff_factor(2.0)
            .max_reset_timeout(35 * S)
            .build()
            .unwrap(),
    );
    let mut now = t;
    let mut opens = Vec::new();
    opens.extend(
        call(&mut sm, now, Verdict::Failure)
            .into_iter()
            .filter_map(|t| t.open_for),
    );
    for _ in 0..3 {
        now = sm.open_until().unwrap();
        let ts = call(&mut sm, now, Verdict::Failure);
        assert_eq!(ts[0].to, State::HalfOpen);
        assert_eq!((ts[1].to, ts[1].reason), (State::Open, Reason::ProbeFailed));
        opens.push(ts[1].open_for.unwrap());
    }
    assert_eq!(opens, vec![10 * S, 20 * S, 35 * S, 35 * S]);
    // A probe that succeeds closes and resets the backoff.
    now = sm.open_until().unwrap();
    let _ = call(&mut sm, now, Verdict::Success);
    assert_eq!(sm.state(), State::Closed);
    let ts = call(&mut sm, now, Verdict::Failure);
    assert_eq!(ts[0].open_for, Some(10 * S));
}

#[test]
fn jitter_lengthens_the_open_time_within_its_fraction_and_the_cap() {
    let t = Instant::now();
    let mut sm = StateMachine::new(
        BreakerConfig::builder()
            .max_failures(1)
            .reset_timeout(10 * S)
            .jitter(0.5)
            .max_reset_timeout(100 * S)
            .build()
            .unwrap(),
    );
    let mut now = t;
    for _ in 0..20 {
        let ts = call(&mut sm, now, Verdict::Failure);
        let open = ts.last().unwrap().open_for.unwrap();
        assert!(open >= 10 * S && open <= 15 * S, "{open:?}");
        now = sm.open_until().unwrap();
        let _ = sm.reset_due(now);
        let p = sm.try_acquire(now).permit.unwrap();
        let _ = sm.record(p, Verdict::Success, now);
    }
}

#[test]
fn max_probes_successes_are_needed_to_close() {
    let t = Instant::now();
    let mut sm = StateMachine::new(
        BreakerConfig::builder()
            .max_failures(1)
            .reset_timeout(S)
            .max_probes(3)
            .build()
            .unwrap(),
    );
    let _ = call(&mut sm, t, Verdict::Failure);
    let now = t + S;
    let probes: Vec<_> = (0..3)
        .map(|_| sm.try_acquire(now).permit.unwrap())
        .collect();
    assert_eq!(sm.try_acquire(now).permit, Err(Rejected::ProbesTaken));
    assert_eq!(sm.record(probes[0], Verdict::Success, now).transition, None);
    assert_eq!(sm.record(probes[1], Verdict::Success, now).transition, None);
    assert_eq!(sm.state(), State::HalfOpen);
    let closed = sm
        .record(probes[2], Verdict::Success, now)
        .transition
        .unwrap();
    assert_eq!(closed.to, State::Closed);
}

#[test]
fn an_ignored_probe_frees_its_place() {
    let t = Instant::now();
    let mut sm = akka(1);
    let _ = call(&mut sm, t, Verdict::Failure);
    let now = t + 10 * S;
    let p = sm.try_acquire(now).permit.unwrap();
    assert_eq!(sm.try_acquire(now).permit, Err(Rejected::ProbesTaken));
    assert_eq!(sm.record(p, Verdict::Ignored, now).transition, None);
    let p = sm.try_acquire(now).permit.expect("the place is free again");
    let _ = sm.record(p, Verdict::Failure, now);
    assert_eq!(sm.state(), State::Open);
}

#[test]
fn ignored_errors_count_neither_way() {
    let t = Instant::now();
    let mut sm = akka(2);
    let _ = call(&mut sm, t, Verdict::Failure);
    for _ in 0..10 {
        let _ = call(&mut sm, t, Verdict::Ignored);
    }
    assert_eq!(
        sm.metrics().consecutive_failures,
        1,
        "not reset by ignored errors"
    );
    let ts = call(&mut sm, t, Verdict::Failure);
    assert_eq!(ts[0].reason, Reason::ConsecutiveFailures(2));
    let m = sm.metrics();
    assert_eq!(
        (m.calls, m.ignored, m.failures, m.successes),
        (12, 10, 2, 0)
    );
}

#[test]
fn an_outcome_from_before_a_transition_moves_no_state() {
    let t = Instant::now();
    let mut sm = akka(1);
    let slow = sm.try_acquire(t).permit.unwrap();
    let _ = call(&mut sm, t, Verdict::Failure);
    assert_eq!(sm.state(), State::Open);
    // The call admitted while closed succeeds while open, then while half-open.
    let r = sm.record(slow, Verdict::Success, t + S);
    assert_eq!(r.transition, None);
    assert_eq!(sm.state(), State::Open);
    assert_eq!(sm.metrics().successes, 1);
}

fn rate_config(window: Window, minimum: u32) -> StateMachine {
    StateMachine::new(
        BreakerConfig::builder()
            .no_max_failures()
            .failure_rate(50.0, window, minimum)
            .reset_timeout(S)
            .build()
            .unwrap(),
    )
}

#[test]
fn failure_rate_waits_for_the_minimum_of_calls() {
    let t = Instant::now();
    let mut sm = rate_config(Window::Count(10), 5);
    for _ in 0..4 {
        assert!(call(&mut sm, t, Verdict::Failure).is_empty());
    }
    assert_eq!(sm.metrics().failure_rate, None, "below the minimum");
    let ts = call(&mut sm, t, Verdict::Failure);
    assert_eq!(ts[0].reason, Reason::FailureRate(100.0));
}

#[test]
fn failure_rate_trips_at_the_threshold_over_a_count_window() {
    let t = Instant::now();
    let mut sm = rate_config(Window::Count(4), 4);
    // S F S S: 25 %, then S F S S F: window F S S F = 50 %.
    for v in [
        Verdict::Success,
        Verdict::Failure,
        Verdict::Success,
        Verdict::Success,
    ] {
        assert!(call(&mut sm, t, v).is_empty());
    }
    assert_eq!(sm.metrics().failure_rate, Some(25.0));
    let ts = call(&mut sm, t, Verdict::Failure);
    assert_eq!(ts[0].reason, Reason::FailureRate(50.0));
}

#[test]
fn failure_rate_over_a_time_window_forgets_old_failures() {
    let t = Instant::now();
    let mut sm = rate_config(Window::Time(10 * S), 4);
    for _ in 0..3 {
        let _ = call(&mut sm, t, Verdict::Failure);
    }
    // Ten seconds on, the three failures have left the window.
    for i in 0..3 {
        assert!(call(&mut sm, t + 10 * S + ms(i), Verdict::Success).is_empty());
    }
    assert!(call(&mut sm, t + 10 * S, Verdict::Failure).is_empty());
    assert_eq!(sm.metrics().failure_rate, Some(25.0));
    assert_eq!(sm.state(), State::Closed);
}

#[test]
fn slow_call_rate_trips_on_slow_successes() {
    let t = Instant::now();
    let mut sm = StateMachine::new(
        BreakerConfig::builder()
            .no_max_failures()
            .slow_calls(ms(100), 50.0)
            .window(Window::Count(4), 4)
            .build()
            .unwrap(),
    );
    let mut run = |took: Duration| {
        let p = sm.try_acquire(t).permit.unwrap();
        sm.record(p, Verdict::Success, t + took)
    };
    assert!(!run(ms(10)).outcome.slow);
    assert!(run(ms(100)).outcome.slow);
    assert_eq!(run(ms(10)).transition, None);
    let r = run(ms(500));
    assert_eq!(
        r.transition.map(|t| t.reason),
        Some(Reason::SlowCallRate(50.0))
    );
    assert_eq!(sm.metrics().slow_calls, 2);
}

#[test]
fn bad_configurations_are_typed_errors() {
    let b = BreakerConfig::builder;
    assert_eq!(
        b().max_failures(0).build(),
        Err(ConfigError::Zero("max_failures"))
    );
    assert_eq!(
        b().call_timeout(Duration::ZERO).build(),
        Err(ConfigError::Zero("call_timeout"))
    );
    assert_eq!(
        b().max_probes(0).build(),
        Err(ConfigError::Zero("max_probes"))
    );
    assert_eq!(
        b().failure_rate(50.0, Window::Count(0), 1).build(),
        Err(ConfigError::Zero("window"))
    );
    assert_eq!(
        b().failure_rate(50.0, Window::Time(Duration::ZERO), 1)
            .build(),
        Err(ConfigError::Zero("window"))
    );
    assert_eq!(
        b().failure_rate(50.0, Window::Count(5), 0).build(),
        Err(ConfigError::Zero("minimum_calls"))
    );
    assert_eq!(
        b().failure_rate(100.5, Window::Count(5), 5).build(),
        Err(ConfigError::RateOutOfRange {
            setting: "failure_rate",
            value: 100.5
        })
    );
    assert_eq!(
        b().slow_calls(S, -1.0).build(),
        Err(ConfigError::RateOutOfRange {
            setting: "slow_call_rate",
            value: -1.0
        })
    );
    assert_eq!(
        b().backoff_factor(0.9).build(),
        Err(ConfigError::FactorBelowOne(0.9))
    );
    assert_eq!(
        b().jitter(1.5).build(),
        Err(ConfigError::JitterOutOfRange(1.5))
    );
    assert_eq!(
        b().reset_timeout(10 * S).max_reset_timeout(S).build(),
        Err(ConfigError::MaxBelowMin {
            min: 10 * S,
            max: S
        })
    );
    assert_eq!(b().no_max_failures().build(), Err(ConfigError::NoTripRule));
    assert_eq!(
        b().operation_threads(0).build(),
        Err(ConfigError::Zero("operation_threads"))
    );
    let e = b().backoff_factor(0.5).build().unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid breaker configuration: backoff factor 0.5 is below 1"
    );
}
