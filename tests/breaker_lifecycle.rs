//! Breaker actors over their lifetime: a guarded operation's threads exit with the breaker, and a supervised breaker restarts closed at the same address.

mod common;

use common::{LIMIT, init_log, threads_named, wait_until};
use playhouse::breaker::{
    BreakerAddr, BreakerConfig, CallError, CircuitBreaker, Listeners, Outcome, ServiceRequest,
    State,
};
use playhouse::{
    Actor, ActorError, AskError, ChildSpec, Context, Supervisor, SupervisorExt, System,
};

/// The only test here that starts operation threads, so the count is its own.
#[test]
fn a_guarded_operations_threads_exit_when_the_system_shuts_down() {
    init_log();
    let system = System::new();
    let config = BreakerConfig::builder()
        .operation_threads(3)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::guarding(config, |n: u32| Ok::<_, ()>(n + 1))
        .spawn(&system)
        .unwrap();
    assert_eq!(breaker.call(1, LIMIT), Ok(2));
    // A thread takes its name once it runs (Linux names a thread from
    // inside it), so wait for all three rather than count at once.
    wait_until("the three operation threads run", || {
        threads_named("breaker-op-") == 3
    });
    system.shutdown().unwrap();
    wait_until("the operation threads exit", || {
        threads_named("breaker-op-") == 0
    });
}

/// Doubles numbers, and fails zero.
struct Doubler;

impl Actor for Doubler {
    type Msg = ServiceRequest<u32, u32, String>;
    fn handle(&mut self, _: &mut Context<Self>, (n, reply): Self::Msg) -> Result<(), ActorError> {
        let _ = reply.send(if n == 0 {
            Err("zero".into())
        } else {
            Ok(n * 2)
        });
        Ok(())
    }
}

#[test]
fn a_supervised_breaker_restarts_closed_at_the_same_address() {
    init_log();
    let system = System::new();
    let service = system.spawn(|| Doubler).unwrap();
    let config = BreakerConfig::builder()
        .max_failures(1)
        .reset_timeout(LIMIT)
        .build()
        .unwrap();
    // A listener that fails the breaker actor on its first rejection.
    let listeners = Listeners::new().on_outcome(|o| {
        assert_ne!(
            o.outcome,
            Outcome::Rejected,
            "this listener fails on purpose"
        );
    });
    let factory = CircuitBreaker::builder(config, service.recipient())
        .listeners(listeners)
        .factory();
    let sup = Supervisor::builder()
        .name("sup")
        .child(ChildSpec::new("breaker", factory))
        .spawn(&system)
        .unwrap();
    type B = CircuitBreaker<u32, u32, String>;
    wait_until("the breaker started", || {
        sup.child::<B>("breaker").is_some()
    });
    let breaker = sup.child::<B>("breaker").expect("the child");
    assert_eq!(breaker.call(5, LIMIT), Ok(10));
    assert_eq!(
        breaker.call(0, LIMIT),
        Err(CallError::Failed("zero".into()))
    );
    assert_eq!(breaker.breaker_metrics(LIMIT).unwrap().state, State::Open);
    // The rejection fails the instance, and with it its caller's ask.
    assert_eq!(
        breaker.call(5, LIMIT),
        Err(CallError::Breaker(AskError::Failed))
    );
    // The restarted instance, at the same address, starts closed and fresh.
    assert_eq!(breaker.call(5, LIMIT), Ok(10));
    let m = breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!((m.state, m.calls, m.successes), (State::Closed, 1, 1));
    assert_eq!(sup.children(LIMIT).unwrap()[0].restarts, 1);
    system.shutdown().unwrap();
}
