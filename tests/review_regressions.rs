//! Regressions for defects a review found: each test failed before its fix.

mod common;

use common::{Gate, LIMIT};
use playhouse::{
    Actor, ActorError, Addr, AskError, Context, Reply, SendError, SpawnOptions, System,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// --- await_quiescent deadlocked on its own lock when a cancelled timer entry
// --- dropped a Reply whose asker had stopped.

enum BMsg {
    Req(Reply<u32>),
    Deferred(Reply<u32>),
}

struct Deferrer;

impl Actor for Deferrer {
    type Msg = BMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: BMsg) -> Result<(), ActorError> {
        match msg {
            BMsg::Req(r) => {
                let h = ctx.schedule_once(Duration::from_secs(20), BMsg::Deferred(r));
                h.cancel();
            }
            BMsg::Deferred(r) => drop(r.send(0)),
        }
        Ok(())
    }
}

struct Asker(Addr<Deferrer>);

impl Actor for Asker {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        ctx.ask(
            &self.0,
            BMsg::Req,
            Duration::from_secs(3600),
            |_: &mut Asker, _, _| {},
        )?;
        ctx.stop();
        Ok(())
    }
}

#[test]
fn quiescence_survives_a_cancelled_timer_dropping_a_reply() {
    let system = System::builder().workers(2).build().unwrap();
    let b = system.spawn(|| Deferrer).unwrap();
    let b2 = b.clone();
    let a = system.spawn(move || Asker(b2.clone())).unwrap();
    a.tell(()).unwrap();
    common::wait_until("asker stopped and request handled", || {
        !a.is_alive() && system.metrics().messages_handled == 2
    });
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::scope(|s| {
        s.spawn(|| {
            tx.send(system.await_quiescent(Duration::from_secs(2)))
                .unwrap()
        });
        let got = rx.recv_timeout(LIMIT).expect("await_quiescent deadlocked");
        assert!(got.is_ok());
    });
}

// --- A poller posting to itself used the whole shutdown budget draining.

struct Poller(Arc<AtomicU64>);

impl Actor for Poller {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        ctx.send(&ctx.addr(), ())?;
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_never_idle_actor_still_stops_within_the_shutdown_timeout() {
    let stopped = Arc::new(AtomicU64::new(0));
    let system = System::builder().workers(2).build().unwrap();
    let s = stopped.clone();
    let p = system.spawn(move || Poller(s.clone())).unwrap();
    p.tell(()).unwrap();
    // It stops in time, but its last message is lost, and shutdown says so.
    let err = system.shutdown_timeout(Duration::from_secs(2)).unwrap_err();
    assert!(err.dead_letters() >= 1, "{err}");
    assert!(
        err.stuck().is_empty() && err.abandoned().is_empty(),
        "{err}"
    );
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        1,
        "stopped hook ran before return"
    );
}

// --- A stuck handler made shutdown report (and detach) every idle worker too;
// --- a thread blocked in `tell` on the stuck actor stayed blocked for ever.

struct Stuck(Gate);

impl Actor for Stuck {
    type Msg = u32;
    fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
        if n == 0 {
            self.0.wait();
        }
        Ok(())
    }
}

#[test]
fn failed_shutdown_names_only_the_stuck_worker_and_frees_blocked_senders() {
    let system = System::builder().workers(4).name("rvA").build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let a = system
        .spawn_with(
            SpawnOptions::new().name("sleeper").mailbox_capacity(1),
            move || Stuck(g.clone()),
        )
        .unwrap();
    a.tell(0).unwrap();
    common::wait_until("handler running", || a.metrics().mailbox_len == 0);
    a.tell(1).unwrap();
    let blocked = {
        let a = a.clone();
        std::thread::spawn(move || a.tell(2))
    };
    let err = system
        .shutdown_timeout(Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err.stuck().len(), 1, "{err}");
    assert_eq!(err.stuck()[0].actor, "sleeper");
    assert!(matches!(blocked.join().unwrap(), Err(SendError::Closed(2))));
    gate.open();
}

// --- User code panicking on a runtime path (a dead-letter hook, an actor's
// --- Drop) wedged the actor in RUNNING.

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

impl Actor for PanicsOnDrop {
    type Msg = u32;
    fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
        if n == 0 {
            return Err("fail".into());
        }
        Ok(())
    }
}

#[test]
fn panics_in_drops_and_hooks_do_not_wedge_actors() {
    let system = System::builder()
        .workers(1)
        .on_dead_letter(|_| panic!("hook panicked"))
        .build()
        .unwrap();
    let a = system.spawn(|| PanicsOnDrop).unwrap();
    let b = system.spawn(|| PanicsOnDrop).unwrap();
    a.tell(0).unwrap(); // fails: dead letter (hook panics), instance dropped (Drop panics)
    b.stop(); // stops: instance dropped (Drop panics)
    system.await_quiescent(LIMIT).unwrap();
    assert!(!a.is_alive() && !b.is_alive());
    system.shutdown_timeout(LIMIT).unwrap();
}

// --- A panicking message mapping leaked an in-flight count for good.

#[test]
fn a_panicking_mapping_leaves_no_work_in_flight() {
    let system = System::builder().workers(1).build().unwrap();
    let a = system.spawn(|| PanicsOnDrop).unwrap();
    // Idle first, so the failing send is the one that schedules the actor:
    // its panic must not leave the actor scheduled but never queued.
    system.await_quiescent(LIMIT).unwrap();
    let r = a.recipient_with(|x: u32| if x == 0 { panic!("bad mapping") } else { x });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.try_tell(0)));
    assert!(caught.is_err());
    r.tell(1).unwrap();
    system.await_quiescent(LIMIT).unwrap();
}

// --- Sends to self filled the mailbox for good and starved parked senders.

enum TMsg {
    Loop(u32),
    Data,
    Seen(Reply<u32>),
}

struct Looper {
    data: u32,
}

impl Actor for Looper {
    type Msg = TMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: TMsg) -> Result<(), ActorError> {
        match msg {
            TMsg::Loop(n) if n > 0 => ctx.send(&ctx.addr(), TMsg::Loop(n - 1))?,
            TMsg::Loop(_) => {}
            TMsg::Data => self.data += 1,
            TMsg::Seen(r) => {
                let _ = r.send(self.data);
            }
        }
        Ok(())
    }
}

struct Feeder {
    target: Addr<Looper>,
    looping: Arc<AtomicU64>,
}

impl Actor for Feeder {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for _ in 0..4 {
            ctx.send(&self.target, TMsg::Data)?;
        }
        self.looping.store(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn sends_to_self_do_not_starve_other_senders() {
    let system = System::builder().workers(2).build().unwrap();
    let t = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(4), || Looper {
            data: 0,
        })
        .unwrap();
    // Eight self-posting loops, far more than the capacity, run for a long time.
    for _ in 0..8 {
        t.tell(TMsg::Loop(1_000_000)).unwrap();
    }
    let fed = Arc::new(AtomicU64::new(0));
    let (t2, f2) = (t.clone(), fed.clone());
    let feeder = system
        .spawn(move || Feeder {
            target: t2.clone(),
            looping: f2.clone(),
        })
        .unwrap();
    feeder.tell(()).unwrap();
    // The data gets in while the loops are still running.
    common::wait_until("the feeder's data arrived", || {
        t.ask(TMsg::Seen, LIMIT).unwrap() == 4
    });
    t.stop();
}

// --- Actor ids were per system, so a send to another system's actor with the
// --- same id was taken for a send to self (no backpressure).

struct Sink(Gate);

impl Actor for Sink {
    type Msg = u32;
    fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
        if n == 0 {
            self.0.wait();
        }
        Ok(())
    }
}

struct CrossSender(Addr<Sink>);

impl Actor for CrossSender {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for n in 1..=10 {
            ctx.send(&self.0, n)?;
        }
        Ok(())
    }
}

#[test]
fn sends_across_systems_get_backpressure() {
    let s1 = System::builder().workers(1).build().unwrap();
    let s2 = System::builder().workers(1).build().unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let sink = s2
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), move || {
            Sink(g.clone())
        })
        .unwrap();
    sink.tell(0).unwrap();
    common::wait_until("sink blocked", || sink.metrics().mailbox_len == 0);
    let sk = sink.clone();
    let sender = s1.spawn(move || CrossSender(sk.clone())).unwrap();
    assert_ne!(sender.id(), sink.id(), "ids are unique in the process");
    sender.tell(()).unwrap();
    s1.await_quiescent(LIMIT).unwrap();
    // 2 in the mailbox, the rest parked (counted in len, never over capacity).
    assert_eq!(sink.metrics().mailbox_len, 10);
    gate.open();
    s2.await_quiescent(LIMIT).unwrap();
    s1.await_quiescent(LIMIT).unwrap();
    assert_eq!(sink.metrics().messages_handled, 11);
}

// --- Huge timeouts overflowed `Instant + Duration` and panicked.

#[test]
fn duration_max_means_no_deadline() {
    let system = System::builder()
        .workers(1)
        .shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    let a = system.spawn(|| Looper { data: 0 }).unwrap();
    assert_eq!(a.ask(TMsg::Seen, Duration::MAX), Ok(0));
    a.tell_timeout(TMsg::Data, Duration::MAX).unwrap();
    system.await_quiescent(Duration::MAX).unwrap();
    a.stop();
    common::wait_until("stopped", || !a.is_alive());
    assert_eq!(a.ask(TMsg::Seen, Duration::MAX), Err(AskError::Closed));
    drop(system);
}
