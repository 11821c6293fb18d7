//! Ask: answers, timeouts, stopped actors, dropped replies, deadlines that travel, continuations, self-asks.

mod common;

use common::{Gate, LIMIT};
use playhouse::{
    Actor, ActorError, Addr, AskError, Context, DeadLetterReason, Reply, SpawnOptions, System,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

enum Msg {
    Echo(u32, Reply<u32>),
    Ignore(Reply<u32>),
    Drop(Reply<u32>),
    Block,
    Handled(Reply<u32>),
}

struct Server {
    gate: Gate,
    kept: Vec<Reply<u32>>,
    handled_echoes: u32,
}

impl Actor for Server {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Echo(v, r) => {
                self.handled_echoes += 1;
                let _ = r.send(v);
            }
            Msg::Ignore(r) => self.kept.push(r),
            Msg::Drop(r) => drop(r),
            Msg::Block => self.gate.wait(),
            Msg::Handled(r) => {
                let _ = r.send(self.handled_echoes);
            }
        }
        Ok(())
    }
}

fn server(system: &System) -> (Addr<Server>, Gate) {
    let gate = Gate::new();
    let g = gate.clone();
    let addr = system
        .spawn(move || Server {
            gate: g.clone(),
            kept: Vec::new(),
            handled_echoes: 0,
        })
        .unwrap();
    (addr, gate)
}

#[test]
fn ask_gets_the_answer() {
    let system = System::builder().workers(2).build().unwrap();
    let (s, _) = server(&system);
    assert_eq!(s.ask(|r| Msg::Echo(7, r), LIMIT), Ok(7));
}

#[test]
fn ask_times_out_when_no_answer_comes() {
    let system = System::builder().workers(2).build().unwrap();
    let (s, _) = server(&system);
    assert_eq!(
        s.ask(Msg::Ignore, Duration::from_millis(30)),
        Err(AskError::Timeout)
    );
}

#[test]
fn dropped_reply_fails_the_ask_at_once() {
    let system = System::builder().workers(2).build().unwrap();
    let (s, _) = server(&system);
    // With a long timeout, only the drop notice can end the ask this way.
    assert_eq!(
        s.ask(Msg::Drop, Duration::from_secs(600)),
        Err(AskError::ReplyDropped)
    );
}

#[test]
fn asking_a_stopped_actor_is_closed() {
    let system = System::builder().workers(2).build().unwrap();
    let (s, _) = server(&system);
    s.stop();
    common::wait_until("the server stopped", || !s.is_alive());
    assert_eq!(s.ask(|r| Msg::Echo(1, r), LIMIT), Err(AskError::Closed));
}

#[test]
fn request_whose_asker_timed_out_is_never_handled() {
    let letters = Arc::new(Mutex::new(Vec::new()));
    let l = letters.clone();
    let system = System::builder()
        .workers(1)
        .on_dead_letter(move |d| l.lock().unwrap().push(d.reason))
        .build()
        .unwrap();
    let (s, gate) = server(&system);
    s.tell(Msg::Block).unwrap();
    // Queued behind the blocked handler; the asker gives up first.
    assert_eq!(
        s.ask(|r| Msg::Echo(1, r), Duration::from_millis(30)),
        Err(AskError::Timeout)
    );
    gate.open();
    assert_eq!(
        s.ask(Msg::Handled, LIMIT),
        Ok(0),
        "expired request was handled"
    );
    assert_eq!(*letters.lock().unwrap(), vec![DeadLetterReason::AskerGone]);
    assert_eq!(system.metrics().dead_letters, 1);
}

#[test]
fn queued_requests_fail_as_closed_when_the_actor_stops() {
    let system = System::builder().workers(1).build().unwrap();
    let (s, gate) = server(&system);
    s.tell(Msg::Block).unwrap();
    let asker = {
        let s = s.clone();
        std::thread::spawn(move || s.ask(|r| Msg::Echo(1, r), LIMIT))
    };
    common::wait_until("the request is queued", || s.metrics().mailbox_len == 1);
    s.stop();
    gate.open();
    assert_eq!(asker.join().unwrap(), Err(AskError::Closed));
}

enum CMsg {
    Go(Addr<Server>),
    SelfAsk,
    BlockingAsk(Addr<Server>),
    Result(Reply<Vec<String>>),
}

/// Records the outcome of asks made from inside the pool.
struct Client {
    log: Vec<String>,
}

impl Actor for Client {
    type Msg = CMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: CMsg) -> Result<(), ActorError> {
        match msg {
            CMsg::Go(server) => {
                ctx.ask(
                    &server,
                    |r| Msg::Echo(5, r),
                    LIMIT,
                    |me: &mut Client, _, v| {
                        me.log.push(format!("echo {v:?}"));
                    },
                )?;
                ctx.ask(
                    &server,
                    Msg::Ignore,
                    Duration::from_millis(20),
                    |me: &mut Client, _, v| me.log.push(format!("ignored {v:?}")),
                )?;
            }
            CMsg::SelfAsk => {
                let me = ctx.addr();
                let r = ctx.ask(&me, CMsg::Result, LIMIT, |_: &mut Client, _, _| {});
                self.log.push(format!("self {r:?}"));
            }
            CMsg::BlockingAsk(server) => {
                let r = server.ask(|r| Msg::Echo(1, r), LIMIT);
                self.log.push(format!("blocking {r:?}"));
            }
            CMsg::Result(r) => {
                let _ = r.send(self.log.clone());
            }
        }
        Ok(())
    }
}

#[test]
fn ask_from_an_actor_runs_a_continuation() {
    let system = System::builder().workers(2).build().unwrap();
    let (s, _) = server(&system);
    let c = system
        .spawn_with(SpawnOptions::new().name("client"), || Client {
            log: Vec::new(),
        })
        .unwrap();
    c.tell(CMsg::Go(s.clone())).unwrap();
    common::wait_until("both continuations ran", || {
        c.ask(CMsg::Result, LIMIT).unwrap().len() == 2
    });
    let log = c.ask(CMsg::Result, LIMIT).unwrap();
    assert!(log.contains(&"echo Ok(5)".to_string()), "{log:?}");
    assert!(log.contains(&"ignored Err(Timeout)".to_string()), "{log:?}");
}

#[test]
fn self_ask_and_blocking_ask_on_a_worker_are_errors() {
    let system = System::builder().workers(1).build().unwrap();
    let (s, _) = server(&system);
    let c = system.spawn(|| Client { log: Vec::new() }).unwrap();
    c.tell(CMsg::SelfAsk).unwrap();
    c.tell(CMsg::BlockingAsk(s)).unwrap();
    let log = c.ask(CMsg::Result, LIMIT).unwrap();
    assert_eq!(
        log,
        vec![
            "self Err(SelfAsk)".to_string(),
            "blocking Err(WouldBlockWorker)".to_string()
        ]
    );
}

struct Leaver {
    server: Addr<Server>,
}

impl Actor for Leaver {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        ctx.ask(
            &self.server,
            |r| Msg::Echo(3, r),
            LIMIT,
            |_: &mut Leaver, _, _| {},
        )?;
        ctx.stop();
        Ok(())
    }
}

#[test]
fn an_answer_for_an_asker_that_stopped_is_a_dead_letter() {
    let letters = Arc::new(Mutex::new(Vec::new()));
    let l = letters.clone();
    // Two workers: one is held by the blocked server.
    let system = System::builder()
        .workers(2)
        .on_dead_letter(move |d| l.lock().unwrap().push(d.message_type))
        .build()
        .unwrap();
    let (s, gate) = server(&system);
    // The server answers only after the asker has stopped.
    s.tell(Msg::Block).unwrap();
    let s2 = s.clone();
    let leaver = system.spawn(move || Leaver { server: s2.clone() }).unwrap();
    leaver.tell(()).unwrap();
    common::wait_until("the asker stopped", || !leaver.is_alive());
    gate.open();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        *letters.lock().unwrap(),
        vec!["u32"],
        "the answer was dead-lettered"
    );
}

enum Faulty {
    Panic(Reply<u32>),
    Fail(Reply<u32>),
    KeepThenFail(Reply<u32>),
    Ask(Addr<Flawed>, Reply<Result<u32, AskError>>),
}

/// Fails on every request it is asked.
struct Flawed {
    kept: Vec<Reply<u32>>,
}

impl Actor for Flawed {
    type Msg = Faulty;
    fn handle(&mut self, _: &mut Context<Self>, msg: Faulty) -> Result<(), ActorError> {
        match msg {
            Faulty::Panic(_r) => panic!("handler panicked"),
            Faulty::Fail(r) => {
                drop(r);
                Err("handler failed".into())
            }
            Faulty::KeepThenFail(r) => {
                self.kept.push(r);
                Err("failed after keeping the reply".into())
            }
            Faulty::Ask(..) => Ok(()),
        }
    }
}

#[test]
fn ask_whose_handler_fails_is_failed_not_reply_dropped() {
    let system = System::builder().workers(2).build().unwrap();
    for make in [Faulty::Panic, Faulty::Fail, Faulty::KeepThenFail] {
        let flawed = system.spawn(|| Flawed { kept: Vec::new() }).unwrap();
        // With a long timeout, only the failure can end the ask.
        assert_eq!(
            flawed.ask(make, Duration::from_secs(600)),
            Err(AskError::Failed)
        );
    }
    system.shutdown().unwrap();
}

/// Asks a `Flawed` from inside an actor and reports what its continuation got.
struct Asker;

impl Actor for Asker {
    type Msg = Faulty;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Faulty) -> Result<(), ActorError> {
        if let Faulty::Ask(target, report) = msg {
            ctx.ask(&target, Faulty::Fail, LIMIT, move |_, _, outcome| {
                let _ = report.send(outcome);
            })?;
        }
        Ok(())
    }
}

#[test]
fn an_actors_ask_whose_handler_fails_gets_failed() {
    let system = System::builder().workers(2).build().unwrap();
    let flawed = system.spawn(|| Flawed { kept: Vec::new() }).unwrap();
    let asker = system.spawn(|| Asker).unwrap();
    assert_eq!(
        asker.ask(|r| Faulty::Ask(flawed, r), LIMIT),
        Ok(Err(AskError::Failed))
    );
    system.shutdown().unwrap();
}

/// Asks for a [`Reply`] of its own and hands it out; reports the
/// continuation's outcome to the test.
struct SelfReplier {
    outcomes: crossbeam_channel::Sender<Result<u32, AskError>>,
    kept: Option<Reply<u32>>,
}

enum Hand {
    /// Answer it from another thread with this value.
    Thread(u32),
    Drop,
    /// Keep it unanswered; its timeout is this long.
    Keep(Duration),
}

impl Actor for SelfReplier {
    type Msg = Hand;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Hand) -> Result<(), ActorError> {
        let timeout = match msg {
            Hand::Keep(t) => Some(t),
            _ => None,
        };
        let reply = ctx.reply_to_self(timeout, |me: &mut SelfReplier, _, outcome| {
            let _ = me.outcomes.send(outcome);
        });
        match msg {
            Hand::Thread(v) => {
                std::thread::spawn(move || reply.send(v).expect("the actor waits"));
            }
            Hand::Drop => drop(reply),
            Hand::Keep(_) => self.kept = Some(reply),
        }
        Ok(())
    }
}

#[test]
fn reply_to_self_runs_the_continuation_with_the_answer_the_drop_or_the_timeout() {
    let system = System::new();
    let (tx, rx) = crossbeam_channel::unbounded();
    let actor = system
        .spawn(move || SelfReplier {
            outcomes: tx.clone(),
            kept: None,
        })
        .unwrap();
    actor.tell(Hand::Thread(7)).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(Ok(7)));
    actor.tell(Hand::Drop).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(Err(AskError::ReplyDropped)));
    // Kept and never answered: only the deadline can decide it.
    actor.tell(Hand::Keep(Duration::from_millis(1))).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok(Err(AskError::Timeout)));
    system.shutdown().unwrap();
}
