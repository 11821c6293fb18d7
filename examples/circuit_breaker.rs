//! A circuit breaker in front of a flaky service actor: it fails in a burst, then hangs, then recovers; callers on plain threads and an actor.
//!
//! Run it with `cargo run --example circuit_breaker` (add `RUST_LOG=info` for
//! the breaker's own log lines).
//!
//! It shows the breaker tripping on consecutive failures, failing fast while
//! open (the service sees nothing), the timer taking it half-open, a failed
//! probe reopening it with a doubled open time, a hung call counted as a
//! timeout whose late answer is not a success, and recovery. It prints every
//! transition and the final counters, checks them, and exits non-zero if
//! anything is off.

use crossbeam_channel::{Receiver, unbounded};
use playhouse::breaker::{
    BreakerAddr, BreakerConfig, BreakerMsg, CallError, CircuitBreaker, Listeners, Outcome, Reason,
    ServiceRequest, State, Transition,
};
use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    Healthy,
    Failing,
    Hanging,
}

enum ServiceMsg {
    Request(ServiceRequest<u64, u64, String>),
    Set(Health),
    /// Answers the requests it hung on (too late), and says how many.
    Wake(Reply<usize>),
    Seen(Reply<u64>),
}

/// A price service: doubles the number it is given, when it is well.
struct Flaky {
    health: Health,
    hung: Vec<(u64, Reply<Result<u64, String>>)>,
    seen: u64,
}

impl Actor for Flaky {
    type Msg = ServiceMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: ServiceMsg) -> Result<(), ActorError> {
        match msg {
            ServiceMsg::Request((n, reply)) => {
                self.seen += 1;
                match self.health {
                    Health::Healthy => drop(reply.send(Ok(n * 2))),
                    Health::Failing => drop(reply.send(Err(format!("backend error on {n}")))),
                    Health::Hanging => self.hung.push((n, reply)),
                }
            }
            ServiceMsg::Set(h) => self.health = h,
            ServiceMsg::Wake(r) => {
                let hung = std::mem::take(&mut self.hung);
                let n = hung.len();
                for (x, reply) in hung {
                    let _ = reply.send(Ok(x * 2));
                }
                let _ = r.send(n);
            }
            ServiceMsg::Seen(r) => drop(r.send(self.seen)),
        }
        Ok(())
    }
}

type Breaker = Addr<CircuitBreaker<u64, u64, String>>;
type Answers = Vec<Result<u64, CallError<String>>>;

enum ClientMsg {
    /// Calls the breaker `n` times and answers with every result, in order of arrival.
    Run(u64, Reply<Answers>),
}

/// An actor that calls through the breaker with continuations.
struct Client {
    breaker: Breaker,
    answers: Answers,
    want: u64,
    report: Option<Reply<Answers>>,
}

impl Actor for Client {
    type Msg = ClientMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: ClientMsg) -> Result<(), ActorError> {
        let ClientMsg::Run(n, reply) = msg;
        self.answers.clear();
        self.want = n;
        self.report = Some(reply);
        for i in 0..n {
            ctx.ask(
                &self.breaker,
                |r| BreakerMsg::call(1_000 + i, r),
                WAIT,
                |me: &mut Client, _, answer| {
                    me.answers.push(CallError::flatten(answer));
                    if me.answers.len() as u64 == me.want
                        && let Some(r) = me.report.take()
                    {
                        let _ = r.send(std::mem::take(&mut me.answers));
                    }
                },
            )?;
        }
        Ok(())
    }
}

/// Calls from `threads` plain threads, `per` calls each; returns every answer.
fn from_threads(breaker: &Breaker, threads: u64, per: u64) -> Answers {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let b = breaker.clone();
            std::thread::spawn(move || {
                (0..per)
                    .map(|i| b.call(t * 100 + i, WAIT))
                    .collect::<Answers>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("caller thread"))
        .collect()
}

struct Watch {
    start: Instant,
    transitions: Receiver<Transition>,
    seen: Vec<Transition>,
}

impl Watch {
    /// Waits for the next transition, prints and keeps it.
    fn next(&mut self) -> Result<Transition, String> {
        let t = self
            .transitions
            .recv_timeout(WAIT)
            .map_err(|_| "no transition came".to_string())?;
        let open = t
            .open_for
            .map(|d| format!(" for {d:?}"))
            .unwrap_or_default();
        println!(
            "  [{:>5} ms] {} -> {} ({:?}){open}",
            self.start.elapsed().as_millis(),
            t.from,
            t.to,
            t.reason
        );
        self.seen.push(t);
        Ok(t)
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

fn run() -> Result<(), String> {
    let system = System::new();
    let service = system
        .spawn(|| Flaky {
            health: Health::Healthy,
            hung: Vec::new(),
            seen: 0,
        })
        .map_err(|e| e.to_string())?;
    let config = BreakerConfig::builder()
        .max_failures(5)
        .call_timeout(Duration::from_millis(100))
        .reset_timeout(Duration::from_millis(250))
        .backoff_factor(2.0)
        .max_reset_timeout(Duration::from_millis(800))
        .build()
        .map_err(|e| e.to_string())?;
    let (ttx, transitions) = unbounded();
    let (otx, outcomes) = unbounded();
    let listeners = Listeners::new()
        .on_transition(move |t| {
            let _ = ttx.send(*t);
        })
        .on_outcome(move |o| {
            let _ = otx.send(o.outcome);
        });
    let breaker = CircuitBreaker::builder(config, service.recipient_with(ServiceMsg::Request))
        .listeners(listeners)
        .name("prices")
        .spawn(&system)
        .map_err(|e| e.to_string())?;
    let b = breaker.clone();
    let client = system
        .spawn(move || Client {
            breaker: b.clone(),
            answers: Vec::new(),
            want: 0,
            report: None,
        })
        .map_err(|e| e.to_string())?;
    let mut watch = Watch {
        start: Instant::now(),
        transitions,
        seen: Vec::new(),
    };
    let seen = || {
        service
            .ask(ServiceMsg::Seen, WAIT)
            .map_err(|e| e.to_string())
    };
    let set = |h| service.tell(ServiceMsg::Set(h)).map_err(|e| e.to_string());

    println!("healthy: 3 threads x 20 calls and an actor's 10 calls");
    let answers = from_threads(&breaker, 3, 20);
    check(
        answers.iter().all(|a| a.is_ok()),
        "every healthy call succeeds",
    )?;
    let answers = client
        .ask(|r| ClientMsg::Run(10, r), WAIT)
        .map_err(|e| e.to_string())?;
    check(
        answers.len() == 10 && answers.iter().all(|a| a.is_ok()),
        "the actor's calls succeed",
    )?;

    println!("a burst of failures from one caller:");
    set(Health::Failing)?;
    // Calls until one fails fast: the breaker has opened.
    let mut failed = 0;
    while breaker
        .call(0, WAIT)
        .is_err_and(|e| matches!(e, CallError::Failed(_)))
    {
        failed += 1;
    }
    let t = watch.next()?;
    check(
        failed == 5 && t.to == State::Open && t.reason == Reason::ConsecutiveFailures(5),
        "five failures in a row open the breaker",
    )?;
    let before = seen()?;
    let answers = from_threads(&breaker, 3, 10);
    let fast = answers
        .iter()
        .filter(|a| a.as_ref().is_err_and(|e| e.is_rejected()))
        .count();
    println!(
        "  while open: {fast} of {} calls failed fast",
        answers.len()
    );
    check(
        seen()? == before,
        "the service sees nothing while the breaker is open",
    )?;

    println!("the timer probes; the service still fails:");
    let t = watch.next()?;
    check(t.to == State::HalfOpen, "half-open after the reset timeout")?;
    check(breaker.call(1, WAIT).is_err(), "the probe fails")?;
    let t = watch.next()?;
    check(
        t.open_for == Some(Duration::from_millis(500)),
        "a failed probe doubles the open time",
    )?;

    println!("the service hangs; the next probe times out:");
    set(Health::Hanging)?;
    check(watch.next()?.to == State::HalfOpen, "half-open again")?;
    check(
        breaker.call(2, WAIT) == Err(CallError::Timeout),
        "the hung probe times out",
    )?;
    let t = watch.next()?;
    check(
        t.open_for == Some(Duration::from_millis(800)),
        "capped at the maximum",
    )?;
    let woken = service
        .ask(ServiceMsg::Wake, WAIT)
        .map_err(|e| e.to_string())?;
    check(woken == 1, "one call hung")?;

    println!("the service recovers; the next probe closes the breaker:");
    set(Health::Healthy)?;
    check(watch.next()?.to == State::HalfOpen, "half-open once more")?;
    check(breaker.call(21, WAIT) == Ok(42), "the probe succeeds")?;
    let t = watch.next()?;
    check(
        t.to == State::Closed && t.reason == Reason::ProbesSucceeded,
        "closed",
    )?;
    let answers = from_threads(&breaker, 3, 20);
    check(
        answers.iter().all(|a| a.is_ok()),
        "every call after recovery succeeds",
    )?;
    let answers = client
        .ask(|r| ClientMsg::Run(10, r), WAIT)
        .map_err(|e| e.to_string())?;
    check(
        answers.iter().all(|a| a.is_ok()),
        "the actor's calls succeed again",
    )?;

    let m = breaker.breaker_metrics(WAIT).map_err(|e| e.to_string())?;
    let late = outcomes.try_iter().filter(|o| *o == Outcome::Late).count();
    println!(
        "final: state {}, calls {}, successes {}, failures {}, timeouts {}, rejections {}, late answers {} ({late} reported), transitions {}",
        m.state,
        m.calls,
        m.successes,
        m.failures,
        m.timeouts,
        m.rejections,
        m.late_answers,
        m.transitions
    );
    check(m.state == State::Closed, "ends closed")?;
    check(
        m.successes == 60 + 10 + 1 + 60 + 10,
        "every healthy call counted once",
    )?;
    check(
        m.failures == 5 + 1 && m.timeouts == 1,
        "five failures, a failed probe and a timeout",
    )?;
    // The 30 calls while open, and the call that found the breaker open.
    check(
        m.rejections == 31 && fast == 30,
        "every call while open was rejected",
    )?;
    check(
        m.late_answers == 1 && late == 1,
        "the hung call's answer counted as late only",
    )?;
    check(
        m.calls == m.successes + m.failures + m.timeouts + m.ignored,
        "no call left in flight",
    )?;
    check(
        watch.seen.len() as u64 == m.transitions && m.transitions == 7,
        "seven transitions",
    )?;
    system.shutdown().map_err(|e| e.to_string())?;
    Ok(())
}

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => {
            println!("all checks passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
