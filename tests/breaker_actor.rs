//! The breaker actor with real timers: callers from threads and actors, one probe among concurrent callers, backoff, hangs and late answers, events on a bus; synchronised on listener events, never on sleeps.

mod common;

use common::{LIMIT, init_log};
use crossbeam_channel::{Receiver, unbounded};
use playhouse::breaker::{
    BreakerAddr, BreakerConfig, BreakerEvent, BreakerMsg, CallError, CallOutcome, CircuitBreaker,
    Listeners, Outcome, Reason, Rejected, ServiceRequest, State, Transition,
};
use playhouse::{Actor, ActorError, Addr, Context, EventBus, Reply, Subscribe, System};
use std::time::Duration;

type Req = ServiceRequest<u32, u32, String>;

/// How the service answers the next requests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    Fail,
    /// Keeps the reply until `Release`.
    Hold,
}

enum SvcMsg {
    Req(Req),
    Mode(Mode),
    /// Answers every held request with `Ok(n)`.
    Release(Reply<usize>),
    Seen(Reply<u64>),
}

struct Service {
    mode: Mode,
    held: Vec<Reply<Result<u32, String>>>,
    seen: u64,
    /// Tells the test each request as it arrives.
    arrivals: crossbeam_channel::Sender<u32>,
}

impl Actor for Service {
    type Msg = SvcMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: SvcMsg) -> Result<(), ActorError> {
        match msg {
            SvcMsg::Req((n, reply)) => {
                self.seen += 1;
                let _ = self.arrivals.send(n);
                match self.mode {
                    Mode::Ok => drop(reply.send(Ok(n))),
                    Mode::Fail => drop(reply.send(Err(format!("fail {n}")))),
                    Mode::Hold => self.held.push(reply),
                }
            }
            SvcMsg::Mode(m) => self.mode = m,
            SvcMsg::Release(r) => {
                let held = std::mem::take(&mut self.held);
                let n = held.len();
                for h in held {
                    let _ = h.send(Ok(7));
                }
                let _ = r.send(n);
            }
            SvcMsg::Seen(r) => drop(r.send(self.seen)),
        }
        Ok(())
    }
}

struct Rig {
    system: System,
    service: Addr<Service>,
    breaker: Addr<CircuitBreaker<u32, u32, String>>,
    transitions: Receiver<Transition>,
    outcomes: Receiver<CallOutcome>,
    arrivals: Receiver<u32>,
}

impl Rig {
    fn new(config: BreakerConfig) -> Rig {
        Rig::with(config, |_, b| b)
    }

    fn with(
        config: BreakerConfig,
        customise: impl FnOnce(
            &System,
            playhouse::breaker::CircuitBreakerBuilder<u32, u32, String>,
        ) -> playhouse::breaker::CircuitBreakerBuilder<u32, u32, String>,
    ) -> Rig {
        init_log();
        let system = System::builder().workers(2).build().unwrap();
        let (atx, arrivals) = unbounded();
        let service = system
            .spawn(move || Service {
                mode: Mode::Ok,
                held: Vec::new(),
                seen: 0,
                arrivals: atx.clone(),
            })
            .unwrap();
        let (ttx, transitions) = unbounded();
        let (otx, outcomes) = unbounded();
        let listeners = Listeners::new()
            .on_transition(move |t| {
                let _ = ttx.send(*t);
            })
            .on_outcome(move |o| {
                let _ = otx.send(*o);
            });
        let builder = CircuitBreaker::builder(config, service.recipient_with(SvcMsg::Req))
            .listeners(listeners);
        let breaker = customise(&system, builder).spawn(&system).unwrap();
        Rig {
            system,
            service,
            breaker,
            transitions,
            outcomes,
            arrivals,
        }
    }

    fn mode(&self, m: Mode) {
        self.service.tell(SvcMsg::Mode(m)).unwrap();
    }

    fn call(&self, n: u32) -> Result<u32, CallError<String>> {
        self.breaker.call(n, LIMIT)
    }

    fn next_transition(&self) -> Transition {
        self.transitions.recv_timeout(LIMIT).expect("a transition")
    }

    fn next_outcome(&self) -> CallOutcome {
        self.outcomes.recv_timeout(LIMIT).expect("an outcome")
    }

    fn seen(&self) -> u64 {
        self.service.ask(SvcMsg::Seen, LIMIT).unwrap()
    }
}

fn config() -> playhouse::breaker::BreakerConfigBuilder {
    BreakerConfig::builder()
        .call_timeout(LIMIT)
        .late_window(LIMIT)
}

#[test]
fn trips_fails_fast_and_the_service_sees_nothing_while_open() {
    let rig = Rig::new(
        config()
            .max_failures(3)
            .reset_timeout(LIMIT)
            .build()
            .unwrap(),
    );
    assert_eq!(rig.call(1), Ok(1));
    rig.mode(Mode::Fail);
    for n in 2..5 {
        assert_eq!(rig.call(n), Err(CallError::Failed(format!("fail {n}"))));
    }
    let t = rig.next_transition();
    assert_eq!(
        (t.to, t.reason),
        (State::Open, Reason::ConsecutiveFailures(3))
    );
    for n in 0..10 {
        match rig.call(n) {
            Err(CallError::Rejected(Rejected::Open { retry_after })) => {
                assert!(retry_after <= LIMIT)
            }
            other => panic!("expected a fast failure, got {other:?}"),
        }
    }
    assert_eq!(rig.seen(), 4);
    let m = rig.breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!(
        (m.state, m.calls, m.successes, m.failures, m.rejections),
        (State::Open, 4, 1, 3, 10)
    );
    rig.system.shutdown().unwrap();
}

#[test]
fn the_timer_takes_an_open_breaker_half_open_and_a_probe_success_closes_it() {
    let rig = Rig::new(
        config()
            .max_failures(1)
            .reset_timeout(Duration::from_millis(20))
            .build()
            .unwrap(),
    );
    rig.mode(Mode::Fail);
    assert!(matches!(rig.call(1), Err(CallError::Failed(_))));
    assert_eq!(rig.next_transition().to, State::Open);
    // No call is made: the timer alone moves it.
    let t = rig.next_transition();
    assert_eq!(
        (t.from, t.to, t.reason),
        (State::Open, State::HalfOpen, Reason::ResetTimeout)
    );
    rig.mode(Mode::Ok);
    assert_eq!(rig.call(2), Ok(2));
    let t = rig.next_transition();
    assert_eq!((t.to, t.reason), (State::Closed, Reason::ProbesSucceeded));
    rig.system.shutdown().unwrap();
}

#[test]
fn exactly_one_probe_among_eight_concurrent_callers() {
    let rig = Rig::new(
        config()
            .max_failures(1)
            .reset_timeout(Duration::from_millis(10))
            .build()
            .unwrap(),
    );
    rig.mode(Mode::Fail);
    assert!(rig.call(0).is_err());
    assert_eq!(rig.next_transition().to, State::Open);
    assert_eq!(rig.next_transition().to, State::HalfOpen);
    rig.mode(Mode::Hold);
    let _ = rig.arrivals.try_iter().count();
    let (tx, results) = unbounded();
    let callers: Vec<_> = (1..=8)
        .map(|n| {
            let b = rig.breaker.clone();
            let tx = tx.clone();
            std::thread::spawn(move || tx.send(b.call(n, LIMIT)).unwrap())
        })
        .collect();
    // Seven fail fast while the probe is held by the service.
    for _ in 0..7 {
        let r = results.recv_timeout(LIMIT).unwrap();
        assert_eq!(r, Err(CallError::Rejected(Rejected::ProbesTaken)));
    }
    rig.arrivals
        .recv_timeout(LIMIT)
        .expect("the probe reached the service");
    assert_eq!(rig.service.ask(SvcMsg::Release, LIMIT).unwrap(), 1);
    assert_eq!(results.recv_timeout(LIMIT).unwrap(), Ok(7));
    for c in callers {
        c.join().unwrap();
    }
    assert_eq!(rig.next_transition().to, State::Closed);
    assert_eq!(rig.seen(), 2);
    let m = rig.breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!(
        (m.calls, m.rejections, m.successes, m.failures),
        (2, 7, 1, 1)
    );
    rig.system.shutdown().unwrap();
}

#[test]
fn a_failed_probe_reopens_with_a_doubled_and_capped_timeout() {
    let rig = Rig::new(
        config()
            .max_failures(1)
            .reset_timeout(Duration::from_millis(10))
            .backoff_factor(2.0)
            .max_reset_timeout(Duration::from_millis(30))
            .build()
            .unwrap(),
    );
    rig.mode(Mode::Fail);
    let mut opens = Vec::new();
    assert!(rig.call(0).is_err());
    for _ in 0..3 {
        let t = rig.next_transition();
        opens.push((t.reason, t.open_for.unwrap()));
        assert_eq!(rig.next_transition().to, State::HalfOpen);
        assert!(matches!(rig.call(1), Err(CallError::Failed(_))));
    }
    let t = rig.next_transition();
    opens.push((t.reason, t.open_for.unwrap()));
    let ms = Duration::from_millis;
    assert_eq!(
        opens,
        vec![
            (Reason::ConsecutiveFailures(1), ms(10)),
            (Reason::ProbeFailed, ms(20)),
            (Reason::ProbeFailed, ms(30)),
            (Reason::ProbeFailed, ms(30)),
        ]
    );
    rig.system.shutdown().unwrap();
}

#[test]
fn a_hang_is_a_timeout_and_its_late_answer_is_not_a_success() {
    let rig = Rig::new(
        config()
            .max_failures(1)
            .call_timeout(Duration::from_millis(20))
            .reset_timeout(LIMIT)
            .build()
            .unwrap(),
    );
    rig.mode(Mode::Hold);
    assert_eq!(rig.call(1), Err(CallError::Timeout));
    let o = rig.next_outcome();
    assert_eq!((o.outcome, o.state), (Outcome::Timeout, State::Closed));
    assert_eq!(rig.next_transition().to, State::Open);
    // The service answers now, late.
    assert_eq!(rig.service.ask(SvcMsg::Release, LIMIT).unwrap(), 1);
    assert_eq!(rig.next_outcome().outcome, Outcome::Late);
    let m = rig.breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!(
        (m.calls, m.timeouts, m.successes, m.late_answers, m.state),
        (1, 1, 0, 1, State::Open)
    );
    rig.system.shutdown().unwrap();
}

#[test]
fn ignored_errors_and_failing_values_are_classified_by_predicates() {
    let rig = Rig::with(
        config()
            .max_failures(2)
            .reset_timeout(LIMIT)
            .build()
            .unwrap(),
        |_, b| {
            b.ignore_errors(|e: &String| e.ends_with('0'))
                .failure_if(|v: &u32| *v == 13)
        },
    );
    rig.mode(Mode::Fail);
    for n in [10, 20, 30] {
        assert_eq!(rig.call(n), Err(CallError::Failed(format!("fail {n}"))));
    }
    assert_eq!(rig.breaker.breaker_metrics(LIMIT).unwrap().ignored, 3);
    rig.mode(Mode::Ok);
    // The caller still gets the value; the breaker counts it as a failure.
    assert_eq!(rig.call(13), Ok(13));
    assert_eq!(rig.call(13), Ok(13));
    let t = rig.next_transition();
    assert_eq!(
        (t.to, t.reason),
        (State::Open, Reason::ConsecutiveFailures(2))
    );
    let m = rig.breaker.breaker_metrics(LIMIT).unwrap();
    assert_eq!((m.calls, m.ignored, m.failures, m.successes), (5, 3, 2, 0));
    rig.system.shutdown().unwrap();
}

#[test]
fn outcomes_come_before_the_transition_they_cause_in_listener_order() {
    let (tx, rx) = unbounded::<String>();
    let (tx1, tx2, tx3) = (tx.clone(), tx.clone(), tx);
    let listeners = Listeners::new()
        .on_outcome(move |o| drop(tx1.send(format!("a:{:?}", o.outcome))))
        .on_transition(move |t| drop(tx2.send(format!("b:{}", t.to))))
        .on_outcome(move |o| drop(tx3.send(format!("c:{:?}", o.outcome))));
    let rig = Rig::with(
        config()
            .max_failures(1)
            .reset_timeout(LIMIT)
            .build()
            .unwrap(),
        |_, b| b.listeners(listeners),
    );
    rig.mode(Mode::Fail);
    let _ = rig.call(1);
    let _ = rig.call(2);
    let seen: Vec<String> = rx.try_iter().collect();
    assert_eq!(
        seen,
        [
            "a:Failure",
            "c:Failure",
            "b:open",
            "a:Rejected",
            "c:Rejected"
        ]
    );
    rig.system.shutdown().unwrap();
}

/// Calls the breaker from inside an actor and records the answers.
struct Caller {
    breaker: Addr<CircuitBreaker<u32, u32, String>>,
    answers: Vec<Result<u32, CallError<String>>>,
}

enum CallerMsg {
    Go(u32),
    Answers(Reply<Vec<Result<u32, CallError<String>>>>),
}

impl Actor for Caller {
    type Msg = CallerMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: CallerMsg) -> Result<(), ActorError> {
        match msg {
            CallerMsg::Go(n) => {
                for i in 0..n {
                    ctx.ask(
                        &self.breaker,
                        |r| BreakerMsg::call(i, r),
                        LIMIT,
                        |me: &mut Caller, _, answer| me.answers.push(CallError::flatten(answer)),
                    )?;
                }
            }
            CallerMsg::Answers(r) => drop(r.send(self.answers.clone())),
        }
        Ok(())
    }
}

#[test]
fn an_actor_calls_through_the_breaker_with_continuations() {
    let rig = Rig::new(
        config()
            .max_failures(3)
            .reset_timeout(LIMIT)
            .build()
            .unwrap(),
    );
    let breaker = rig.breaker.clone();
    let caller = rig
        .system
        .spawn(move || Caller {
            breaker: breaker.clone(),
            answers: Vec::new(),
        })
        .unwrap();
    caller.tell(CallerMsg::Go(5)).unwrap();
    rig.system.await_quiescent(LIMIT).unwrap();
    let answers = caller.ask(CallerMsg::Answers, LIMIT).unwrap();
    assert_eq!(answers, (0..5).map(Ok).collect::<Vec<_>>());
    rig.system.shutdown().unwrap();
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Transition,
    Call,
}

#[test]
fn transitions_and_outcomes_are_published_to_an_event_bus() {
    let (tx, rx) = unbounded::<BreakerEvent>();
    let (ctx, crx) = unbounded::<BreakerEvent>();
    let rig = Rig::with(
        config()
            .max_failures(1)
            .reset_timeout(LIMIT)
            .build()
            .unwrap(),
        |system, b| {
            let bus = EventBus::<BreakerEvent>::builder()
                .topic_fn(|e: &BreakerEvent| match e {
                    BreakerEvent::Transition(_) => Kind::Transition,
                    BreakerEvent::Call(_) => Kind::Call,
                })
                .spawn(system)
                .unwrap();
            bus.subscribe_channel(Subscribe::topic(Kind::Transition), tx, LIMIT)
                .unwrap();
            bus.subscribe_channel(Subscribe::topic(Kind::Call), ctx, LIMIT)
                .unwrap();
            b.publish_to(bus.publisher())
        },
    );
    rig.mode(Mode::Fail);
    let _ = rig.call(1);
    let _ = rig.call(2);
    match rx.recv_timeout(LIMIT).unwrap() {
        BreakerEvent::Transition(t) => assert_eq!((t.from, t.to), (State::Closed, State::Open)),
        other => panic!("{other:?}"),
    }
    let calls: Vec<Outcome> = (0..2)
        .map(|_| match crx.recv_timeout(LIMIT).unwrap() {
            BreakerEvent::Call(o) => o.outcome,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(calls, [Outcome::Failure, Outcome::Rejected]);
    rig.system.shutdown().unwrap();
}
