//! Breaker overhead: `n` asks from a plain thread through a closed circuit breaker actor to an echo actor, against `n` direct asks of the same echo actor (the baseline here is the direct ask, not a crossbeam channel).

use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker, ServiceRequest};
use playhouse::{Actor, ActorError, Context, System};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Answers every request with its own number.
struct Echo;

impl Actor for Echo {
    type Msg = ServiceRequest<u64, u64, ()>;
    fn handle(&mut self, _: &mut Context<Self>, (n, reply): Self::Msg) -> Result<(), ActorError> {
        let _ = reply.send(Ok(n));
        Ok(())
    }
}

/// `n` calls through a closed breaker; panics if any answer is wrong or the
/// breaker counts anything but successes.
pub fn playhouse(n: u64) -> (u64, Duration) {
    let system = System::new();
    let echo = system.spawn(|| Echo).expect("spawn echo");
    let config = BreakerConfig::builder()
        .call_timeout(TIMEOUT)
        .build()
        .expect("valid config");
    let breaker = CircuitBreaker::builder(config, echo.recipient())
        .spawn(&system)
        .expect("spawn breaker");
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..n {
        sum += breaker.call(i, TIMEOUT).expect("closed breaker answers");
    }
    let took = start.elapsed();
    assert_eq!(sum, n * n.saturating_sub(1) / 2);
    let m = breaker.breaker_metrics(TIMEOUT).expect("metrics");
    assert_eq!((m.calls, m.successes, m.rejections), (n, n, 0));
    system.shutdown().expect("clean shutdown");
    (n, took)
}

/// `n` direct asks of the same echo actor.
pub fn baseline(n: u64) -> (u64, Duration) {
    let system = System::new();
    let echo = system.spawn(|| Echo).expect("spawn echo");
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..n {
        sum += echo
            .ask(|r| (i, r), TIMEOUT)
            .expect("echo answers")
            .expect("echo never fails");
    }
    let took = start.elapsed();
    assert_eq!(sum, n * n.saturating_sub(1) / 2);
    system.shutdown().expect("clean shutdown");
    (n, took)
}
