//! Loom models of the shared inline `Breaker`: probe admission racing the reset time, at most `max_probes` probes.
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use playhouse::breaker::{Breaker, BreakerConfig, Listeners, State, Verdict};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RESET: Duration = Duration::from_secs(10);

/// An open breaker (tripped at `t0`, so due at `t0 + RESET`) that counts its
/// transitions to half-open.
fn open_breaker(max_probes: u32, t0: Instant) -> (Arc<Breaker>, Arc<AtomicUsize>) {
    let half_opens = Arc::new(AtomicUsize::new(0));
    let h = half_opens.clone();
    let listeners = Listeners::new().on_transition(move |t| {
        if t.to == State::HalfOpen {
            h.fetch_add(1, Ordering::SeqCst);
        }
    });
    let config = BreakerConfig::builder()
        .max_failures(1)
        .max_probes(max_probes)
        .reset_timeout(RESET)
        .backoff_factor(2.0)
        .max_reset_timeout(RESET * 4)
        .build()
        .unwrap();
    let breaker = Arc::new(Breaker::with_listeners(config, listeners));
    let p = breaker.try_acquire_at(t0).unwrap();
    breaker.record_at(p, Verdict::Failure, t0);
    (breaker, half_opens)
}

/// Three callers, one just before the reset time and two at or after it; a
/// probe fails. Exactly one probe is admitted, whatever the order.
#[test]
fn callers_racing_the_reset_time_admit_exactly_one_probe() {
    model(|| {
        let t0 = Instant::now();
        let (breaker, half_opens) = open_breaker(1, t0);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let admitted = Arc::new(AtomicUsize::new(0));
        let offsets = [
            RESET - Duration::from_millis(1),
            RESET,
            RESET + Duration::from_millis(1),
        ];
        let callers: Vec<_> = offsets
            .into_iter()
            .map(|offset| {
                let (b, f, a) = (breaker.clone(), in_flight.clone(), admitted.clone());
                thread::spawn(move || {
                    let now = t0 + offset;
                    if let Ok(p) = b.try_acquire_at(now) {
                        assert!(p.is_probe());
                        a.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(f.fetch_add(1, Ordering::SeqCst), 0, "two probes at once");
                        f.fetch_sub(1, Ordering::SeqCst);
                        b.record_at(p, Verdict::Failure, now);
                    }
                })
            })
            .collect();
        for c in callers {
            c.join().unwrap();
        }
        assert_eq!(admitted.load(Ordering::SeqCst), 1);
        assert_eq!(half_opens.load(Ordering::SeqCst), 1);
        let m = breaker.metrics();
        assert_eq!(
            (m.state, m.calls, m.rejections, m.failures),
            (State::Open, 2, 2, 2)
        );
    });
}

/// Two probes allowed, three callers after the reset time, each probe held
/// until all callers have tried: two are admitted, one is refused, and the
/// two successes close the breaker.
#[test]
fn max_probes_bounds_concurrent_probes() {
    model(|| {
        let t0 = Instant::now();
        let (breaker, half_opens) = open_breaker(2, t0);
        let now = t0 + RESET;
        let callers: Vec<_> = (0..3)
            .map(|_| {
                let b = breaker.clone();
                thread::spawn(move || b.try_acquire_at(now).ok())
            })
            .collect();
        let permits: Vec<_> = callers
            .into_iter()
            .filter_map(|c| c.join().unwrap())
            .collect();
        assert_eq!(permits.len(), 2);
        for p in permits {
            breaker.record_at(p, Verdict::Success, now);
        }
        assert_eq!(half_opens.load(Ordering::SeqCst), 1);
        assert_eq!(breaker.state(), State::Closed);
    });
}
