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
