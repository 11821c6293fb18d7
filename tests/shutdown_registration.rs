//! Shutdown stops a top-level actor whose first turn (which registers it)
//! comes only after shutdown has listed the actors to stop.

mod common;

use common::{Gate, GateBlocker};
use playhouse::{Actor, ActorError, Context, System};
use std::sync::Arc;
use std::time::Duration;

struct Late {
    stopped: crossbeam_channel::Sender<&'static str>,
}

impl Actor for Late {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        let _ = self.stopped.send("late");
    }
}

/// Opens the gate when shutdown gives up draining, which it logs just
/// before it lists the actors to stop.
struct OpenOnDrainTimeout(Arc<Gate>);

impl log::Log for OpenOnDrainTimeout {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.level() == log::Level::Warn
            && record.args().to_string().contains("stopping actors anyway")
        {
            self.0.open();
        }
    }
    fn flush(&self) {}
}

#[test]
fn a_root_first_scheduled_after_shutdown_listed_the_actors_is_stopped_too() {
    let gate = Arc::new(Gate::new());
    log::set_boxed_logger(Box::new(OpenOnDrainTimeout(gate.clone()))).unwrap();
    log::set_max_level(log::LevelFilter::Warn);

    let system = System::builder().workers(1).build().unwrap();
    let (entered_tx, entered) = crossbeam_channel::bounded(1);
    let blocker = system
        .spawn(move || GateBlocker {
            entered: entered_tx.clone(),
            gate: gate.clone(),
        })
        .unwrap();
    blocker.tell(()).unwrap();
    entered.recv_timeout(common::LIMIT).unwrap();
    // The only worker is busy: this actor's first turn waits behind the
    // blocked handler, past the end of shutdown's drain (half its timeout).
    let (stopped_tx, stopped) = crossbeam_channel::unbounded();
    system
        .spawn(move || Late {
            stopped: stopped_tx.clone(),
        })
        .unwrap();
    let result = system.shutdown_timeout(Duration::from_secs(2));
    assert!(result.is_ok(), "shutdown left an actor running: {result:?}");
    assert_eq!(stopped.try_recv(), Ok("late"), "the late actor was stopped");
}
