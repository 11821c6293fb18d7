//! Delivery from outside the pool: no loss, no duplication, per-sender order, and backpressure.

mod common;

use common::{Gate, LIMIT};
use playhouse::{
    Actor, ActorError, Context, Reply, SendTimeoutError, SpawnOptions, System, TrySendError,
};
use std::time::Duration;

enum Msg {
    Item { sender: usize, seq: u64 },
    Report(Reply<(u64, bool)>),
}

/// Counts items and checks that each sender's sequence numbers arrive in order.
struct Checker {
    next: Vec<u64>,
    count: u64,
    in_order: bool,
}

impl Actor for Checker {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Item { sender, seq } => {
                self.count += 1;
                if self.next[sender] != seq {
                    self.in_order = false;
                }
                self.next[sender] = seq + 1;
            }
            Msg::Report(r) => {
                let _ = r.send((self.count, self.in_order));
            }
        }
        Ok(())
    }
}

#[test]
fn four_senders_lose_and_duplicate_nothing_and_keep_order() {
    common::init_log();
    const SENDERS: usize = 4;
    const PER_SENDER: u64 = 100_000;
    let system = System::builder().workers(2).build().unwrap();
    let checker = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(16), || Checker {
            next: vec![0; SENDERS],
            count: 0,
            in_order: true,
        })
        .unwrap();
    std::thread::scope(|s| {
        for sender in 0..SENDERS {
            let checker = checker.clone();
            s.spawn(move || {
                for seq in 0..PER_SENDER {
                    checker.tell(Msg::Item { sender, seq }).unwrap();
                }
            });
        }
    });
    let (count, in_order) = checker.ask(Msg::Report, LIMIT).unwrap();
    assert_eq!(count, SENDERS as u64 * PER_SENDER);
    assert!(in_order, "per-sender order broken");
    system.shutdown().unwrap();
}

struct Gated {
    gate: Gate,
    seen: Vec<u32>,
}

enum GMsg {
    Block,
    Value(u32),
    Seen(Reply<Vec<u32>>),
}

impl Actor for Gated {
    type Msg = GMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: GMsg) -> Result<(), ActorError> {
        match msg {
            GMsg::Block => self.gate.wait(),
            GMsg::Value(v) => self.seen.push(v),
            GMsg::Seen(r) => {
                let _ = r.send(self.seen.clone());
            }
        }
        Ok(())
    }
}

fn gated(system: &System, capacity: usize) -> (playhouse::Addr<Gated>, Gate) {
    let gate = Gate::new();
    let g = gate.clone();
    let addr = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(capacity), move || {
            Gated {
                gate: g.clone(),
                seen: Vec::new(),
            }
        })
        .unwrap();
    (addr, gate)
}

#[test]
fn outside_sender_blocks_on_full_mailbox_and_resumes() {
    let system = System::builder().workers(1).build().unwrap();
    let (addr, gate) = gated(&system, 2);
    addr.tell(GMsg::Block).unwrap();
    // Wait until the actor is inside the blocking handler (its mailbox emptied).
    common::wait_until("the actor took the blocking message", || {
        addr.metrics().mailbox_len == 0
    });
    addr.tell(GMsg::Value(1)).unwrap();
    addr.tell(GMsg::Value(2)).unwrap();
    // Full now: try_tell hands the message back.
    match addr.try_tell(GMsg::Value(99)) {
        Err(TrySendError::Full(GMsg::Value(99))) => {}
        other => panic!("expected Full(99), got {other:?}"),
    }
    // tell_timeout gives up with the message.
    match addr.tell_timeout(GMsg::Value(98), Duration::from_millis(20)) {
        Err(SendTimeoutError::Timeout(GMsg::Value(98))) => {}
        other => panic!("expected Timeout(98), got {other:?}"),
    }
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let blocked = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let r = addr.tell(GMsg::Value(3));
            done_tx.send(()).unwrap();
            r.is_ok()
        })
    };
    // The sender cannot finish while the mailbox stays full.
    assert!(done_rx.recv_timeout(Duration::from_millis(100)).is_err());
    gate.open();
    assert!(blocked.join().unwrap(), "blocked sender did not resume");
    assert_eq!(addr.ask(GMsg::Seen, LIMIT).unwrap(), vec![1, 2, 3]);
    system.shutdown().unwrap();
}

#[test]
fn recipient_hands_back_its_own_message_type() {
    let system = System::builder().workers(1).build().unwrap();
    let (addr, gate) = gated(&system, 1);
    addr.tell(GMsg::Block).unwrap();
    common::wait_until("the actor took the blocking message", || {
        addr.metrics().mailbox_len == 0
    });
    let values = addr.recipient_with(GMsg::Value);
    values.tell(10).unwrap();
    assert_eq!(values.try_tell(11), Err(TrySendError::Full(11)));
    gate.open();
    values.tell(12).unwrap();
    assert_eq!(addr.ask(GMsg::Seen, LIMIT).unwrap(), vec![10, 12]);
    addr.stop();
    common::wait_until("the actor stopped", || !values.is_alive());
    assert_eq!(values.try_tell(13), Err(TrySendError::Closed(13)));
    system.shutdown().unwrap();
}
