//! An actor that suspends itself takes no user messages until it resumes; control items still run.

mod common;

use common::LIMIT;
use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System, TrySendError};
use std::time::Duration;

enum Msg {
    Pause,
    Item(u32),
    Seen(Reply<Vec<u32>>),
}

struct Pausing {
    seen: Vec<u32>,
}

impl Actor for Pausing {
    type Msg = Msg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Pause => {
                ctx.suspend();
                assert!(ctx.is_suspended());
                // Resume from the control lane a little later.
                ctx.run_after(Duration::from_millis(5), |me: &mut Pausing, ctx| {
                    me.seen.push(0);
                    ctx.resume();
                    Ok(())
                });
            }
            Msg::Item(n) => self.seen.push(n),
            Msg::Seen(r) => {
                let _ = r.send(self.seen.clone());
            }
        }
        Ok(())
    }
}

#[test]
fn suspended_actor_queues_messages_until_it_resumes() {
    let system = System::builder().workers(2).build().unwrap();
    let a = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(2), || Pausing {
            seen: Vec::new(),
        })
        .unwrap();
    a.tell(Msg::Pause).unwrap();
    a.tell(Msg::Item(1)).unwrap();
    a.tell(Msg::Item(2)).unwrap();
    // While suspended, the two items fill its mailbox: the third is refused,
    // unless it already resumed, in which case the continuation ran first.
    if let Err(TrySendError::Full(Msg::Item(3))) = a.try_tell(Msg::Item(3)) {
        a.tell(Msg::Item(3)).unwrap();
    }
    assert_eq!(a.ask(Msg::Seen, LIMIT).unwrap(), vec![0, 1, 2, 3]);
    system.shutdown().unwrap();
}

enum TMsg {
    /// Blocks the handler until the gate opens, after saying it started.
    Hold(common::Gate, crossbeam_channel::Sender<()>),
    Item,
    Count(Reply<u32>),
}

/// Counts items; suspends itself after the `suspend_at`-th for a moment.
struct Target {
    n: u32,
    suspend_at: u32,
}

impl Actor for Target {
    type Msg = TMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: TMsg) -> Result<(), ActorError> {
        match msg {
            TMsg::Hold(gate, started) => {
                let _ = started.send(());
                gate.wait();
            }
            TMsg::Item => {
                self.n += 1;
                if self.n == self.suspend_at {
                    ctx.suspend();
                    ctx.run_after(Duration::from_millis(20), |_: &mut Target, ctx| {
                        ctx.resume();
                        Ok(())
                    });
                }
            }
            TMsg::Count(r) => {
                let _ = r.send(self.n);
            }
        }
        Ok(())
    }
}

enum FMsg {
    /// Sends this many items to the target, then says so.
    Flood(u32, crossbeam_channel::Sender<()>),
    Ping(Reply<()>),
}

struct Flooder {
    target: playhouse::Addr<Target>,
}

impl Actor for Flooder {
    type Msg = FMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: FMsg) -> Result<(), ActorError> {
        match msg {
            FMsg::Flood(k, done) => {
                for _ in 0..k {
                    ctx.send(&self.target, TMsg::Item)
                        .map_err(|e| e.to_string())?;
                }
                let _ = done.send(());
            }
            FMsg::Ping(r) => {
                let _ = r.send(());
            }
        }
        Ok(())
    }
}

/// Regression: when an actor suspends, its mailbox gives back the places it
/// took and not yet gave back, which can move a parked send in. The actor
/// whose send that was must be resumed, or it stays suspended for ever.
///
/// The numbers pin the moment: a mailbox of 65 gives places back two at a
/// time and moves parked sends in at 32. The hold takes one place and the
/// flood the other 64, so the 65th item parks. After 32 items the target
/// has given back 32 places and holds one, and suspends: giving that one
/// back reaches 32 and moves the parked item in.
#[test]
fn a_parked_send_moved_in_as_its_target_suspends_resumes_its_sender() {
    common::init_log();
    let system = System::builder().workers(2).build().unwrap();
    let target = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(65), || Target {
            n: 0,
            suspend_at: 32,
        })
        .unwrap();
    let t = target.clone();
    let flooder = system.spawn(move || Flooder { target: t.clone() }).unwrap();
    let gate = common::Gate::new();
    let (started_tx, started) = crossbeam_channel::bounded(1);
    target.tell(TMsg::Hold(gate.clone(), started_tx)).unwrap();
    started
        .recv_timeout(LIMIT)
        .expect("the target took the hold");
    let (done_tx, done) = crossbeam_channel::bounded(1);
    flooder.tell(FMsg::Flood(65, done_tx)).unwrap();
    done.recv_timeout(LIMIT).expect("the flood was sent");
    gate.open();
    assert_eq!(target.ask(TMsg::Count, LIMIT).unwrap(), 65);
    flooder
        .ask(FMsg::Ping, LIMIT)
        .expect("the flooder resumed once its parked item moved in");
    system.shutdown().unwrap();
}

/// Handles numbers slowly (a little work each), checks their order, and
/// records the longest its mailbox got.
struct SlowCounter {
    next: u64,
    in_order: bool,
    peak: usize,
    done: crossbeam_channel::Sender<(u64, bool, usize)>,
    total: u64,
}

impl Actor for SlowCounter {
    type Msg = u64;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        self.in_order &= n == self.next;
        self.next = n + 1;
        self.peak = self.peak.max(ctx.addr().metrics().mailbox_len);
        let mut x = n;
        for _ in 0..20 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        if self.next == self.total {
            let _ = self.done.send((self.next, self.in_order, self.peak));
        }
        Ok(())
    }
}

/// Produces `total` numbers, yielding whenever `send_flow` says suspended.
struct Producer {
    to: playhouse::Addr<SlowCounter>,
    sent: u64,
    total: u64,
    yields: u64,
}

impl Actor for Producer {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        while self.sent < self.total {
            let n = self.sent;
            self.sent += 1;
            if ctx.send_flow(&self.to, n)? == playhouse::Flow::Suspended {
                self.yields += 1;
                ctx.send(&ctx.addr(), ())?;
                return Ok(());
            }
        }
        Ok(())
    }
}

#[test]
fn a_producer_that_yields_when_suspended_keeps_the_queue_near_capacity() {
    const TOTAL: u64 = 1_000_000;
    const CAPACITY: usize = 256;
    let system = System::builder().workers(2).build().unwrap();
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let counter = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(CAPACITY), move || {
            SlowCounter {
                next: 0,
                in_order: true,
                peak: 0,
                done: done_tx.clone(),
                total: TOTAL,
            }
        })
        .unwrap();
    let producer = system
        .spawn(move || Producer {
            to: counter.clone(),
            sent: 0,
            total: TOTAL,
            yields: 0,
        })
        .unwrap();
    producer.tell(()).unwrap();
    let (handled, in_order, peak) = done.recv_timeout(LIMIT).expect("all handled");
    assert_eq!(handled, TOTAL);
    assert!(in_order);
    // The capacity, and the one send parked when the producer learns it is
    // suspended; without yielding the producer would park nearly all of them.
    assert!(peak <= CAPACITY + 1, "peak queue {peak}");
    system.shutdown().unwrap();
}
