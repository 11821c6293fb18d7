//! Stress: a chain of small-mailbox actors fed by blocking outside senders, each stage forwarding with `ctx.send` (so sends park), with feedback from the last stage to the first.
//!
//! The feedback edge makes the wait graph's cycle-breaking path run. Every
//! message must arrive: a lost wake-up or a place never given back shows as
//! the system never becoming quiescent.

mod common;

use common::LIMIT;
use playhouse::{Actor, ActorError, Addr, Context, Reply, SpawnOptions, System};
use std::sync::{Arc, OnceLock};

enum Msg {
    Item(u64),
    Ping,
    Count(Reply<(u64, u64)>),
}

struct Stage {
    next: Option<Addr<Stage>>,
    back: Arc<OnceLock<Addr<Stage>>>,
    items: u64,
    pings: u64,
}

impl Actor for Stage {
    type Msg = Msg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Item(n) => {
                self.items += 1;
                match &self.next {
                    Some(next) => {
                        let _ = ctx.send(next, Msg::Item(n));
                    }
                    None => {
                        if n % 5 == 0
                            && let Some(first) = self.back.get()
                        {
                            let _ = ctx.send(first, Msg::Ping);
                        }
                    }
                }
            }
            Msg::Ping => self.pings += 1,
            Msg::Count(r) => {
                let _ = r.send((self.items, self.pings));
            }
        }
        Ok(())
    }
}

fn round(capacity: usize, throughput: usize, per_sender: u64) {
    let system = System::builder().workers(2).build().unwrap();
    let opts = || {
        SpawnOptions::new()
            .mailbox_capacity(capacity)
            .throughput(throughput)
    };
    let back = Arc::new(OnceLock::new());
    let mk = |next: Option<Addr<Stage>>| {
        let back = back.clone();
        system
            .spawn_with(opts(), move || Stage {
                next: next.clone(),
                back: back.clone(),
                items: 0,
                pings: 0,
            })
            .unwrap()
    };
    let c = mk(None);
    let b = mk(Some(c.clone()));
    let a = mk(Some(b.clone()));
    back.set(a.clone()).ok().unwrap();
    let senders: Vec<_> = (0..2)
        .map(|s| {
            let a = a.clone();
            std::thread::spawn(move || {
                for i in 0..per_sender {
                    a.tell(Msg::Item(s * per_sender + i)).unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let total = 2 * per_sender;
    let pings = (0..total).filter(|n| n % 5 == 0).count() as u64;
    if let Err(e) = system.await_quiescent(LIMIT) {
        panic!("cap {capacity} tp {throughput}: {e}");
    }
    let (items_c, _) = c.ask(Msg::Count, LIMIT).expect("c answers");
    let (_, pings_a) = a.ask(Msg::Count, LIMIT).expect("a answers");
    assert_eq!(
        (items_c, pings_a),
        (total, pings),
        "cap {capacity} tp {throughput}: items through the chain, pings back"
    );
    system.shutdown().unwrap();
}

#[test]
fn chain_with_parking_and_feedback_delivers_everything() {
    let rounds: usize = std::env::var("STRESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for _ in 0..rounds {
        for capacity in [1, 2, 3, 64, 65] {
            for throughput in [1, 2, 100] {
                round(capacity, throughput, 2_000);
            }
        }
    }
}
