//! Timers through the context: delayed and periodic messages, cancellation, and stop cancelling periodic ticks.

mod common;

use common::LIMIT;
use playhouse::testkit::{ManualClock, await_stopped};
use playhouse::{Actor, ActorError, Context, Reply, System, TimerHandle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

enum Msg {
    Arm,
    Tick,
    Once,
    Count(Reply<(u32, u32)>),
}

struct Ticker {
    ticks: u32,
    onces: u32,
    every: Option<TimerHandle>,
    stop_after: u32,
}

impl Actor for Ticker {
    type Msg = Msg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Arm => {
                ctx.schedule_once(Duration::from_millis(5), Msg::Once);
                // Far enough out that it cannot fire before the cancel below.
                let cancelled = ctx.schedule_once(Duration::from_secs(60), Msg::Once);
                assert!(cancelled.cancel());
                self.every = Some(ctx.schedule_every(Duration::from_millis(2), || Msg::Tick)?);
            }
            Msg::Tick => {
                self.ticks += 1;
                if self.ticks == self.stop_after {
                    self.every.as_ref().unwrap().cancel();
                }
            }
            Msg::Once => self.onces += 1,
            Msg::Count(r) => {
                let _ = r.send((self.ticks, self.onces));
            }
        }
        Ok(())
    }
}

#[test]
fn once_fires_once_and_every_fires_until_cancelled() {
    let clock = ManualClock::new();
    let system = System::builder()
        .workers(2)
        .clock(clock.clone())
        .build()
        .unwrap();
    let t = system
        .spawn(|| Ticker {
            ticks: 0,
            onces: 0,
            every: None,
            stop_after: 5,
        })
        .unwrap();
    t.tell(Msg::Arm).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    // Ticks every 2 ms, the delayed message at 5 ms: exact counts at each
    // millisecond, since time moves only here.
    let expected = [
        (0, 0),
        (0, 0),
        (1, 0),
        (1, 0),
        (2, 0),
        (2, 1),
        (3, 1),
        (3, 1),
        (4, 1),
        (4, 1),
        (5, 1),
    ];
    for (ms, counts) in expected.into_iter().enumerate().skip(1) {
        clock.advance(Duration::from_millis(1));
        system.await_quiescent(LIMIT).unwrap();
        assert_eq!(t.ask(Msg::Count, LIMIT).unwrap(), counts, "at {ms} ms");
    }
    // The fifth tick cancelled the series; the cancelled one-shot never fires.
    clock.advance(Duration::from_secs(120));
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        t.ask(Msg::Count, LIMIT).unwrap(),
        (5, 1),
        "ticks after cancel"
    );
}

/// Signals when dropped: the timer dropped the periodic entry that owned it.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn stopping_an_actor_cancels_its_periodic_timers() {
    struct Forever(Arc<AtomicBool>);
    impl Actor for Forever {
        type Msg = ();
        fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
            let flag = DropFlag(self.0.clone());
            ctx.schedule_every(Duration::from_millis(1), move || {
                let _owned = &flag;
            })?;
            Ok(())
        }
        fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
            ctx.stop();
            Ok(())
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let clock = ManualClock::new();
    let system = System::builder()
        .workers(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let d = dropped.clone();
    let f = system.spawn(move || Forever(d.clone())).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert!(f.is_alive());
    clock.advance(Duration::from_millis(1));
    await_stopped(&system, &f, LIMIT).unwrap();
    // Quiescence looks at the timer, which drops the cancelled series it
    // finds; a live series would keep its closure (and the flag) for ever.
    system.await_quiescent(LIMIT).unwrap();
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn zero_period_is_a_typed_error() {
    struct Z;
    impl Actor for Z {
        type Msg = Reply<Option<&'static str>>;
        fn handle(&mut self, ctx: &mut Context<Self>, r: Self::Msg) -> Result<(), ActorError> {
            let e = ctx
                .schedule_every(Duration::ZERO, || unreachable!())
                .unwrap_err();
            let _ = r.send(e.setting());
            Ok(())
        }
    }
    let system = System::builder().workers(1).build().unwrap();
    let z = system.spawn(|| Z).unwrap();
    assert_eq!(z.ask(|r| r, LIMIT).unwrap(), Some("period"));
}
