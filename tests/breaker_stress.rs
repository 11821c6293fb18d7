//! Three callers times 1,000 calls through the breaker actor: a healthy service gives zero failures; a flaky one gives every call exactly one outcome, matching the breaker's counters.

mod common;

use common::{LIMIT, init_log};
use crossbeam_channel::unbounded;
use playhouse::breaker::{
    BreakerAddr, BreakerConfig, CallError, CircuitBreaker, Listeners, Outcome, ServiceRequest,
};
use playhouse::{Actor, ActorError, AskError, Context, System};
use std::collections::HashMap;
use std::time::Duration;

const CALLERS: u32 = 3;
const CALLS: u32 = 1_000;

/// Fails in bursts: calls `k` with `k % 50` in 20..35 fail, and every 97th
/// drops its reply, when `flaky`.
struct Service {
    flaky: bool,
    n: u64,
}

impl Actor for Service {
    type Msg = ServiceRequest<u32, u32, String>;
    fn handle(&mut self, _: &mut Context<Self>, (x, reply): Self::Msg) -> Result<(), ActorError> {
        self.n += 1;
        if self.flaky && self.n.is_multiple_of(97) {
            drop(reply);
        } else if self.flaky && (20..35).contains(&(self.n % 50)) {
            let _ = reply.send(Err("burst".into()));
        } else {
            let _ = reply.send(Ok(x));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Seen {
    Ok,
    Failed,
    Unavailable,
    Rejected,
    Timeout,
}

fn run(
    flaky: bool,
) -> (
    HashMap<Seen, u64>,
    playhouse::breaker::BreakerMetrics,
    HashMap<Outcome, u64>,
) {
    init_log();
    let system = System::builder().workers(2).build().unwrap();
    let service = system.spawn(move || Service { flaky, n: 0 }).unwrap();
    let (tx, rx) = unbounded();
    let config = BreakerConfig::builder()
        .max_failures(5)
        .call_timeout(LIMIT)
        .reset_timeout(Duration::from_micros(200))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder(config, service.recipient())
        .listeners(Listeners::new().on_outcome(move |o| {
            let _ = tx.send(o.outcome);
        }))
        .spawn(&system)
        .unwrap();
    let callers: Vec<_> = (0..CALLERS)
        .map(|c| {
            let b = breaker.clone();
            std::thread::spawn(move || {
                let mut seen: HashMap<Seen, u64> = HashMap::new();
                for i in 0..CALLS {
                    let x = c * CALLS + i;
                    let s = match b.call(x, LIMIT) {
                        Ok(v) => {
                            assert_eq!(v, x);
                            Seen::Ok
                        }
                        Err(CallError::Failed(_)) => Seen::Failed,
                        Err(CallError::Unavailable(AskError::ReplyDropped)) => Seen::Unavailable,
                        Err(CallError::Rejected(_)) => Seen::Rejected,
                        Err(CallError::Timeout) => Seen::Timeout,
                        Err(e) => panic!("unexpected {e:?}"),
                    };
                    *seen.entry(s).or_default() += 1;
                }
                seen
            })
        })
        .collect();
    let mut seen: HashMap<Seen, u64> = HashMap::new();
    for c in callers {
        for (k, v) in c.join().unwrap() {
            *seen.entry(k).or_default() += v;
        }
    }
    let m = breaker.breaker_metrics(LIMIT).unwrap();
    let mut events: HashMap<Outcome, u64> = HashMap::new();
    for o in rx.try_iter() {
        *events.entry(o).or_default() += 1;
    }
    system.shutdown().unwrap();
    (seen, m, events)
}

fn get<K: std::hash::Hash + Eq>(m: &HashMap<K, u64>, k: K) -> u64 {
    m.get(&k).copied().unwrap_or(0)
}

#[test]
fn a_healthy_service_sees_zero_failures() {
    let (seen, m, events) = run(false);
    let total = u64::from(CALLERS * CALLS);
    assert_eq!(get(&seen, Seen::Ok), total, "{seen:?}");
    assert_eq!(
        (m.calls, m.successes, m.failures, m.rejections, m.timeouts),
        (total, total, 0, 0, 0)
    );
    assert_eq!(get(&events, Outcome::Success), total);
}

#[test]
fn a_flaky_service_gives_every_call_exactly_one_outcome() {
    let (seen, m, events) = run(true);
    let total = u64::from(CALLERS * CALLS);
    assert_eq!(seen.values().sum::<u64>(), total);
    assert_eq!(get(&seen, Seen::Timeout), 0);
    // The callers' view and the breaker's counters agree exactly.
    assert_eq!(m.in_flight, 0);
    assert_eq!(m.calls + m.rejections, total);
    assert_eq!(get(&seen, Seen::Ok), m.successes);
    assert_eq!(
        get(&seen, Seen::Failed) + get(&seen, Seen::Unavailable),
        m.failures
    );
    assert_eq!(get(&seen, Seen::Rejected), m.rejections);
    // And so do the listener's reports, one per call.
    assert_eq!(events.values().sum::<u64>(), total);
    assert_eq!(get(&events, Outcome::Success), m.successes);
    assert_eq!(get(&events, Outcome::Failure), m.failures);
    assert_eq!(get(&events, Outcome::Rejected), m.rejections);
    assert!(
        m.failures > 0 && m.transitions > 0,
        "the service did fail: {m:?}"
    );
}
