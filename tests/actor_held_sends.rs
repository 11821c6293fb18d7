//! A handler's sends behind one of its sends that parked are held in the turn and pushed when the handler returns: whole, in order, also when the handler panics or the target stops meanwhile.

mod common;

use common::{Gate, LIMIT, system_with_letters};
use crossbeam_channel::{Sender, bounded};
use playhouse::{
    Actor, ActorError, Addr, Context, DeadLetterReason, Flow, Reply, SpawnOptions, TrySendError,
};

/// What the recorder is told.
enum In {
    /// Tells `entered`, then blocks the recorder until the gate opens: the
    /// senders meanwhile fill its mailbox and park.
    Block(Gate, Sender<()>),
    /// Number `n` of producer `p`.
    Item(u32, u64),
    Report(Reply<Vec<(u32, u64)>>),
}

/// Records every item, in the order handled.
struct Recorder {
    got: Vec<(u32, u64)>,
    stopped: Option<Sender<usize>>,
    /// Told when item `.0` (of producer 0) has been handled.
    handled: Option<(u64, Sender<()>)>,
}

impl Actor for Recorder {
    type Msg = In;
    fn handle(&mut self, _: &mut Context<Self>, msg: In) -> Result<(), ActorError> {
        match msg {
            In::Block(gate, entered) => {
                entered.send(())?;
                gate.wait();
            }
            In::Item(p, n) => {
                self.got.push((p, n));
                if let Some((at, tx)) = &self.handled
                    && (p, n) == (0, *at)
                {
                    tx.send(())?;
                }
            }
            In::Report(r) => {
                let _ = r.send(self.got.clone());
            }
        }
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(tx) = &self.stopped {
            let _ = tx.send(self.got.len());
        }
    }
}

fn recorder(
    system: &playhouse::System,
    capacity: usize,
    stopped: Option<Sender<usize>>,
) -> (Addr<Recorder>, Gate) {
    recorder_with(system, capacity, stopped, None)
}

/// A recorder blocked in its first handler until the gate returned opens.
fn recorder_with(
    system: &playhouse::System,
    capacity: usize,
    stopped: Option<Sender<usize>>,
    handled: Option<(u64, Sender<()>)>,
) -> (Addr<Recorder>, Gate) {
    let rec = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(capacity), move || {
            Recorder {
                got: Vec::new(),
                stopped: stopped.clone(),
                handled: handled.clone(),
            }
        })
        .unwrap();
    let gate = Gate::new();
    let (entered_tx, entered) = bounded(1);
    rec.tell(In::Block(gate.clone(), entered_tx)).unwrap();
    entered.recv_timeout(LIMIT).expect("recorder blocked");
    (rec, gate)
}

/// Sends `count` items to the recorder in one handler, by turns with
/// `send_flow`, a plain `tell` and a `try_tell`, and reports which were
/// accepted and whether any send reported the actor suspended.
struct Burst {
    p: u32,
    to: Addr<Recorder>,
    count: u64,
    gate: Gate,
    done: Sender<(Vec<(u32, u64)>, bool)>,
}

impl Actor for Burst {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        let mut accepted = Vec::new();
        let mut suspended = false;
        for n in 0..self.count {
            let item = In::Item(self.p, n);
            match n % 3 {
                0 => suspended |= ctx.send_flow(&self.to, item)? == Flow::Suspended,
                1 => self.to.tell(item)?,
                _ => match self.to.try_tell(item) {
                    Ok(()) => {}
                    // Refused, not sent: it must never arrive.
                    Err(TrySendError::Full(_)) => continue,
                    Err(e) => return Err(e.to_string().into()),
                },
            }
            accepted.push((self.p, n));
        }
        self.gate.open();
        self.done.send((accepted, suspended))?;
        Ok(())
    }
}

#[test]
fn sends_behind_a_parked_one_arrive_whole_and_in_order_with_tells_and_try_tells_between() {
    let (system, letters) = system_with_letters(2);
    let (rec, gate) = recorder(&system, 4, None);
    let (done_tx, done) = bounded(2);
    for p in 0..2 {
        let (to, gate, done_tx) = (rec.clone(), gate.clone(), done_tx.clone());
        let producer = system
            .spawn(move || Burst {
                p,
                to: to.clone(),
                count: 300,
                gate: gate.clone(),
                done: done_tx.clone(),
            })
            .unwrap();
        producer.tell(()).unwrap();
    }
    let mut accepted = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        let (sent, suspended) = done.recv_timeout(LIMIT).expect("burst sent");
        assert!(
            suspended,
            "a send into the blocked recorder's full mailbox suspends its sender"
        );
        let p = sent[0].0 as usize;
        accepted[p] = sent;
    }
    system.await_quiescent(LIMIT).expect("every send handled");
    let got = rec.ask(In::Report, LIMIT).unwrap();
    for (p, sent) in accepted.iter().enumerate() {
        let of_p: Vec<_> = got
            .iter()
            .copied()
            .filter(|&(q, _)| q as usize == p)
            .collect();
        assert_eq!(&of_p, sent, "producer {p}: lost, duplicated or reordered");
        assert!(sent.len() >= 200, "only try_tells may be refused");
    }
    assert!(
        letters.lock().unwrap().is_empty(),
        "{:?}",
        letters.lock().unwrap()
    );
    system.shutdown().unwrap();
}

/// Sends `count` items with `ctx.send`, opens the gate, then panics.
struct SendsThenPanics {
    to: Addr<Recorder>,
    count: u64,
    gate: Gate,
}

impl Actor for SendsThenPanics {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for n in 0..self.count {
            ctx.send(&self.to, In::Item(0, n))?;
        }
        self.gate.open();
        panic!("fails after sending");
    }
}

#[test]
fn sends_held_by_a_handler_that_panics_are_delivered() {
    let (system, _letters) = system_with_letters(2);
    let (rec, gate) = recorder(&system, 4, None);
    let to = rec.clone();
    let producer = system
        .spawn(move || SendsThenPanics {
            to: to.clone(),
            count: 100,
            gate: gate.clone(),
        })
        .unwrap();
    producer.tell(()).unwrap();
    system.await_quiescent(LIMIT).expect("every send handled");
    let got = rec.ask(In::Report, LIMIT).unwrap();
    assert_eq!(got, (0..100).map(|n| (0, n)).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

/// Sends `count` items, stops the recorder, lets it go and waits until it
/// stopped, all in one handler: the sends it still holds find the
/// recorder's mailbox closed when the handler returns.
struct SendsThenStopsTarget {
    to: Addr<Recorder>,
    count: u64,
    gate: Gate,
    stopped: crossbeam_channel::Receiver<usize>,
    done: Sender<usize>,
}

impl Actor for SendsThenStopsTarget {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for n in 0..self.count {
            // Every send is accepted: the recorder is alive while they are made.
            ctx.send(&self.to, In::Item(0, n))?;
        }
        self.to.stop();
        self.gate.open();
        let handled = self.stopped.recv_timeout(LIMIT)?;
        self.done.send(handled)?;
        Ok(())
    }
}

#[test]
fn sends_held_for_an_actor_that_stopped_meanwhile_are_dead_letters() {
    let (system, letters) = system_with_letters(2);
    let (stopped_tx, stopped) = bounded(1);
    let (rec, gate) = recorder(&system, 1, Some(stopped_tx));
    let (done_tx, done) = bounded(1);
    let to = rec.clone();
    let producer = system
        .spawn(move || SendsThenStopsTarget {
            to: to.clone(),
            count: 10,
            gate: gate.clone(),
            stopped: stopped.clone(),
            done: done_tx.clone(),
        })
        .unwrap();
    producer.tell(()).unwrap();
    let handled = done.recv_timeout(LIMIT).expect("recorder stopped");
    // Counted in flight when held, uncounted as dead letters: the system
    // still comes to rest.
    system.await_quiescent(LIMIT).expect("no send left counted");
    let stopped_letters = letters
        .lock()
        .unwrap()
        .iter()
        .filter(|r| **r == DeadLetterReason::Stopped)
        .count();
    assert_eq!(
        handled + stopped_letters,
        10,
        "every send handled or a dead letter, once"
    );
    assert!(stopped_letters >= 8, "the held sends were not handled");
    system.shutdown().unwrap();
}

/// Sends items 0..8 into a mailbox of 4 whose actor is blocked (0-3 go in,
/// 4 parks, 5-7 are held), lets the actor go, waits until it handled 4 (the
/// parked run moved in, and the lane is empty), then `try_tell`s 8, for
/// which there is room even behind 5-7.
struct HoldsThenTryTells {
    to: Addr<Recorder>,
    gate: Gate,
    handled: crossbeam_channel::Receiver<()>,
    done: Sender<bool>,
}

impl Actor for HoldsThenTryTells {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        for n in 0..8 {
            ctx.send(&self.to, In::Item(0, n))?;
        }
        self.gate.open();
        self.handled.recv_timeout(LIMIT)?;
        let accepted = self.to.try_tell(In::Item(0, 8)).is_ok();
        self.done.send(accepted)?;
        Ok(())
    }
}

#[test]
fn a_try_tell_after_held_sends_goes_in_behind_them() {
    let (system, _letters) = system_with_letters(2);
    let (handled_tx, handled) = bounded(1);
    let (rec, gate) = recorder_with(&system, 4, None, Some((4, handled_tx)));
    let (done_tx, done) = bounded(1);
    let to = rec.clone();
    let producer = system
        .spawn(move || HoldsThenTryTells {
            to: to.clone(),
            gate: gate.clone(),
            handled: handled.clone(),
            done: done_tx.clone(),
        })
        .unwrap();
    producer.tell(()).unwrap();
    let accepted = done.recv_timeout(LIMIT).expect("producer done");
    assert!(accepted, "the recorder made room before the try_tell");
    system.await_quiescent(LIMIT).expect("every send handled");
    let got = rec.ask(In::Report, LIMIT).unwrap();
    assert_eq!(got, (0..=8).map(|n| (0, n)).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

/// Sends `count` items in its `started` hook, and as many more in its
/// `stopped` hook, with `ctx.send`: hooks hold sends as handlers do.
struct SendsFromHooks {
    to: Addr<Recorder>,
    count: u64,
    gate: Gate,
}

impl Actor for SendsFromHooks {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        for n in 0..self.count {
            ctx.send(&self.to, In::Item(0, n))?;
        }
        self.gate.open();
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
    fn stopped(&mut self, ctx: &mut Context<Self>) {
        for n in self.count..2 * self.count {
            let _ = ctx.send(&self.to, In::Item(0, n));
        }
    }
}

#[test]
fn sends_held_in_started_and_stopped_hooks_are_delivered() {
    let (system, letters) = system_with_letters(2);
    let (rec, gate) = recorder(&system, 4, None);
    let to = rec.clone();
    let hooks = system
        .spawn(move || SendsFromHooks {
            to: to.clone(),
            count: 50,
            gate: gate.clone(),
        })
        .unwrap();
    system
        .await_quiescent(LIMIT)
        .expect("the started hook's sends handled");
    // Block the recorder again, so the stopped hook's sends park and hold.
    let gate = Gate::new();
    let (entered_tx, entered) = bounded(1);
    rec.tell(In::Block(gate.clone(), entered_tx)).unwrap();
    entered.recv_timeout(LIMIT).expect("recorder blocked");
    hooks.stop();
    common::wait_until("the hooks actor stopped", || !hooks.is_alive());
    gate.open();
    system
        .await_quiescent(LIMIT)
        .expect("the stopped hook's sends handled");
    let got = rec.ask(In::Report, LIMIT).unwrap();
    assert_eq!(got, (0..100).map(|n| (0, n)).collect::<Vec<_>>());
    assert!(letters.lock().unwrap().is_empty());
    system.shutdown().unwrap();
}
