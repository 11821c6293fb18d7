//! Timers through the context: delayed and periodic messages, cancellation, and stop cancelling periodic ticks.

mod common;

use common::LIMIT;
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
    let system = System::builder().workers(2).build().unwrap();
    let t = system
        .spawn(|| Ticker {
            ticks: 0,
            onces: 0,
            every: None,
            stop_after: 5,
        })
        .unwrap();
    t.tell(Msg::Arm).unwrap();
    common::wait_until("five ticks and the delayed message", || {
        let (ticks, onces) = t.ask(Msg::Count, LIMIT).unwrap();
        ticks >= 5 && onces == 1
    });
    // Quiescence covers pending timers that are due; the cancelled series is
    // gone. A tick already queued when it was cancelled may still arrive, so
    // the count is read twice, a timer period apart, and must not move.
    system.await_quiescent(LIMIT).unwrap();
    let settled = t.ask(Msg::Count, LIMIT).unwrap();
    assert!(settled.0 >= 5 && settled.1 == 1, "{settled:?}");
    let later = std::time::Instant::now() + Duration::from_millis(10);
    common::wait_until("two timer periods passed", || {
        std::time::Instant::now() >= later
    });
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(
        t.ask(Msg::Count, LIMIT).unwrap(),
        settled,
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
    let system = System::builder().workers(1).build().unwrap();
    let d = dropped.clone();
    let f = system.spawn(move || Forever(d.clone())).unwrap();
    common::wait_until("the first tick stopped it", || !f.is_alive());
    // A live series would keep its closure (and the flag) for ever.
    common::wait_until("the timer dropped the cancelled series", || {
        dropped.load(Ordering::SeqCst)
    });
    system.await_quiescent(LIMIT).unwrap();
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
