//! Scale: a hundred thousand actors, each told once and asked once.

mod common;

use common::LIMIT;
use playhouse::{Actor, ActorError, Context, Reply, System};

enum Msg {
    Add(u64),
    Get(Reply<u64>),
}

struct Cell(u64);

impl Actor for Cell {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Add(n) => self.0 += n,
            Msg::Get(r) => {
                let _ = r.send(self.0);
            }
        }
        Ok(())
    }
}

#[test]
fn hundred_thousand_actors_told_and_asked() {
    const N: u64 = 100_000;
    let system = System::builder().workers(2).build().unwrap();
    let addrs: Vec<_> = (0..N).map(|_| system.spawn(|| Cell(0)).unwrap()).collect();
    assert_eq!(system.metrics().actors_alive, N as usize);
    for (i, a) in addrs.iter().enumerate() {
        a.tell(Msg::Add(i as u64)).unwrap();
    }
    let mut sum = 0;
    for a in &addrs {
        sum += a.ask(Msg::Get, LIMIT).unwrap();
    }
    assert_eq!(sum, N * (N - 1) / 2);
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(system.metrics().messages_handled, 2 * N);
    system.shutdown_timeout(LIMIT).unwrap();
    assert!(addrs.iter().all(|a| !a.is_alive()));
}
